"""Lesson 03: a service deployed as containers.

Three models:

* **The build cache** (:func:`run_build`). Each instruction of a Dockerfile is a build step; ``RUN``, ``COPY``
  and ``ADD`` add a filesystem layer, the others only change the image's settings. A rebuild reuses the
  cached result of every step up to the first one whose cache key changed, then runs that step and every step
  after it. A step's key is its instruction text (and the step before it); for ``COPY`` and ``ADD`` the
  checksums of the copied files count too. So an edited instruction, or a changed file that a ``COPY`` copies,
  invalidates that step and everything after it (Docker documentation, "Build cache invalidation").
* **Containers on one VM** (:func:`run_host`). ``containers`` copies of a service share one VM's kernel, CPUs
  and memory. With cgroup limits each gets a CPU quota (``cpu.max``, ``docker run --cpus``) and a memory
  limit (``memory.max``, ``docker run --memory``): a container that reaches its memory limit is OOM-killed by
  the kernel *inside its own cgroup* and restarted by its restart policy, and its neighbours never notice.
  Without limits it is lesson 01's machine again: the leak grows until the whole VM is out of memory and the
  kernel's OOM killer picks the largest process.
* **Packing** (:func:`pack_containers`). Containers of several services are placed on VMs by their memory
  limits with lesson 01's bin packing, and priced with lesson 02's instance types.

Times the documentation gives no figure for (how long a step runs, how long a container takes to start) are
assumptions; the lesson says which.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Result, Schema, Series, Trace
from labsupport.sim.catalogue import INSTANCE_TYPES, instance_type
from labsupport.sim.packaging import PLACEMENT_SCHEMA, STEPS_PER_TICK, run_placement, sharing_slowdown

__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_RESET_S",
    "CACHE_CHECK_S",
    "LAYER_INSTRUCTIONS",
    "RESTART_POLICIES",
    "BUILD_SCHEMA",
    "HOST_SCHEMA",
    "PACKING_SCHEMA",
    "Build",
    "BuildStep",
    "Host",
    "HostParams",
    "copies_changed",
    "first_invalidated",
    "oom_kills",
    "pack_containers",
    "restart_delay_s",
    "run_build",
    "run_host",
]

# ---- the build cache -----------------------------------------------------------------------------------------

#: Instructions that add a filesystem layer to the image; the others change only its configuration.
LAYER_INSTRUCTIONS = ("RUN", "COPY", "ADD")
#: Seconds to find a step in the cache and reuse it (an assumption: checksumming what a COPY copies).
CACHE_CHECK_S = 0.05


@dataclass(frozen=True, slots=True)
class BuildStep:
    """One instruction of a Dockerfile as a build step.

    ``build_s`` is how long it runs when the cache misses, ``size_mb`` what it adds to the image, ``sources``
    (for ``COPY`` and ``ADD``) the build-context paths it copies (``"."`` is the whole context).
    """

    instruction: str
    arguments: str = ""
    build_s: float = 0.1
    size_mb: float = 0.0
    sources: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.instruction} {self.arguments}".strip()

    @property
    def makes_layer(self) -> bool:
        """Does the step add bytes to the image? ``FROM`` brings the base image's layers."""
        return self.instruction.upper() in ("FROM", *LAYER_INSTRUCTIONS)


def _matches(source: str, path: str) -> bool:
    src = source.strip()
    while src.startswith("./"):
        src = src[2:]
    src = src.rstrip("/")
    path = path.strip().removeprefix("./")
    if src in ("", ".", "*"):
        return True
    return path == src or path.startswith(src + "/") or fnmatch.fnmatch(path, src)


def copies_changed(step: BuildStep, changed_files: Iterable[str]) -> bool:
    """Does ``step`` copy any of ``changed_files`` (paths relative to the build context)?"""
    if step.instruction.upper() not in ("COPY", "ADD"):
        return False
    return any(_matches(src, f) for src in step.sources for f in changed_files)


def _check_steps(steps: Sequence[BuildStep]) -> list[BuildStep]:
    given: object = steps  # a learner may pass anything: say what is expected
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        raise ParameterError(f"steps must be a list of BuildStep, got {type(given).__name__}")
    if not steps:
        raise ParameterError("steps must hold at least one build step (a FROM)")
    for i, step in enumerate(steps):
        if not isinstance(step, BuildStep):
            raise ParameterError(f"steps[{i}] must be a BuildStep, got {type(step).__name__}")
        check_number(f"steps[{i}].build_s", step.build_s, low=0, high=3600)
        check_number(f"steps[{i}].size_mb", step.size_mb, low=0, high=100_000)
    return list(steps)


