"""Lesson 02: a service deployed as virtual machines behind a load balancer.

Two models:

* :func:`run_vm` follows one service through time. The **pipeline** builds the code and bakes a machine image
  (an AMI); an **Auto Scaling group** launches instances from it and keeps the desired number healthy; an
  Application **Load Balancer** health-checks every registered instance and routes requests only to healthy
  ones. An instance's service can crash (the VM keeps running), and a new image can be rolled out by an
  instance refresh, a batch of instances at a time.
* :func:`run_packing` asks what fixed instance sizes cost: how many instances of each type a workload needs
  and how much of what you pay for sits idle.

Defaults follow the AWS documentation (the lesson names each page); times AWS publishes no figure for (build,
bake, launch, boot) are assumptions, and say so. Health checks per target run every
``health_check_interval_s`` from the moment the target is registered; a failed check is known when its
timeout expires; a new target needs one passing check, an unhealthy one ``healthy_threshold`` in a row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Result, Schema, Series, Trace
from labsupport.sim.catalogue import INSTANCE_TYPES, instance_type

__all__ = [
    "ACTORS",
    "PACKING_SCHEMA",
    "PackingParams",
    "Phase",
    "VmDeployment",
    "VmParams",
    "refresh_batch_size",
    "run_packing",
    "run_vm",
]

#: Who acts in the trace.
ACTORS = ("pipeline", "auto-scaling", "load-balancer", "fault")
PIPELINE, ASG, ELB, FAULT = ACTORS


class Phase(IntEnum):
    """What a row of the timeline is doing (the code stored in ``segment_phase``)."""

    BUILD = 0  # pipeline: compile, test, package the service
    BAKE = 1  # pipeline: boot a builder VM, install the package, snapshot it as an AMI
    PENDING = 2  # instance launching, not yet InService
    BOOTING = 3  # InService and registered; the target is "initial": the service is not answering yet
    HEALTHY = 4  # the load balancer routes requests to it
    FAILING = 5  # the service crashed, but the target is still "healthy": its requests fail
    UNHEALTHY = 6  # the load balancer stopped routing to it
    DRAINING = 7  # deregistered: in-flight requests finish, then the instance terminates


@dataclass(frozen=True, slots=True)
class VmParams:
    """Parameters of :func:`run_vm`. Times in seconds. The lesson names the source of each default."""

    desired_capacity: int = 3
    instance_type: str = "m5.large"
    build_s: float = 120.0  # assumption: compile, unit tests, package
    bake_s: float = 420.0  # assumption: Packer or EC2 Image Builder; minutes, not seconds
    launch_s: float = 30.0  # assumption: pending -> InService
    boot_s: float = 45.0  # assumption: OS boot and service start after InService
    boot_jitter: float = 0.2  # each boot takes boot_s times a uniform draw in [1 - jitter, 1 + jitter]
    health_check_interval_s: int = 30  # ALB default
    health_check_timeout_s: int = 5  # ALB default for HTTP target groups
    healthy_threshold: int = 5  # ALB default
    unhealthy_threshold: int = 2  # ALB default
    health_check_type: str = "ELB"  # "EC2" is the Auto Scaling default: it never sees a crashed service
    grace_period_s: float = 300.0  # console default (the API and CloudFormation default is 0)
    deregistration_delay_s: float = 300.0  # target group default
    min_healthy_percentage: int = 90  # instance refresh default
    instance_warmup_s: float | None = None  # None: the grace period, as AWS does
    crash_at_s: float | None = 1200.0
    crash_instance: int = 0  # which of the instances in service at crash time (by launch order)
    deploy_at_s: float | None = 1500.0  # a commit of version 2 starts the pipeline again
    duration_s: float = 3600.0
    step_s: float = 10.0

    def validated(self) -> VmParams:
        check_int("desired_capacity", self.desired_capacity, low=1, high=20)
        instance_type(self.instance_type)
        duration = check_number("duration_s", self.duration_s, low=60, high=6 * 3600)
        for name in ("build_s", "bake_s", "launch_s", "boot_s"):
            check_number(name, getattr(self, name), low=0, high=3600)
        check_number("boot_jitter", self.boot_jitter, low=0, high=0.9)
        interval = check_int("health_check_interval_s", self.health_check_interval_s, low=5, high=300)
        timeout = check_int("health_check_timeout_s", self.health_check_timeout_s, low=2, high=120)
        if timeout >= interval:
            raise ParameterError(f"health_check_timeout_s ({timeout}) must be less than "
                                 f"health_check_interval_s ({interval})")
        check_int("healthy_threshold", self.healthy_threshold, low=2, high=10)
        check_int("unhealthy_threshold", self.unhealthy_threshold, low=2, high=10)
        if self.health_check_type not in ("ELB", "EC2"):
            raise ParameterError(f"health_check_type must be 'ELB' or 'EC2', got {self.health_check_type!r}")
        check_number("grace_period_s", self.grace_period_s, low=0, high=7200)
        check_number("deregistration_delay_s", self.deregistration_delay_s, low=0, high=3600)
        check_int("min_healthy_percentage", self.min_healthy_percentage, low=0, high=100)
        if self.instance_warmup_s is not None:
            check_number("instance_warmup_s", self.instance_warmup_s, low=0, high=3600)
        if self.crash_at_s is not None:
            check_number("crash_at_s", self.crash_at_s, low=0, high=duration)
            check_int("crash_instance", self.crash_instance, low=0, high=self.desired_capacity - 1)
        if self.deploy_at_s is not None:
            check_number("deploy_at_s", self.deploy_at_s, low=0, high=duration)
        check_number("step_s", self.step_s, low=1, high=duration / 10)
        return self

    @property
    def warmup_s(self) -> float:
        return self.grace_period_s if self.instance_warmup_s is None else float(self.instance_warmup_s)


def refresh_batch_size(desired: int, min_healthy_percentage: int) -> int:
    """How many instances an instance refresh replaces at a time: it keeps ``ceil(desired × pct / 100)``
    in service, and always replaces at least one."""
    keep = math.ceil(desired * min_healthy_percentage / 100 - 1e-9)
    return max(1, desired - keep)


# Priorities at equal times: a crash before a check that could see it; a check's result before the ASG acts;
# the state is sampled after everything else that happens at a step's time.
_P_FAULT, _P_CHECK, _P_RESULT, _P_LIFECYCLE, _P_SAMPLE = 0, 1, 2, 3, 9


@dataclass
class _Instance:
    id: str
    version: int
    row: int
    boot_s: float
    in_service_s: float | None = None
    ready_s: float | None = None
    registered: bool = False
    target: str = "none"  # none, initial, healthy, unhealthy, draining
    crashed: bool = False
    fails: int = 0
    passes: int = 0
    leaving: bool = False  # terminating or draining: no longer counts towards the desired capacity
    phase: Phase = Phase.PENDING
    gone: bool = False  # terminated: no longer billed


@dataclass
class _Refresh:
    """An instance refresh in progress."""

    version: int
    start_s: float
    commit_s: float
    replaced: int = 0


_TIME, _ROW, _SEGMENT = ("time",), ("row",), ("segment",)


class VmDeployment(Simulation):
    """:func:`run_vm`'s model: the pipeline, the Auto Scaling group and the load balancer, one handler per event."""

    SCHEMA = Schema("vm", (
        Series("time_s", "s", _TIME, "the sampling grid, every step_s"),
        Series("healthy", "count", _TIME, "targets the load balancer routes to (any version)"),
        Series("healthy_v1", "count", _TIME, "healthy targets running version 1"),
        Series("healthy_v2", "count", _TIME, "healthy targets running version 2"),
        Series("serving_errors", "count", _TIME, "healthy targets whose service is dead: their requests fail"),
        Series("in_service", "count", _TIME, "InService instances that count towards the desired capacity"),
        Series("running", "count", _TIME, "instances not yet terminated (billed)"),
        Series("desired", "count", _TIME, "the group's desired capacity"),
        Series("row_label", "", _ROW, "each timeline row: a pipeline run or an instance"),
        Series("row_version", "", _ROW, "the version each row builds or runs"),
        Series("segment_row", "", _SEGMENT, "the row of each phase segment"),
        Series("segment_phase", "", _SEGMENT, "the Phase code of each segment"),
        Series("segment_start_s", "s", _SEGMENT),
        Series("segment_end_s", "s", _SEGMENT),
    ))

    def __init__(self, p: VmParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        self.instances: list[_Instance] = []
        self.row_labels: list[str] = []
        self.row_versions: list[int] = []
        self.segments: list[list[float]] = []  # [row, phase, start, end]
        self.open_segment: dict[int, int] = {}  # row -> index in segments
        self.warmup = p.warmup_s
        self.batch_size = refresh_batch_size(p.desired_capacity, p.min_healthy_percentage)
        self.image = 0
        self.refresh: _Refresh | None = None
        self.commit_s = {1: 0.0}
        self.first_deploy_done = False
        steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
        self.time_grid = np.arange(steps) * p.step_s
        self.healthy = np.zeros((steps, 3), dtype=np.int64)  # any version, v1, v2
        self.in_service = np.zeros(steps, dtype=np.int64)
        self.running = np.zeros(steps, dtype=np.int64)
        self.failing = np.zeros(steps, dtype=np.int64)
        self.sampled = 0

    # -- helpers ----------------------------------------------------------------------------------------
    def emit(self, kind: str, subject: str, actor: str, **data: object) -> None:
        self.record(kind, subject, actor, at_s=round(self.now, 3), **data)

    def set_phase(self, row: int, phase: Phase | None) -> None:
        if row in self.open_segment:
            self.segments[self.open_segment.pop(row)][3] = self.now
        if phase is not None:
            self.open_segment[row] = len(self.segments)
            self.segments.append([row, int(phase), self.now, self.p.duration_s])

    def new_row(self, label: str, version: int) -> int:
        self.row_labels.append(label)
        self.row_versions.append(version)
        return len(self.row_labels) - 1

    def move(self, inst: _Instance, phase: Phase) -> None:
        if inst.phase != phase:
            inst.phase = phase
            self.set_phase(inst.row, phase)

    def counted(self) -> list[_Instance]:
        """Instances that count towards the desired capacity."""
        return [i for i in self.instances if not i.leaving]

    def launch(self) -> None:
        p, version = self.p, self.image
        boot = p.boot_s * (1 + p.boot_jitter * (2 * float(self.random.random()) - 1)) if p.boot_jitter else p.boot_s
        boot = round(boot, 1)
        name = f"i-{len(self.instances) + 1:02d}"
        inst = _Instance(name, version, self.new_row(name, version), boot)
        self.instances.append(inst)
        self.emit("launch", name, ASG, version=f"v{version}", image=f"ami-v{version}", boot_s=boot)
        self.set_phase(inst.row, Phase.PENDING)
        self.schedule(self.now + p.launch_s, "in-service", priority=_P_LIFECYCLE, inst=inst)

    def terminate(self, inst: _Instance, why: str) -> None:
        inst.leaving = True
        self.emit("terminate", inst.id, ASG, reason=why)
        if inst.registered:
            inst.registered = False
            inst.target = "draining"
            self.emit("deregister", inst.id, ELB, delay_s=self.p.deregistration_delay_s)
            self.move(inst, Phase.DRAINING)
            self.schedule(self.now + self.p.deregistration_delay_s, "terminated", priority=_P_LIFECYCLE, inst=inst)
        else:
            self.schedule(self.now, "terminated", priority=_P_LIFECYCLE, inst=inst)

    def asg_evaluate(self, inst: _Instance) -> None:
        """The Auto Scaling group replaces an instance the load balancer reports unhealthy, after its grace."""
        p = self.p
        if p.health_check_type != "ELB" or inst.leaving or inst.target != "unhealthy" or inst.in_service_s is None:
            return
        if self.now + 1e-9 < inst.in_service_s + p.grace_period_s:
            return  # a grace-end event looks again
        self.emit("marked-unhealthy", inst.id, ASG, health_check_type="ELB")
        self.terminate(inst, "unhealthy")
        self.launch()

    def refresh_progress(self) -> None:
        refresh, t = self.refresh, self.now
        if refresh is None:
            return
        version = refresh.version
        ready = [i for i in self.counted() if i.version == version and i.target == "healthy"
                 and i.in_service_s is not None and t + 1e-9 >= i.in_service_s + self.warmup]
        if len(ready) < refresh.replaced:
            return
        old = [i for i in self.counted() if i.version != version]
        if not old:
            self.emit("refresh-complete", f"v{version}", ASG, seconds=round(t - refresh.start_s, 1))
            self.emit("deploy-complete", f"v{version}", PIPELINE, seconds_since_commit=round(t - refresh.commit_s, 1))
            self.refresh = None
            return
        batch = old[:self.batch_size]
        refresh.replaced += len(batch)
        self.emit("refresh-batch", f"v{version}", ASG, replacing=", ".join(i.id for i in batch))
        for inst in batch:
            self.terminate(inst, "instance refresh")
            self.launch()

    def check_first_deploy(self) -> None:
        if self.first_deploy_done:
            return
        healthy = [i for i in self.counted() if i.target == "healthy" and i.version == 1]
        if len(healthy) >= self.p.desired_capacity:
            self.first_deploy_done = True
            self.emit("deploy-complete", "v1", PIPELINE, seconds_since_commit=round(self.now, 1))

    # -- the pipeline -------------------------------------------------------------------------------------
    def on_commit(self, version: int) -> None:
        if version != 1:  # the first commit is recorded before the run starts
            self.emit("commit", f"v{version}", PIPELINE)
        row = self.new_row(f"pipeline v{version}", version)
        self.emit("build-start", f"v{version}", PIPELINE)
        self.set_phase(row, Phase.BUILD)
        self.schedule(self.now + self.p.build_s, "bake", priority=_P_LIFECYCLE, version=version, row=row)

    def on_bake(self, version: int, row: int) -> None:
        self.emit("bake-start", f"v{version}", PIPELINE)
        self.set_phase(row, Phase.BAKE)
        self.schedule(self.now + self.p.bake_s, "ami-ready", priority=_P_LIFECYCLE, version=version, row=row)

    def on_ami_ready(self, version: int, row: int) -> None:
        p = self.p
        self.set_phase(row, None)
        self.image = version
        self.emit("ami-ready", f"ami-v{version}", PIPELINE)
        self.emit("launch-template-version", f"v{version}", PIPELINE, image=f"ami-v{version}")
        if not self.instances:
            self.emit("create-group", "restaurant-service", ASG, desired=p.desired_capacity)
            for _ in range(p.desired_capacity):
                self.launch()
        else:
            self.emit("refresh-start", f"v{version}", ASG, batch_size=self.batch_size,
                      min_healthy_percentage=p.min_healthy_percentage)
            self.refresh = _Refresh(version, self.now, self.commit_s[version])
            self.refresh_progress()

    # -- the Auto Scaling group's instances ------------------------------------------------------------------
    def on_in_service(self, inst: _Instance) -> None:
        p, t = self.p, self.now
        if inst.leaving:
            return
        inst.in_service_s = t
        inst.registered = True
        inst.target = "initial"
        self.emit("in-service", inst.id, ASG)
        self.emit("register", inst.id, ELB)
        self.move(inst, Phase.BOOTING)
        self.schedule(t + inst.boot_s, "ready", priority=_P_LIFECYCLE, inst=inst)
        self.schedule(t + p.health_check_interval_s, "check", priority=_P_CHECK, inst=inst)
        if p.grace_period_s > 0:
            self.schedule(t + p.grace_period_s, "grace-end", priority=_P_LIFECYCLE, inst=inst)
        if self.warmup > 0:
            self.schedule(t + self.warmup, "warmup-end", priority=_P_LIFECYCLE)

    def on_ready(self, inst: _Instance) -> None:
        if not inst.leaving:
            inst.ready_s = self.now

    def on_grace_end(self, inst: _Instance) -> None:
        self.asg_evaluate(inst)

    def on_warmup_end(self) -> None:
        self.refresh_progress()

    def on_crash(self) -> None:
        alive = [i for i in self.counted() if i.in_service_s is not None]
        if self.p.crash_instance < len(alive):
            inst = alive[self.p.crash_instance]
            inst.crashed = True
            self.emit("crash", inst.id, FAULT, note="the VM runs on; the service process died")
            if inst.target == "healthy":
                self.move(inst, Phase.FAILING)

    def on_terminated(self, inst: _Instance) -> None:
        inst.target = "none"
        inst.gone = True
        self.emit("terminated", inst.id, ASG)
        self.set_phase(inst.row, None)

    # -- the load balancer's health checks ----------------------------------------------------------------
    def on_check(self, inst: _Instance) -> None:
        p = self.p
        if not inst.registered:
            return
        if inst.ready_s is not None and not inst.crashed:
            self.schedule(self.now, "pass", priority=_P_RESULT, inst=inst)
        else:
            self.schedule(self.now + p.health_check_timeout_s, "fail", priority=_P_RESULT, inst=inst)
        self.schedule(self.now + p.health_check_interval_s, "check", priority=_P_CHECK, inst=inst)

    def on_pass(self, inst: _Instance) -> None:
        if not inst.registered:
            return
        inst.fails = 0
        inst.passes += 1
        if inst.target == "initial" or (inst.target == "unhealthy" and inst.passes >= self.p.healthy_threshold):
            inst.target = "healthy"
            self.emit("target-healthy", inst.id, ELB, version=f"v{inst.version}")
            self.move(inst, Phase.HEALTHY)
            self.check_first_deploy()
            self.refresh_progress()

    def on_fail(self, inst: _Instance) -> None:
        if not inst.registered:
            return
        inst.passes = 0
        inst.fails += 1
        self.emit("health-check-failed", inst.id, ELB, consecutive=inst.fails)
        if inst.target in ("initial", "healthy") and inst.fails >= self.p.unhealthy_threshold:
            inst.target = "unhealthy"
            self.emit("target-unhealthy", inst.id, ELB)
            self.move(inst, Phase.UNHEALTHY)
            self.asg_evaluate(inst)

    # -- sampling -----------------------------------------------------------------------------------------
    def on_tick(self, step: int) -> None:
        """The state at a step's time, after everything that happened at or before it. It holds until the next
        event, so the steps before that one are sampled with it, and the next tick is at the step it falls in."""
        grid, upto, last = self.time_grid, self.next_event_s, step
        while last + 1 < len(grid) and grid[last + 1] < upto:
            last += 1
        self.sample(step, last + 1)
        if last + 1 < len(grid):
            self.schedule(float(grid[last + 1]), "tick", priority=_P_SAMPLE, step=last + 1)

    def sample(self, start: int, stop: int) -> None:
        """Record the state now as that of steps ``start`` to ``stop - 1``."""
        h = [i for i in self.instances if i.target == "healthy"]
        self.healthy[start:stop] = (len(h), sum(i.version == 1 for i in h), sum(i.version == 2 for i in h))
        self.failing[start:stop] = sum(i.crashed for i in h)
        self.in_service[start:stop] = sum(1 for i in self.instances if not i.leaving and i.in_service_s is not None)
        self.running[start:stop] = sum(not i.gone for i in self.instances)
        self.sampled = stop

    def start(self) -> None:
        p = self.p
        self.emit("commit", "v1", PIPELINE)
        self.schedule(0.0, "commit", priority=_P_LIFECYCLE, version=1)
        if p.deploy_at_s is not None:
            self.commit_s[2] = float(p.deploy_at_s)
            self.schedule(p.deploy_at_s, "commit", priority=_P_LIFECYCLE, version=2)
        if p.crash_at_s is not None:
            self.schedule(p.crash_at_s, "crash", priority=_P_FAULT)
        self.schedule(0.0, "tick", priority=_P_SAMPLE, step=0)

    def finish(self) -> Trace:
        """After the run: steps past the last event keep the final state; the trace."""
        p = self.p
        self.sample(self.sampled, len(self.time_grid))  # a grid time a hair past duration_s, if any
        seg = np.array(self.segments, dtype=float).reshape(-1, 4)
        steps = len(self.time_grid)
        return self.trace(
            params=params_dict(p), computed={"warmup_s": self.warmup, "refresh_batch_size": self.batch_size},
            sort=True,
            series={
                "time_s": self.time_grid,
                "healthy": self.healthy[:, 0],
                "healthy_v1": self.healthy[:, 1],
                "healthy_v2": self.healthy[:, 2],
                "serving_errors": self.failing,
                "in_service": self.in_service,
                "running": self.running,
                "desired": np.full(steps, p.desired_capacity, dtype=np.int64),
                "row_label": np.array(self.row_labels, dtype=str),
                "row_version": np.array(self.row_versions, dtype=np.int64),
                "segment_row": seg[:, 0].astype(np.int64),
                "segment_phase": seg[:, 1].astype(np.int64),
                "segment_start_s": seg[:, 2],
                "segment_end_s": seg[:, 3],
            },
        )


def run_vm(params: VmParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the VM-deployment model and return its trace (``run_vm(grace_period_s=0)`` overrides a field)."""
    p: VmParams = with_overrides(params or VmParams(), overrides)
    sim = VmDeployment(p, seed)
    sim.start()
    sim.run(until_s=p.duration_s)
    return sim.finish()


# ---- wasted capacity ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PackingParams:
    """A workload to place on instances of one type, one service instance per VM (the VM pattern)."""

    need_vcpu: float = 5.0  # what the service needs in total at peak
    need_memory_gib: float = 12.0
    min_instances: int = 2  # at least two, in two Availability Zones, to survive losing one
    os_vcpu: float = 0.25  # assumption: what the operating system and agents on each VM use
    os_memory_gib: float = 0.75  # assumption

    def validated(self) -> PackingParams:
        check_number("need_vcpu", self.need_vcpu, low=0, low_open=True, high=512)
        check_number("need_memory_gib", self.need_memory_gib, low=0, low_open=True, high=2048)
        check_int("min_instances", self.min_instances, low=1, high=100)
        check_number("os_vcpu", self.os_vcpu, low=0, high=1.5)
        check_number("os_memory_gib", self.os_memory_gib, low=0, high=3.5)
        return self


def _ceil(x: float) -> int:
    return math.ceil(x - 1e-9)


_TYPE = ("type",)

#: What :func:`run_packing` returns: one entry per instance type, cheapest first.
PACKING_SCHEMA = Schema("vm-packing", (
    Series("type", "", _TYPE, "the instance type's name"),
    Series("count", "count", _TYPE, "instances the workload needs"),
    Series("usd_per_hour", "USD", _TYPE, "what they cost per hour, on demand"),
    Series("vcpu_total", "vCPU", _TYPE, "vCPUs paid for"),
    Series("vcpu_used", "vCPU", _TYPE, "vCPUs the service uses"),
    Series("vcpu_os", "vCPU", _TYPE, "vCPUs the VMs' operating systems use"),
    Series("vcpu_idle", "vCPU", _TYPE, "vCPUs paid for and idle"),
    Series("memory_total_gib", "GiB", _TYPE),
    Series("memory_used_gib", "GiB", _TYPE),
    Series("memory_os_gib", "GiB", _TYPE),
    Series("memory_idle_gib", "GiB", _TYPE),
))


def run_packing(params: PackingParams | None = None, **overrides: object) -> Result:
    """For every type in :data:`~labsupport.sim.catalogue.INSTANCE_TYPES`: how many instances the workload needs,
    what they cost, and how their vCPUs and memory split into used, operating system and idle. Values are per
    type, cheapest first (ties by name); the result has no time axis."""
    p: PackingParams = with_overrides(params or PackingParams(), overrides)
    rows = []
    for t in INSTANCE_TYPES:
        usable_cpu = t.vcpu - p.os_vcpu
        usable_mem = t.memory_gib - p.os_memory_gib
        needed = max(p.min_instances, _ceil(p.need_vcpu / usable_cpu), _ceil(p.need_memory_gib / usable_mem))
        rows.append((round(needed * t.usd_per_hour, 6), t.name, t, needed))
    rows.sort(key=lambda r: (r[0], r[1]))
    types = [r[2] for r in rows]
    count = np.array([r[3] for r in rows], dtype=np.int64)
    vcpu = np.array([t.vcpu for t in types], dtype=float) * count
    mem = np.array([t.memory_gib for t in types], dtype=float) * count
    os_cpu = count * p.os_vcpu
    os_mem = count * p.os_memory_gib
    return PACKING_SCHEMA.result(
        params=params_dict(p),
        seed=0,
        values={
            "type": np.array([t.name for t in types], dtype=str),
            "count": count,
            "usd_per_hour": np.array([r[0] for r in rows]),
            "vcpu_total": vcpu,
            "vcpu_used": np.full(len(types), p.need_vcpu),
            "vcpu_os": os_cpu,
            "vcpu_idle": vcpu - os_cpu - p.need_vcpu,
            "memory_total_gib": mem,
            "memory_used_gib": np.full(len(types), p.need_memory_gib),
            "memory_os_gib": os_mem,
            "memory_idle_gib": mem - os_mem - p.need_memory_gib,
        },
    )
