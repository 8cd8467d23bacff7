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
from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, EventQueue, Trace, generator

__all__ = [
    "ACTORS",
    "INSTANCE_TYPES",
    "PRICES_AS_OF",
    "InstanceType",
    "PackingParams",
    "Phase",
    "VmParams",
    "instance_type",
    "refresh_batch_size",
    "run_packing",
    "run_vm",
]

#: Who acts in the trace.
ACTORS = ("pipeline", "auto-scaling", "load-balancer", "fault")
PIPELINE, ASG, ELB, FAULT = ACTORS


@dataclass(frozen=True, slots=True)
class InstanceType:
    """An EC2 instance type: its size and its Linux on-demand price in us-east-1."""

    name: str
    vcpu: int
    memory_gib: float
    usd_per_hour: float


#: When the prices below were listed. They are the long-standing us-east-1 list prices (unchanged on the AWS
#: EC2 On-Demand pricing page through 2024); they were not re-read live for this release. Prices change:
#: check the page before relying on them.
PRICES_AS_OF = "2024 (not re-checked live for this release)"

#: Fixed-performance general purpose (m5), compute optimised (c5) and memory optimised (r5) types. Sizes from
#: the AWS EC2 instance types pages; prices are us-east-1 Linux on-demand, as listed on the AWS EC2 On-Demand
#: pricing page (see PRICES_AS_OF). Burstable t3 types are left out: their vCPUs are only partly usable for
#: long without buying CPU credits.
INSTANCE_TYPES: tuple[InstanceType, ...] = (
    InstanceType("c5.large", 2, 4, 0.085),
    InstanceType("c5.xlarge", 4, 8, 0.17),
    InstanceType("c5.2xlarge", 8, 16, 0.34),
    InstanceType("m5.large", 2, 8, 0.096),
    InstanceType("m5.xlarge", 4, 16, 0.192),
    InstanceType("m5.2xlarge", 8, 32, 0.384),
    InstanceType("r5.large", 2, 16, 0.126),
    InstanceType("r5.xlarge", 4, 32, 0.252),
    InstanceType("r5.2xlarge", 8, 64, 0.504),
)
_TYPES = {t.name: t for t in INSTANCE_TYPES}


def instance_type(name: str) -> InstanceType:
    """The :class:`InstanceType` called ``name``; a clear message for an unknown one."""
    if name not in _TYPES:
        raise ParameterError(f"instance_type must be one of {', '.join(_TYPES)}, got {name!r}")
    return _TYPES[name]


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


# Priorities at equal times: a crash before a check that could see it; a check's result before the ASG acts.
_P_FAULT, _P_CHECK, _P_RESULT, _P_LIFECYCLE = 0, 1, 2, 3


@dataclass
class _Instance:
    id: str
    version: int
    row: int
    launched_s: float
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