def _check_files(changed_files: Iterable[str]) -> tuple[str, ...]:
    if isinstance(changed_files, str):
        changed_files = (changed_files,)
    files = tuple(changed_files)
    for f in files:
        if not isinstance(f, str) or not f.strip():
            raise ParameterError(f"changed_files must be paths such as 'labsupport/service/_app.py', got {f!r}")
    return files


def first_invalidated(steps: Sequence[BuildStep], changed_files: Iterable[str] = (),
                      edited: Iterable[int] = ()) -> int | None:
    """The number (from 0) of the first step whose cache key changed, or None when every step is reused."""
    return _first_invalidated(_check_steps(steps), _check_files(changed_files), edited)


def _first_invalidated(steps: list[BuildStep], files: tuple[str, ...], edited: Iterable[int]) -> int | None:
    """:func:`first_invalidated` of steps and files already checked (:func:`run_build` checks them once)."""
    edited_set = {check_int("edited step", e, low=0, high=len(steps) - 1) for e in edited}
    for i, step in enumerate(steps):
        if i in edited_set or copies_changed(step, files):
            return i
    return None


#: What :func:`run_build` records: per build step, and a time axis for the animation.
BUILD_SCHEMA = Schema("build", (
    Series("time_s", "s", ("time",), "the animation's clock, from 0 to the build's end"),
    Series("step_text", "", ("step",), "the instruction"),
    Series("step_instruction", "", ("step",), "its keyword (RUN, COPY, ...)"),
    Series("step_start_s", "s", ("step",), "when the step starts"),
    Series("step_end_s", "s", ("step",), "when it ends"),
    Series("step_reused", "", ("step",), "taken from the cache"),
    Series("step_size_mb", "MB", ("step",), "what its layer adds to the image"),
    Series("step_layer", "", ("step",), "the step adds a layer"),
))


class Build(Simulation):
    """The builder going through the steps in order: each one a cache hit or a run, then the image."""

    SCHEMA: ClassVar[Schema] = BUILD_SCHEMA

    def __init__(self, steps: list[BuildStep], first: int) -> None:
        super().__init__(0)
        self.steps = steps
        self.first = first
        self.starts: list[float] = []
        self.ends: list[float] = []
        # per step, worked out once (BuildStep's properties build a string each time they are read)
        self.texts = [s.text for s in steps]
        self.layers = [s.makes_layer for s in steps]
        self.sizes = [s.size_mb if layer else 0.0 for s, layer in zip(steps, self.layers, strict=True)]
        self.rebuilt_mb = sum(s.size_mb for i, s in enumerate(steps) if i >= first and self.layers[i])

    def on_step(self, i: int) -> None:
        hit = i < self.first
        duration = CACHE_CHECK_S if hit else float(self.steps[i].build_s)
        self.record("cache-hit" if hit else "run", f"step {i + 1}", "builder", at_s=round(self.now, 3),
                    instruction=self.texts[i][:60], seconds=round(duration, 3), size_mb=self.sizes[i])
        self.starts.append(self.now)
        self.ends.append(self.now + duration)
        self.schedule(self.now + duration, "step" if i + 1 < len(self.steps) else "image-ready", i=i + 1)

    def on_image_ready(self, i: int) -> None:
        self.record("image-ready", "image", "builder", at_s=round(self.now, 3), seconds=round(self.now, 2),
                    rebuilt_steps=len(self.steps) - min(self.first, len(self.steps)),
                    new_layer_mb=round(self.rebuilt_mb, 1))


def _clock(total: float, frames: int) -> np.ndarray:
    """``np.linspace(0.0, total, frames + 1)``, the same floats (step times index, last point exactly ``total``)
    without linspace's general-case overhead, which is a tenth of a build's run."""
    clock = np.arange(frames + 1) * (total / frames)
    clock[-1] = total
    return clock


