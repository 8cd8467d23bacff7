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
from dataclasses import asdict, dataclass

import numpy as np

from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, Trace, generator
from labsupport.sim.catalogue import INSTANCE_TYPES, instance_type
from labsupport.sim.packaging import run_placement

__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_RESET_S",
    "CACHE_CHECK_S",
    "LAYER_INSTRUCTIONS",
    "RESTART_POLICIES",
    "BuildStep",
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
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise ParameterError(f"steps must be a list of BuildStep, got {type(steps).__name__}")
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
    steps = _check_steps(steps)
    files = _check_files(changed_files)
    edited_set = {check_int("edited step", e, low=0, high=len(steps) - 1) for e in edited}
    for i, step in enumerate(steps):
        if i in edited_set or copies_changed(step, files):
            return i
    return None


def run_build(steps: Sequence[BuildStep], changed_files: Iterable[str] = (), edited: Iterable[int] = (), *,
              cache: bool = True, frames: int = 60) -> Trace:
    """Build ``steps`` once more after ``changed_files`` changed and the steps numbered ``edited`` were edited.

    With ``cache=False`` (a first build, or ``--no-cache``) every step runs. Events: one ``cache-hit`` or
    ``run`` per step, then ``image-ready``. Series per step (``step_*``) and a time axis of ``frames + 1``
    points for the animation.
    """
    steps = _check_steps(steps)
    frames = check_int("frames", frames, low=1, high=1000)
    first = first_invalidated(steps, changed_files, edited) if cache else 0
    if first is None:
        first = len(steps)
    events: list[Event] = []
    starts, ends, reused = [], [], []
    t = 0.0
    for i, step in enumerate(steps):
        hit = i < first
        duration = CACHE_CHECK_S if hit else float(step.build_s)
        events.append(Event(round(t, 3), "cache-hit" if hit else "run", f"step {i + 1}", "builder",
                            {"instruction": step.text[:60], "seconds": round(duration, 3),
                             "size_mb": step.size_mb if step.makes_layer else 0.0}))
        starts.append(t)
        t += duration
        ends.append(t)
        reused.append(hit)
    total = t
    rebuilt_mb = sum(s.size_mb for s, hit in zip(steps, reused, strict=True) if not hit and s.makes_layer)
    events.append(Event(round(total, 3), "image-ready", "image", "builder",
                        {"seconds": round(total, 2), "rebuilt_steps": len(steps) - min(first, len(steps)),
                         "new_layer_mb": round(rebuilt_mb, 1)}))
    return Trace(
        model="build",
        params={"changed_files": tuple(_check_files(changed_files)), "edited": tuple(sorted(set(edited))),
                "cache": bool(cache), "first_rebuilt": first if first < len(steps) else None,
                "total_s": round(total, 3), "rebuilt_mb": round(rebuilt_mb, 3),
                "image_mb": round(sum(s.size_mb for s in steps if s.makes_layer), 3)},
        seed=0,
        events=tuple(events),
        series={
            "time_s": np.linspace(0.0, total, frames + 1),
            "step_text": np.array([s.text for s in steps], dtype=str),
            "step_instruction": np.array([s.instruction.upper() for s in steps], dtype=str),
            "step_start_s": np.array(starts),
            "step_end_s": np.array(ends),
            "step_reused": np.array(reused, dtype=bool),
            "step_size_mb": np.array([s.size_mb if s.makes_layer else 0.0 for s in steps]),
            "step_layer": np.array([s.makes_layer for s in steps], dtype=bool),
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


_MAX_SLOWDOWN = 20.0


def run_host(params: HostParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the containers-on-a-VM model in steps of ``step_s`` and return its trace.

    Each container's memory is ``base_memory_mb`` plus a garbage-collection sawtooth (its phase drawn from
    ``seed``) plus, for the leaky one, what it leaked since the later of ``leak_at_s`` and its last start.
    """
    p: HostParams = with_overrides(params or HostParams(), overrides)
    n = p.containers
    names = [f"container-{i}" for i in range(n)]
    steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
    time_s = np.arange(steps) * p.step_s
    draw = generator(seed)
    phase = draw.uniform(0.0, p.gc_period_s, size=n)
    requests = draw.poisson(p.request_rate_per_s * p.step_s, size=(steps, n)) / p.step_s
    usable_mb = p.vm_memory_mb - p.os_memory_mb

    events: list[Event] = [Event(0.0, "start", name, RUNTIME,
                                 {"memory_limit_mb": p.memory_limit_mb, "cpu_limit_cores": p.cpu_limit_cores})
                           for name in names]
    if p.leak_mb_per_s > 0 or p.burn_cores > 0:
        events.append(Event(float(p.leak_at_s), "misbehave", names[p.leaky_container], FAULT,
                            {"leak_mb_per_s": p.leak_mb_per_s, "burn_cores": p.burn_cores}))
    state = ["running"] * n  # running, dead, starting
    started = np.zeros(n)  # when the current run started (the service answers start_s later)
    restart_at = np.full(n, np.inf)
    quick_restarts = np.zeros(n, dtype=int)
    restarts = np.zeros(n, dtype=int)
    waited = np.zeros(n)
    memory = np.zeros((steps, n))
    alive = np.zeros((steps, n), dtype=bool)  # the service answers
    status = np.zeros((steps, n), dtype=np.int64)  # 0 serving, 1 starting, 2 dead

    def kill(k: int, i: int, kind: str, mb: float, scope: str) -> None:
        t = float(time_s[k])
        events.append(Event(t, kind, names[i], KERNEL,
                            {"memory_mb": round(mb, 1), "scope": scope, "exit_code": OOM_EXIT_CODE}))
        state[i] = "dead"
        if p.restart_policy == "no":
            return
        ran_s = t - started[i]
        if ran_s >= BACKOFF_RESET_S:
            quick_restarts[i] = 0
        delay = restart_delay_s(int(quick_restarts[i]))
        quick_restarts[i] += 1
        waited[i] = delay
        restart_at[i] = t + delay

    for k in range(steps):
        t = float(time_s[k])
        for i in range(n):
            if state[i] == "dead" and restart_at[i] <= t + 1e-9:
                restarts[i] += 1
                events.append(Event(round(float(restart_at[i]), 3), "restart", names[i], RUNTIME,
                                    {"policy": p.restart_policy, "restarts": int(restarts[i]),
                                     "waited_s": round(float(waited[i]), 3)}))
                state[i] = "starting"
                started[i] = restart_at[i]
                restart_at[i] = np.inf
            if state[i] == "starting" and t + 1e-9 >= started[i] + p.start_s:
                state[i] = "running"
                events.append(Event(round(float(started[i] + p.start_s), 3), "ready", names[i], RUNTIME))
        rss = np.zeros(n)
        for i in range(n):
            if state[i] == "dead":
                continue
            saw = p.gc_swing_mb * (((t + phase[i]) % p.gc_period_s) / p.gc_period_s)
            mb = p.base_memory_mb + saw
            if state[i] == "starting":
                mb = p.base_memory_mb * min(1.0, (t - started[i]) / max(p.start_s, 1e-9) + 0.3)
            if i == p.leaky_container and t >= p.leak_at_s:
                mb += p.leak_mb_per_s * (t - max(p.leak_at_s, started[i]))
            rss[i] = mb
        if p.memory_limit_mb is not None:
            for i in range(n):
                if state[i] != "dead" and rss[i] >= p.memory_limit_mb:
                    kill(k, i, "oom-kill", float(rss[i]), "cgroup")
                    rss[i] = 0.0
        while rss.sum() > usable_mb and rss.any():  # the whole VM is out of memory: the largest goes
            i = int(np.argmax(rss))
            kill(k, i, "oom-kill", float(rss[i]), "vm")
            rss[i] = 0.0
        memory[k] = rss
        for i in range(n):
            status[k, i] = {"running": 0, "starting": 1, "dead": 2}[state[i]]
            alive[k, i] = state[i] == "running"

    # CPU: what each container asks for, what its quota and the VM's cores let it have.
    misbehaving = (time_s >= p.leak_at_s)[:, None] & (np.arange(n) == p.leaky_container)[None, :]
    demand = np.where(alive, requests * p.cpu_ms_per_request / 1000 + np.where(misbehaving, p.burn_cores, 0.0), 0.0)
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
    slowdown = np.where(rho < 1, np.minimum(1.0 / np.maximum(1.0 - rho, 1e-12), _MAX_SLOWDOWN), _MAX_SLOWDOWN)
    latency = np.where(alive, p.base_latency_s * slowdown, np.nan)
    throttled = alive & (demand > allowance + 1e-9)

    events.sort(key=lambda e: e.time_s)
    return Trace(
        model="containers-host",
        params={**asdict(p), "usable_memory_mb": usable_mb},
        seed=seed,
        events=tuple(events),
        series={
            "time_s": time_s,
            "memory_mb": memory,
            "memory_used_mb": memory.sum(axis=1),
            "alive": alive,
            "status": status,
            "cpu_demand_cores": demand,
            "cpu_used_cores": used,
            "throttled": throttled,
            "latency_s": latency,
        },
    )


def oom_kills(trace: Trace) -> list[tuple[float, str]]:
    """Every OOM kill of a :func:`run_host` trace: (time, container), in order."""
    return [(e.time_s, e.subject) for e in trace.of_kind("oom-kill")]


# ---- packing containers on VMs -------------------------------------------------------------------------------

def pack_containers(memory_limits_mb: Sequence[float], *, vm_type: str = "m5.large",
                    os_memory_mb: float = 768.0) -> Trace:
    """Place containers (by their memory limits) on VMs of ``vm_type`` with lesson 01's bin packing.

    The trace is lesson 01's placement trace plus prices: ``params["vms_best"]`` VMs cost
    ``params["usd_per_hour"]``; ``params["vm_per_instance_usd_per_hour"]`` is lesson 02's way, every instance
    on the cheapest VM type whose memory holds it.
    """
    vm = instance_type(vm_type)
    os_mb = check_number("os_memory_mb", os_memory_mb, low=0, high=vm.memory_gib * 1024 / 2)
    capacity = vm.memory_gib * 1024 - os_mb
    placed = run_placement(list(memory_limits_mb), capacity_mb=capacity)
    best = int(placed.series["machine_best"].max()) + 1
    own = 0.0
    for size in placed.series["size_mb"]:
        fits = [t for t in INSTANCE_TYPES if t.memory_gib * 1024 - os_mb >= size]
        if not fits:
            raise ParameterError(f"a container of {size:g} MB fits on none of the lesson's instance types")
        own += min(t.usd_per_hour for t in fits)
    return Trace(model="container-packing",
                 params={**placed.params, "vm_type": vm_type, "os_memory_mb": os_mb, "vms_best": best,
                         "usd_per_hour": round(best * vm.usd_per_hour, 6),
                         "vm_per_instance_usd_per_hour": round(own, 6),
                         "memory_used_share": float(placed.series["size_mb"].sum() / (best * capacity))},
                 seed=0, events=placed.events, series=placed.series)