def run_vm(params: VmParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the VM-deployment model and return its trace (``run_vm(grace_period_s=0)`` overrides a field)."""
    p: VmParams = with_overrides(params or VmParams(), overrides)
    draw = generator(seed)
    events: list[Event] = []
    queue = EventQueue()
    instances: list[_Instance] = []
    row_labels: list[str] = []
    row_versions: list[int] = []
    segments: list[list[float]] = []  # [row, phase, start, end]
    open_segment: dict[int, int] = {}  # row -> index in segments
    warmup = p.warmup_s
    batch_size = refresh_batch_size(p.desired_capacity, p.min_healthy_percentage)
    state: dict[str, Any] = {"image": 0, "refresh": None}

    def emit(t: float, kind: str, subject: str, actor: str, **data: object) -> None:
        events.append(Event(round(t, 3), kind, subject, actor, data))

    def set_phase(row: int, phase: Phase | None, t: float) -> None:
        if row in open_segment:
            segments[open_segment.pop(row)][3] = t
        if phase is not None:
            open_segment[row] = len(segments)
            segments.append([row, int(phase), t, p.duration_s])

    def new_row(label: str, version: int) -> int:
        row_labels.append(label)
        row_versions.append(version)
        return len(row_labels) - 1

    def move(inst: _Instance, phase: Phase, t: float) -> None:
        if inst.phase != phase:
            inst.phase = phase
            set_phase(inst.row, phase, t)

    def start_pipeline(t: float, version: int) -> None:
        row = new_row(f"pipeline v{version}", version)
        emit(t, "build-start", f"v{version}", PIPELINE)
        set_phase(row, Phase.BUILD, t)
        queue.push(t + p.build_s, ("bake", version, row), _P_LIFECYCLE)

    def launch(t: float) -> None:
        version = state["image"]
        boot = p.boot_s * (1 + p.boot_jitter * (2 * float(draw.random()) - 1)) if p.boot_jitter else p.boot_s
        boot = round(boot, 1)
        name = f"i-{len(instances) + 1:02d}"
        inst = _Instance(name, version, new_row(name, version), t, boot)
        instances.append(inst)
        emit(t, "launch", name, ASG, version=f"v{version}", image=f"ami-v{version}", boot_s=boot)
        set_phase(inst.row, Phase.PENDING, t)
        queue.push(t + p.launch_s, ("in-service", inst), _P_LIFECYCLE)

    def counted() -> list[_Instance]:
        """Instances that count towards the desired capacity."""
        return [i for i in instances if not i.leaving]

    def terminate(inst: _Instance, t: float, why: str) -> None:
        inst.leaving = True
        emit(t, "terminate", inst.id, ASG, reason=why)
        if inst.registered:
            inst.registered = False
            inst.target = "draining"
            emit(t, "deregister", inst.id, ELB, delay_s=p.deregistration_delay_s)
            move(inst, Phase.DRAINING, t)
            queue.push(t + p.deregistration_delay_s, ("terminated", inst), _P_LIFECYCLE)
        else:
            queue.push(t, ("terminated", inst), _P_LIFECYCLE)

    def asg_evaluate(inst: _Instance, t: float) -> None:
        """The Auto Scaling group replaces an instance the load balancer reports unhealthy, after its grace."""
        if p.health_check_type != "ELB" or inst.leaving or inst.target != "unhealthy" or inst.in_service_s is None:
            return
        if t + 1e-9 < inst.in_service_s + p.grace_period_s:
            return  # a grace-end event looks again
        emit(t, "marked-unhealthy", inst.id, ASG, health_check_type="ELB")
        terminate(inst, t, "unhealthy")
        launch(t)

    def refresh_progress(t: float) -> None:
        refresh = state["refresh"]
        if refresh is None:
            return
        version = refresh["version"]
        ready = [i for i in counted() if i.version == version and i.target == "healthy"
                 and i.in_service_s is not None and t + 1e-9 >= i.in_service_s + warmup]
        if len(ready) < refresh["replaced"]:
            return
        old = [i for i in counted() if i.version != version]
        if not old:
            emit(t, "refresh-complete", f"v{version}", ASG, seconds=round(t - refresh["start_s"], 1))
            emit(t, "deploy-complete", f"v{version}", PIPELINE, seconds_since_commit=round(t - refresh["commit_s"], 1))
            state["refresh"] = None
            return
        batch = old[:batch_size]
        refresh["replaced"] += len(batch)
        emit(t, "refresh-batch", f"v{version}", ASG, replacing=", ".join(i.id for i in batch))
        for inst in batch:
            terminate(inst, t, "instance refresh")
            launch(t)

    def handle(t: float, item: tuple[Any, ...]) -> None:
        what = item[0]
        if what == "commit":
            start_pipeline(t, item[1])
        elif what == "bake":
            _, version, row = item
            emit(t, "bake-start", f"v{version}", PIPELINE)
            set_phase(row, Phase.BAKE, t)
            queue.push(t + p.bake_s, ("ami-ready", version, row), _P_LIFECYCLE)
        elif what == "ami-ready":
            _, version, row = item
            set_phase(row, None, t)
            state["image"] = version
            emit(t, "ami-ready", f"ami-v{version}", PIPELINE)
            emit(t, "launch-template-version", f"v{version}", PIPELINE, image=f"ami-v{version}")
            if not instances:
                emit(t, "create-group", "restaurant-service", ASG, desired=p.desired_capacity)
                for _ in range(p.desired_capacity):
                    launch(t)
            else:
                emit(t, "refresh-start", f"v{version}", ASG, batch_size=batch_size,
                     min_healthy_percentage=p.min_healthy_percentage)
                state["refresh"] = {"version": version, "replaced": 0, "start_s": t, "commit_s": item_commit[version]}
                refresh_progress(t)
        elif what == "in-service":
            inst = item[1]
            if inst.leaving:
                return
            inst.in_service_s = t
            inst.registered = True
            inst.target = "initial"
            emit(t, "in-service", inst.id, ASG)
            emit(t, "register", inst.id, ELB)
            move(inst, Phase.BOOTING, t)
            queue.push(t + inst.boot_s, ("ready", inst), _P_LIFECYCLE)
            queue.push(t + p.health_check_interval_s, ("check", inst), _P_CHECK)
            if p.grace_period_s > 0:
                queue.push(t + p.grace_period_s, ("grace-end", inst), _P_LIFECYCLE)
            if warmup > 0:
                queue.push(t + warmup, ("warmup-end", inst), _P_LIFECYCLE)
        elif what == "ready":
            inst = item[1]
            if not inst.leaving:
                inst.ready_s = t
        elif what == "check":
            inst = item[1]
            if not inst.registered:
                return
            up = inst.ready_s is not None and not inst.crashed
            if up:
                queue.push(t, ("pass", inst), _P_RESULT)
            else:
                queue.push(t + p.health_check_timeout_s, ("fail", inst), _P_RESULT)
            queue.push(t + p.health_check_interval_s, ("check", inst), _P_CHECK)
        elif what == "pass":
            inst = item[1]
            if not inst.registered:
                return
            inst.fails = 0
            inst.passes += 1
            if inst.target == "initial" or (inst.target == "unhealthy" and inst.passes >= p.healthy_threshold):
                inst.target = "healthy"
                emit(t, "target-healthy", inst.id, ELB, version=f"v{inst.version}")
                move(inst, Phase.HEALTHY, t)
                check_first_deploy(t)
                refresh_progress(t)
        elif what == "fail":
            inst = item[1]
            if not inst.registered:
                return
            inst.passes = 0
            inst.fails += 1
            emit(t, "health-check-failed", inst.id, ELB, consecutive=inst.fails)
            if inst.target in ("initial", "healthy") and inst.fails >= p.unhealthy_threshold:
                inst.target = "unhealthy"
                emit(t, "target-unhealthy", inst.id, ELB)
                move(inst, Phase.UNHEALTHY, t)
                asg_evaluate(inst, t)
        elif what in ("grace-end",):
            asg_evaluate(item[1], t)
        elif what == "warmup-end":
            refresh_progress(t)
        elif what == "crash":
            alive = [i for i in counted() if i.in_service_s is not None]
            if p.crash_instance < len(alive):
                inst = alive[p.crash_instance]
                inst.crashed = True
                emit(t, "crash", inst.id, FAULT, note="the VM runs on; the service process died")
                if inst.target == "healthy":
                    move(inst, Phase.FAILING, t)
        elif what == "terminated":
            inst = item[1]
            inst.target = "none"
            inst.gone = True
            emit(t, "terminated", inst.id, ASG)
            set_phase(inst.row, None, t)

    first_deploy = {"done": False}

    def check_first_deploy(t: float) -> None:
        if first_deploy["done"]:
            return
        healthy = [i for i in counted() if i.target == "healthy" and i.version == 1]
        if len(healthy) >= p.desired_capacity:
            first_deploy["done"] = True
            emit(t, "deploy-complete", "v1", PIPELINE, seconds_since_commit=round(t, 1))

    item_commit = {1: 0.0}
    emit(0.0, "commit", "v1", PIPELINE)
    queue.push(0.0, ("commit", 1), _P_LIFECYCLE)
    if p.deploy_at_s is not None:
        item_commit[2] = float(p.deploy_at_s)
        queue.push(p.deploy_at_s, ("commit", 2), _P_LIFECYCLE)
    if p.crash_at_s is not None:
        queue.push(p.crash_at_s, ("crash",), _P_FAULT)

    # Sample the state at every step: after every event at or before the step's time.
    steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
    time_grid = np.arange(steps) * p.step_s
    healthy = np.zeros((steps, 3), dtype=np.int64)  # any version, v1, v2
    in_service = np.zeros(steps, dtype=np.int64)
    running = np.zeros(steps, dtype=np.int64)
    failing = np.zeros(steps, dtype=np.int64)
    k = 0

    def sample_until(t: float) -> None:
        nonlocal k
        while k < steps and time_grid[k] < t:
            h = [i for i in instances if i.target == "healthy"]
            healthy[k] = (len(h), sum(i.version == 1 for i in h), sum(i.version == 2 for i in h))
            failing[k] = sum(i.crashed for i in h)
            in_service[k] = sum(1 for i in instances if not i.leaving and i.in_service_s is not None)
            running[k] = sum(not i.gone for i in instances)
            k += 1

    while queue and queue.peek_time() <= p.duration_s:
        t, item = queue.pop()
        if item[0] == "commit" and item[1] != 1:
            emit(t, "commit", f"v{item[1]}", PIPELINE)
        sample_until(t)
        handle(t, item)
    sample_until(float("inf"))
    events.sort(key=lambda e: e.time_s)
    seg = np.array(segments, dtype=float).reshape(-1, 4)
    return Trace(
        model="vm",
        params={**asdict(p), "warmup_s": warmup, "refresh_batch_size": batch_size},
        seed=seed,
        events=tuple(events),
        series={
            "time_s": time_grid,
            "healthy": healthy[:, 0],
            "healthy_v1": healthy[:, 1],
            "healthy_v2": healthy[:, 2],
            "serving_errors": failing,  # healthy targets whose service is dead: their requests fail
            "in_service": in_service,
            "running": running,
            "desired": np.full(steps, p.desired_capacity, dtype=np.int64),
            "row_label": np.array(row_labels, dtype=str),
            "row_version": np.array(row_versions, dtype=np.int64),
            "segment_row": seg[:, 0].astype(np.int64),
            "segment_phase": seg[:, 1].astype(np.int64),
            "segment_start_s": seg[:, 2],
            "segment_end_s": seg[:, 3],
        },
    )


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


def run_packing(params: PackingParams | None = None, **overrides: object) -> Trace:
    """For every type in :data:`INSTANCE_TYPES`: how many instances the workload needs, what they cost, and
    how their vCPUs and memory split into used, operating system and idle. Series are per type, cheapest
    first (ties by name)."""
    p: PackingParams = with_overrides(params or PackingParams(), overrides)
    rows = []
    for t in INSTANCE_TYPES:
        usable_cpu = t.vcpu - p.os_vcpu
        usable_mem = t.memory_gib - p.os_memory_gib
        count = max(p.min_instances, _ceil(p.need_vcpu / usable_cpu), _ceil(p.need_memory_gib / usable_mem))
        rows.append((round(count * t.usd_per_hour, 6), t.name, t, count))
    rows.sort(key=lambda r: (r[0], r[1]))
    types = [r[2] for r in rows]
    count = np.array([r[3] for r in rows], dtype=np.int64)
    vcpu = np.array([t.vcpu for t in types], dtype=float) * count
    mem = np.array([t.memory_gib for t in types], dtype=float) * count
    os_cpu = count * p.os_vcpu
    os_mem = count * p.os_memory_gib
    return Trace(
        model="vm-packing",
        params=asdict(p),
        seed=0,
        events=(),
        series={
            "time_s": np.zeros(1),
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