def run_build(steps: Sequence[BuildStep], changed_files: Iterable[str] = (), edited: Iterable[int] = (), *,
              cache: bool = True, frames: int = 60) -> Trace:
    """Build ``steps`` once more after ``changed_files`` changed and the steps numbered ``edited`` were edited.

    With ``cache=False`` (a first build, or ``--no-cache``) every step runs. Events: one ``cache-hit`` or
    ``run`` per step, then ``image-ready``. Series per step (``step_*``) and a time axis of ``frames + 1``
    points for the animation.
    """
    steps = _check_steps(steps)  # once: first_invalidated would check them again
    files = _check_files(changed_files)
    frames = check_int("frames", frames, low=1, high=1000)
    edited = tuple(edited)  # read twice (a generator would be empty the second time)
    first = _first_invalidated(steps, files, edited) if cache else 0
    if first is None:
        first = len(steps)
    sim = Build(steps, first)
    sim.schedule(0.0, "step", i=0)
    sim.run()
    total = sim.ends[-1]
    rebuilt_mb = sim.rebuilt_mb
    return sim.trace(
        params={"changed_files": files, "edited": tuple(sorted(set(edited))), "cache": bool(cache)},
        computed={"first_rebuilt": first if first < len(steps) else None, "total_s": round(total, 3),
                  "rebuilt_mb": round(rebuilt_mb, 3),
                  "image_mb": round(sum(s.size_mb for s, layer in zip(steps, sim.layers, strict=True) if layer), 3)},
        series={
            "time_s": _clock(total, frames),
            "step_text": np.array(sim.texts, dtype=str),
            "step_instruction": np.array([s.instruction.upper() for s in steps], dtype=str),
            "step_start_s": np.array(sim.starts),
            "step_end_s": np.array(sim.ends),
            "step_reused": np.arange(len(steps)) < first,
            "step_size_mb": np.array(sim.sizes),
            "step_layer": np.array(sim.layers, dtype=bool),
        },
    )


# ---- containers on one VM ------------------------------------------------------------------------------------

#: Docker's restart policies (``docker run --restart``); ``no`` is the default.
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
#: Docker waits 100 ms before the first restart and doubles the wait after each one, up to a minute; a
#: container that ran for 10 s or more starts again from 100 ms (moby's restart manager).
BACKOFF_FIRST_S, BACKOFF_MAX_S, BACKOFF_RESET_S = 0.1, 60.0, 10.0
OOM_EXIT_CODE = 137  # 128 + SIGKILL (9): what docker inspect shows, with "OOMKilled": true
KERNEL, RUNTIME, FAULT = "kernel", "container-runtime", "fault"


def restart_delay_s(restarts_in_a_row: int) -> float:
    """Docker's wait before a restart, after ``restarts_in_a_row`` quick restarts (0 for the first)."""
    n = check_int("restarts_in_a_row", restarts_in_a_row, low=0)
    return min(BACKOFF_FIRST_S * 2.0 ** min(n, 20), BACKOFF_MAX_S)


@dataclass(frozen=True, slots=True)
class HostParams:
    """Parameters of :func:`run_host`. ``None`` for a limit means no cgroup limit (lesson 01's machine)."""

    containers: int = 4
    vm_cpu_cores: float = 2.0  # an m5.large (lesson 02): 2 vCPUs, 8 GiB
    vm_memory_mb: float = 8192.0
    os_memory_mb: float = 768.0  # assumption: the OS, the container runtime and agents
    cpu_limit_cores: float | None = 0.5  # per container: docker run --cpus=0.5 (cpu.max "50000 100000")
    memory_limit_mb: float | None = 512.0  # per container: docker run --memory=512m (memory.max)
    base_memory_mb: float = 180.0  # assumption: a small Python service when healthy
    gc_swing_mb: float = 60.0  # healthy memory rises by up to this much between garbage collections
    gc_period_s: float = 20.0
    leaky_container: int = 0
    leak_at_s: float = 20.0  # the bug is triggered at this time, and again at every start after it
    leak_mb_per_s: float = 10.0
    burn_cores: float = 2.0  # the same container also burns this much CPU from leak_at_s (a busy loop)
    request_rate_per_s: float = 40.0  # per container
    cpu_ms_per_request: float = 5.0
    base_latency_s: float = 0.02
    restart_policy: str = "always"
    start_s: float = 1.0  # assumption: container created and the service answering (see the lesson)
    duration_s: float = 120.0
    step_s: float = 0.5

    def validated(self) -> HostParams:
        n = check_int("containers", self.containers, low=1, high=12)
        duration = check_number("duration_s", self.duration_s, low=10, high=3600)
        check_number("vm_cpu_cores", self.vm_cpu_cores, low=0.5, high=256)
        vm_mb = check_number("vm_memory_mb", self.vm_memory_mb, low=512, high=2**21)
        check_number("os_memory_mb", self.os_memory_mb, low=0, high=vm_mb / 2)
        if self.cpu_limit_cores is not None:
            check_number("cpu_limit_cores", self.cpu_limit_cores, low=0.01, high=256)
        if self.memory_limit_mb is not None:
            check_number("memory_limit_mb", self.memory_limit_mb, low=6, high=vm_mb)  # Docker's minimum is 6 MB
        check_number("base_memory_mb", self.base_memory_mb, low=1, high=vm_mb)
        check_number("gc_swing_mb", self.gc_swing_mb, low=0, high=vm_mb)
        check_number("gc_period_s", self.gc_period_s, low=1, high=3600)
        check_int("leaky_container", self.leaky_container, low=0, high=n - 1)
        check_number("leak_at_s", self.leak_at_s, low=0, high=duration)
        check_number("leak_mb_per_s", self.leak_mb_per_s, low=0, high=100_000)
        check_number("burn_cores", self.burn_cores, low=0, high=256)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0, high=10_000)
        check_number("cpu_ms_per_request", self.cpu_ms_per_request, low=0, high=10_000)
        check_number("base_latency_s", self.base_latency_s, low=0, low_open=True, high=10)
        if self.restart_policy not in RESTART_POLICIES:
            raise ParameterError(f"restart_policy must be one of {', '.join(RESTART_POLICIES)}, "
                                 f"got {self.restart_policy!r}")
        check_number("start_s", self.start_s, low=0, high=600)
        check_number("step_s", self.step_s, low=0.05, high=duration / 10)
        return self


_STATUS = {"running": 0, "starting": 1, "dead": 2}  # the ``status`` series' codes

#: What :func:`run_host` records: per step (``time``) and per container.
HOST_SCHEMA = Schema("containers-host", (
    Series("time_s", "s", ("time",), "the start of each step"),
    Series("memory_mb", "MB", ("time", "container"), "each container's memory (0 when dead)"),
    Series("memory_used_mb", "MB", ("time",), "every container's memory"),
    Series("alive", "", ("time", "container"), "the service answers"),
    Series("status", "", ("time", "container"), "0 serving, 1 starting, 2 dead"),
    Series("cpu_demand_cores", "cores", ("time", "container"), "CPU the container asks for"),
    Series("cpu_used_cores", "cores", ("time", "container"), "CPU its quota and the VM let it have"),
    Series("throttled", "", ("time", "container"), "it asks for more than it may have"),
    Series("latency_s", "s", ("time", "container"), "mean response time (NaN when not serving)"),
))


class Host(Simulation):
    """Containers on one VM, one ``tick`` per ``step_s``: restarts, memory and OOM kills step by step; CPU
    and latency for every step at once after the run."""

    SCHEMA: ClassVar[Schema] = HOST_SCHEMA

    def __init__(self, p: HostParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        n = p.containers
        self.names = [f"container-{i}" for i in range(n)]
        self.steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
        self.time_s = np.arange(self.steps) * p.step_s
        self.phases = self.random.uniform(0.0, p.gc_period_s, size=n).tolist()  # floats: 4 items, no numpy
        self.requests = self.random.poisson(p.request_rate_per_s * p.step_s, size=(self.steps, n)) / p.step_s
        self.usable_mb = p.vm_memory_mb - p.os_memory_mb
        self.state = ["running"] * n  # running, dead, starting
        self.started = np.zeros(n)  # when the current run started (the service answers start_s later)
        self.restart_at = np.full(n, np.inf)
        self.quick_restarts = np.zeros(n, dtype=int)
        self.restarts = np.zeros(n, dtype=int)
        self.waited = np.zeros(n)
        self.memory = np.zeros((self.steps, n))
        self.alive = np.zeros((self.steps, n), dtype=bool)  # the service answers
        self.status = np.zeros((self.steps, n), dtype=np.int64)

    def start(self) -> None:
        p = self.p
        for name in self.names:
            self.record("start", name, RUNTIME, memory_limit_mb=p.memory_limit_mb, cpu_limit_cores=p.cpu_limit_cores)
        if p.leak_mb_per_s > 0 or p.burn_cores > 0:
            self.record("misbehave", self.names[p.leaky_container], FAULT, at_s=float(p.leak_at_s),
                        leak_mb_per_s=p.leak_mb_per_s, burn_cores=p.burn_cores)
        self.schedule(0.0, "tick", k=0)

    def kill(self, i: int, mb: float, scope: str) -> None:
        """The kernel OOM-kills container ``i``; its restart policy decides whether and when it comes back."""
        t = self.now
        self.record("oom-kill", self.names[i], KERNEL, memory_mb=round(mb, 1), scope=scope, exit_code=OOM_EXIT_CODE)
        self.state[i] = "dead"
        if self.p.restart_policy == "no":
            return
        if t - self.started[i] >= BACKOFF_RESET_S:
            self.quick_restarts[i] = 0
        delay = restart_delay_s(int(self.quick_restarts[i]))
        self.quick_restarts[i] += 1
        self.waited[i] = delay
        self.restart_at[i] = t + delay

    def restart_or_ready(self, i: int, t: float) -> None:
        """The runtime restarts a dead container whose wait is over, and marks a started one ready."""
        if self.state[i] == "dead" and self.restart_at[i] <= t + 1e-9:
            self.restarts[i] += 1
            self.record("restart", self.names[i], RUNTIME, at_s=round(float(self.restart_at[i]), 3),
                        policy=self.p.restart_policy, restarts=int(self.restarts[i]),
                        waited_s=round(float(self.waited[i]), 3))
            self.state[i] = "starting"
            self.started[i] = self.restart_at[i]
            self.restart_at[i] = np.inf
        if self.state[i] == "starting" and t + 1e-9 >= self.started[i] + self.p.start_s:
            self.state[i] = "running"
            self.record("ready", self.names[i], RUNTIME, at_s=round(float(self.started[i] + self.p.start_s), 3))

    def resident_mb(self, t: float) -> np.ndarray:
        """Every container's memory at ``t`` (0 when dead): base, the garbage-collection sawtooth, the leak."""
        p, state, started, phase = self.p, self.state, self.started, self.phases
        rss = np.zeros(p.containers)
        for i in range(p.containers):
            if state[i] == "dead":
                continue
            mb = p.base_memory_mb + p.gc_swing_mb * (((t + phase[i]) % p.gc_period_s) / p.gc_period_s)
            if state[i] == "starting":
                mb = p.base_memory_mb * min(1.0, (t - started[i]) / max(p.start_s, 1e-9) + 0.3)
            if i == p.leaky_container and t >= p.leak_at_s:
                mb += p.leak_mb_per_s * (t - max(p.leak_at_s, started[i]))
            rss[i] = mb
        return rss

    def on_tick(self, k: int) -> None:
        """Steps ``k`` to ``k + STEPS_PER_TICK - 1``, each at its own time (one event per batch of steps)."""
        end = min(k + STEPS_PER_TICK, self.steps)
        for step in range(k, end):
            self.now = float(self.time_s[step])
            self.step(step)
        if end < self.steps:
            self.schedule(float(self.time_s[end]), "tick", k=end)

    def step(self, k: int) -> None:
        """One step: restarts and readiness, every container's memory, OOM kills in a cgroup or on the VM."""
        p, n, state = self.p, self.p.containers, self.state
        t = self.now
        for i in range(n):
            if state[i] != "running":  # only a dead or starting container has anything to wait for
                self.restart_or_ready(i, t)
        rss = self.resident_mb(t)
        if p.memory_limit_mb is not None:
            for i in range(n):
                if state[i] != "dead" and rss[i] >= p.memory_limit_mb:
                    self.kill(i, float(rss[i]), "cgroup")
                    rss[i] = 0.0
        while rss.sum() > self.usable_mb and rss.any():  # the whole VM is out of memory: the largest goes
            i = int(np.argmax(rss))
            self.kill(i, float(rss[i]), "vm")
            rss[i] = 0.0
        self.memory[k] = rss
        self.status[k] = [_STATUS[s] for s in state]
        self.alive[k] = [s == "running" for s in state]

    def cpu_and_latency(self) -> dict[str, np.ndarray]:
        """What each container asks for, what its quota and the VM's cores let it have, and its latency."""
        p, n, alive = self.p, self.p.containers, self.alive
        misbehaving = (self.time_s >= p.leak_at_s)[:, None] & (np.arange(n) == p.leaky_container)[None, :]
        demand = np.where(alive, self.requests * p.cpu_ms_per_request / 1000
                          + np.where(misbehaving, p.burn_cores, 0.0), 0.0)
        if p.cpu_limit_cores is not None:
            capped = np.minimum(demand, p.cpu_limit_cores)
            allowance = np.full(demand.shape, p.cpu_limit_cores)
        else:
            capped = demand
            allowance = np.full(demand.shape, p.vm_cpu_cores)
        total = capped.sum(axis=1, keepdims=True)
        scale = np.where(total > p.vm_cpu_cores, p.vm_cpu_cores / np.maximum(total, 1e-12), 1.0)
        used = capped * scale
        if p.cpu_limit_cores is None:
            # no quota: a container may use whatever the others leave idle, or its proportional share when busy
            others = total - capped
            allowance = np.where(total > p.vm_cpu_cores, used, np.maximum(p.vm_cpu_cores - others, 1e-12))
        else:
            allowance = np.minimum(allowance, np.where(total > p.vm_cpu_cores, used + 1e-12, allowance))
        rho = demand / np.maximum(allowance, 1e-12)
        slowdown = sharing_slowdown(rho)
        return {"cpu_demand_cores": demand, "cpu_used_cores": used,
                "throttled": alive & (demand > allowance + 1e-9),
                "latency_s": np.where(alive, p.base_latency_s * slowdown, np.nan)}


def run_host(params: HostParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the containers-on-a-VM model in steps of ``step_s`` and return its trace.

    Each container's memory is ``base_memory_mb`` plus a garbage-collection sawtooth (its phase drawn from
    ``seed``) plus, for the leaky one, what it leaked since the later of ``leak_at_s`` and its last start.
    """
    p: HostParams = with_overrides(params or HostParams(), overrides)
    sim = Host(p, seed)
    sim.start()
    sim.run()
    return sim.trace(params=params_dict(p), computed={"usable_memory_mb": sim.usable_mb},
                     series={"time_s": sim.time_s, "memory_mb": sim.memory, "memory_used_mb": sim.memory.sum(axis=1),
                             "alive": sim.alive, "status": sim.status, **sim.cpu_and_latency()}, sort=True)


def oom_kills(trace: Trace) -> list[tuple[float, str]]:
    """Every OOM kill of a :func:`run_host` trace: (time, container), in order."""
    return [(e.time_s, e.subject) for e in trace.of_kind("oom-kill")]


# ---- packing containers on VMs -------------------------------------------------------------------------------

#: What :func:`pack_containers` returns: lesson 01's placement, the same values (one per container).
PACKING_SCHEMA = Schema("container-packing", PLACEMENT_SCHEMA.series)


def pack_containers(memory_limits_mb: Sequence[float], *, vm_type: str = "m5.large",
                    os_memory_mb: float = 768.0) -> Result:
    """Place containers (by their memory limits) on VMs of ``vm_type`` with lesson 01's bin packing.

    The result is lesson 01's placement plus prices: ``computed["vms_best"]`` VMs cost
    ``computed["usd_per_hour"]``; ``computed["vm_per_instance_usd_per_hour"]`` is lesson 02's way, every instance
    on the cheapest VM type whose memory holds it.
    """
    vm = instance_type(vm_type)
    os_mb = check_number("os_memory_mb", os_memory_mb, low=0, high=vm.memory_gib * 1024 / 2)
    capacity = vm.memory_gib * 1024 - os_mb
    placed = run_placement(list(memory_limits_mb), capacity_mb=capacity)
    best = placed.computed["machines"]["best"]
    own = 0.0
    for size in placed.values["size_mb"]:
        fits = [t for t in INSTANCE_TYPES if t.memory_gib * 1024 - os_mb >= size]
        if not fits:
            raise ParameterError(f"a container of {size:g} MB fits on none of the lesson's instance types")
        own += min(t.usd_per_hour for t in fits)
    return PACKING_SCHEMA.result(
        params={**placed.params, "vm_type": vm_type, "os_memory_mb": os_mb}, seed=0, values=placed.values,
        computed={**placed.computed, "vms_best": best, "usd_per_hour": round(best * vm.usd_per_hour, 6),
                  "vm_per_instance_usd_per_hour": round(own, 6),
                  "memory_used_share": float(placed.values["size_mb"].sum() / (best * capacity))})
