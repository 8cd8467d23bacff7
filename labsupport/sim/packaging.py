"""Lesson 01: services deployed as language-specific packages, several instances on one machine, no caps.

**The machine model** (:func:`run_machine`). One machine's CPU cores and memory are shared by ``instances``
service processes (or, with ``shared_server=True``, by services deployed together in one application server
process). Nothing caps what a process takes. From ``noise_at_s`` one instance misbehaves: it burns
``burn_cores`` of CPU and leaks ``leak_mb_per_s`` of memory.

* CPU: every second each live instance needs ``requests × cpu_ms_per_request`` of CPU time, the noisy one
  ``burn_cores`` more. The scheduler shares the cores in proportion to what each asks for. Latency grows with
  the machine's utilisation ρ like a processor-sharing queue, ``base_latency_s / (1 - ρ)`` (at most
  ``_MAX_SLOWDOWN`` times), and when ρ ≥ 1 a share ``1 - 1/ρ`` of requests cannot be served.
* Memory: when the processes' resident memory is more than the RAM, the machine swaps and every instance
  slows down (up to ``_SWAP_SLOWDOWN`` times with the swap full). When it is more than RAM plus swap, the
  kernel's OOM killer kills the process with the most memory (Linux picks the largest ``oom_score``, which
  is mostly its share of memory), until what is left fits.
* A request slower than ``timeout_s`` counts as failed (the share ``exp(-timeout_s / latency)`` of an
  exponential spread around the mean latency); a dead instance fails every request.

With ``shared_server=True`` the services are one process: the leak grows the common heap and the OOM killer,
or a crash at ``crash_at_s``, takes every service down at once.

**The placement model** (:func:`first_fit`, :func:`optimal_packing`, :func:`run_placement`). Placing
instances with memory needs on machines of equal size is bin packing: a simple rule against the best packing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, Trace, generator

__all__ = [
    "DEFAULT_MEMORY_MB",
    "MachineParams",
    "Packing",
    "first_fit",
    "machines_used",
    "optimal_packing",
    "oom_kill_order",
    "run_machine",
    "run_placement",
]

#: Resident memory of each instance before anything goes wrong (MB), by instance number.
DEFAULT_MEMORY_MB = (900.0, 1200.0, 700.0, 1500.0, 1000.0, 800.0, 1300.0, 600.0)
MAX_INSTANCES = len(DEFAULT_MEMORY_MB)
_MAX_SLOWDOWN = 20.0  # a saturated CPU answers at most 20x slower than an idle one
_SWAP_SLOWDOWN = 10.0  # with the swap full, every memory access that misses RAM waits for the disk
FAULT, KERNEL, MACHINE, APP_SERVER = "fault", "kernel", "machine", "app-server"


@dataclass(frozen=True, slots=True)
class MachineParams:
    """Parameters of :func:`run_machine`; every field is checked and a bad one gets a clear message."""

    instances: int = 4
    duration_s: float = 120.0
    cpu_cores: float = 4.0
    memory_mb: float = 8192.0
    swap_mb: float = 2048.0
    instance_memory_mb: tuple[float, ...] | None = None  # None: DEFAULT_MEMORY_MB[:instances]
    request_rate_per_s: float = 40.0  # per instance
    cpu_ms_per_request: float = 15.0
    base_latency_s: float = 0.02
    timeout_s: float = 1.0
    noisy_instance: int = 0
    noise_at_s: float = 30.0
    burn_cores: float = 1.0
    leak_mb_per_s: float = 80.0
    crash_at_s: float | None = None  # the noisy instance dies of a fatal error at this time
    shared_server: bool = False

    def validated(self) -> MachineParams:
        n = check_int("instances", self.instances, low=1, high=MAX_INSTANCES)
        duration = check_number("duration_s", self.duration_s, low=10, high=3600)
        check_number("cpu_cores", self.cpu_cores, low=0.5, high=256)
        check_number("memory_mb", self.memory_mb, low=256, high=2**21)
        check_number("swap_mb", self.swap_mb, low=0, high=2**21)
        if self.instance_memory_mb is not None:
            if not isinstance(self.instance_memory_mb, (tuple, list)) or len(self.instance_memory_mb) != n:
                raise ParameterError(f"instance_memory_mb must hold one number per instance ({n}), "
                                     f"got {self.instance_memory_mb!r}")
            for i, mb in enumerate(self.instance_memory_mb):
                check_number(f"instance_memory_mb[{i}]", mb, low=0, low_open=True, high=2**21)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0, high=10_000)
        check_number("cpu_ms_per_request", self.cpu_ms_per_request, low=0, high=10_000)
        check_number("base_latency_s", self.base_latency_s, low=0, low_open=True, high=10)
        check_number("timeout_s", self.timeout_s, low=0, low_open=True, high=600)
        check_int("noisy_instance", self.noisy_instance, low=0, high=n - 1)
        check_number("noise_at_s", self.noise_at_s, low=0, high=duration)
        check_number("burn_cores", self.burn_cores, low=0, high=256)
        check_number("leak_mb_per_s", self.leak_mb_per_s, low=0, high=100_000)
        if self.crash_at_s is not None:
            check_number("crash_at_s", self.crash_at_s, low=0, high=duration)
        if not isinstance(self.shared_server, (bool, np.bool_)):
            raise ParameterError(f"shared_server must be True or False, got {self.shared_server!r}")
        return self

    def sizes_mb(self) -> np.ndarray:
        sizes = self.instance_memory_mb if self.instance_memory_mb is not None else DEFAULT_MEMORY_MB[:self.instances]
        return np.array(sizes, dtype=float)


def run_machine(params: MachineParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the one-machine model for ``duration_s`` in steps of one second and return its trace.

    ``overrides`` replace fields of ``params`` (``run_machine(instances=6, leak_mb_per_s=0)``).
    """
    p = with_overrides(params or MachineParams(), overrides)
    n = p.instances
    names = [f"instance-{i}" for i in range(n)]
    steps = int(math.floor(p.duration_s)) + 1
    time_s = np.arange(steps, dtype=float)
    draw = generator(seed)
    requests = draw.poisson(p.request_rate_per_s, size=(steps, n)).astype(float)
    noise = draw.lognormal(0.0, 0.12, size=(steps, n))
    sizes = p.sizes_mb()
    noisy = np.zeros(n, dtype=bool)
    noisy[p.noisy_instance] = True
    misbehaving = time_s >= p.noise_at_s  # per step: has the noisy instance started to misbehave?
    leak_mb = np.where(misbehaving, (time_s - p.noise_at_s) * p.leak_mb_per_s, 0.0)

    alive = np.ones((steps, n), dtype=bool)
    memory = np.zeros((steps, n))
    events: list[Event] = [Event(0.0, "start", name, "operator", {"memory_mb": float(sizes[i])})
                           for i, name in enumerate(names)]
    if p.noise_at_s <= p.duration_s and (p.burn_cores > 0 or p.leak_mb_per_s > 0):
        events.append(Event(float(np.ceil(p.noise_at_s)), "misbehave", names[p.noisy_instance], FAULT,
                            {"burn_cores": p.burn_cores, "leak_mb_per_s": p.leak_mb_per_s}))
    limit_mb = p.memory_mb + p.swap_mb
    live = np.ones(n, dtype=bool)
    crash_step = int(math.ceil(p.crash_at_s)) if p.crash_at_s is not None else -1
    swapping = False

    def kill(k: int, victims: np.ndarray, kind: str, actor: str, rss: np.ndarray) -> None:
        if p.shared_server:
            events.append(Event(float(k), kind, APP_SERVER, actor, {"rss_mb": round(float(rss.sum()), 1)}))
            events.extend(Event(float(k), "service-down", names[i], APP_SERVER) for i in np.flatnonzero(live))
            live[:] = False
        else:
            for i in victims:
                events.append(Event(float(k), kind, names[i], actor, {"rss_mb": round(float(rss[i]), 1)}))
                live[i] = False

    for k in range(steps):
        leaked = np.where(noisy, leak_mb[k], 0.0)  # a dead process's leak is gone with it
        rss = np.where(live, sizes + leaked, 0.0)
        if k == crash_step and live[p.noisy_instance]:
            kill(k, np.array([p.noisy_instance]), "crash", FAULT, rss)
            rss = np.where(live, rss, 0.0)
        while rss.sum() > limit_mb and live.any():  # the OOM killer: the largest process first
            kill(k, np.array([int(np.argmax(rss))]), "oom-kill", KERNEL, rss)
            rss = np.where(live, rss, 0.0)
        if not swapping and rss.sum() > p.memory_mb:
            swapping = True
            events.append(Event(float(k), "swapping", "machine", KERNEL,
                                {"used_mb": round(float(rss.sum()), 1), "ram_mb": p.memory_mb}))
        elif swapping and rss.sum() <= p.memory_mb:
            swapping = False
            events.append(Event(float(k), "swapping-stopped", "machine", KERNEL))
        alive[k] = live
        memory[k] = rss

    # CPU and latency, all steps at once.
    cpu_demand = np.where(alive, requests * p.cpu_ms_per_request / 1000
                          + np.where(noisy & misbehaving[:, None], p.burn_cores, 0.0), 0.0)
    demand_total = cpu_demand.sum(axis=1)
    rho = demand_total / p.cpu_cores
    share = np.minimum(1.0, 1.0 / np.maximum(rho, 1e-12))
    cpu_used = cpu_demand * share[:, None]
    cpu_slowdown = np.where(rho < 1, np.minimum(1.0 / np.maximum(1.0 - rho, 1e-12), _MAX_SLOWDOWN), _MAX_SLOWDOWN)
    memory_total = memory.sum(axis=1)
    swap_used = np.clip(memory_total - p.memory_mb, 0.0, p.swap_mb)
    swap_fill = swap_used / p.swap_mb if p.swap_mb > 0 else np.zeros(steps)
    swap_slowdown = 1.0 + (_SWAP_SLOWDOWN - 1.0) * swap_fill
    latency = p.base_latency_s * (cpu_slowdown * swap_slowdown)[:, None] * noise
    shed = np.where(rho > 1, 1.0 - 1.0 / np.maximum(rho, 1e-12), 0.0)[:, None]
    # Response times of a processor-sharing server spread roughly exponentially around their mean: the share
    # slower than the timeout is exp(-timeout / mean). Shed requests fail too.
    failed = shed + (1.0 - shed) * np.exp(-p.timeout_s / latency)
    failed = np.where(alive, failed, 1.0)
    latency = np.where(alive, latency, np.nan)
    saturated = np.flatnonzero(rho >= 1)
    if len(saturated):
        events.append(Event(float(saturated[0]), "cpu-saturated", "machine", MACHINE,
                            {"demand_cores": round(float(demand_total[saturated[0]]), 2)}))

    events.sort(key=lambda e: e.time_s)  # stable: same-time events keep the order they happened in
    return Trace(
        model="machine",
        params={**asdict(p), "instance_memory_mb": tuple(float(s) for s in sizes)},
        seed=seed,
        events=tuple(events),
        series={
            "time_s": time_s,
            "alive": alive,
            "requests": requests,
            "cpu_demand_cores": cpu_demand,
            "cpu_used_cores": cpu_used,
            "cpu_utilisation": np.minimum(rho, 1.0),
            "memory_mb": memory,
            "memory_used_mb": memory_total,
            "swap_used_mb": swap_used,
            "latency_s": latency,
            "failed_share": failed,
        },
    )


def oom_kill_order(trace: Trace) -> list[str]:
    """Who the OOM killer killed, in order (``app-server`` for a shared application server)."""
    return [e.subject for e in trace.of_kind("oom-kill")]


# ---- placement: bin packing --------------------------------------------------------------------------------

Packing = tuple[tuple[int, ...], ...]  # one tuple of instance numbers per machine


def _check_sizes(sizes_mb: Sequence[float], capacity_mb: float) -> list[float]:
    capacity = check_number("capacity_mb", capacity_mb, low=0, low_open=True)
    if isinstance(sizes_mb, (str, bytes)) or not isinstance(sizes_mb, (Sequence, np.ndarray)):
        raise ParameterError(f"sizes_mb must be a list of numbers, got {type(sizes_mb).__name__}")
    sizes = [check_number(f"sizes_mb[{i}]", s, low=0, low_open=True) for i, s in enumerate(sizes_mb)]
    too_big = [i for i, s in enumerate(sizes) if s > capacity]
    if too_big:
        raise ParameterError(f"instance(s) {too_big} need more than one machine's {capacity:g} MB: no placement fits")
    return sizes


def _canonical(machines: list[list[int]]) -> Packing:
    return tuple(sorted(tuple(sorted(m)) for m in machines if m))


def first_fit(sizes_mb: Sequence[float], capacity_mb: float, *, decreasing: bool = False) -> Packing:
    """Put each instance on the first machine with room, opening a new machine when none has room.

    ``decreasing=True`` places the largest instances first (first-fit decreasing).
    """
    sizes = _check_sizes(sizes_mb, capacity_mb)
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)) if decreasing else range(len(sizes))
    machines: list[list[int]] = []
    loads: list[float] = []
    for i in order:
        for m, load in enumerate(loads):
            if load + sizes[i] <= capacity_mb + 1e-9:
                machines[m].append(i)
                loads[m] += sizes[i]
                break
        else:
            machines.append([i])
            loads.append(sizes[i])
    return _canonical(machines)


def optimal_packing(sizes_mb: Sequence[float], capacity_mb: float, *, max_instances: int = 16) -> Packing:
    """A packing on the fewest machines, by exact branch-and-bound search (fine for up to ~16 instances)."""
    sizes = _check_sizes(sizes_mb, capacity_mb)
    if len(sizes) > max_instances:
        raise ParameterError(f"the exact search handles at most {max_instances} instances, got {len(sizes)}")
    best = [list(m) for m in first_fit(sizes, capacity_mb, decreasing=True)]
    lower = math.ceil(sum(sizes) / capacity_mb - 1e-9) if sizes else 0
    if len(best) <= lower:
        return _canonical(best)
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
    suffix = np.cumsum([sizes[i] for i in order][::-1])[::-1].tolist() + [0.0]
    machines: list[list[int]] = []
    loads: list[float] = []

    def search(j: int) -> bool:  # True: a packing with `lower` machines is found, stop
        nonlocal best
        if len(machines) >= len(best):
            return False
        if j == len(order):
            best = [list(m) for m in machines]
            return len(best) <= lower
        free = sum(capacity_mb - load for load in loads)
        if len(machines) + math.ceil(max(0.0, suffix[j] - free) / capacity_mb - 1e-9) >= len(best):
            return False
        i = order[j]
        tried: set[float] = set()
        for m in range(len(machines)):
            if loads[m] + sizes[i] <= capacity_mb + 1e-9 and loads[m] not in tried:
                tried.add(loads[m])
                machines[m].append(i)
                loads[m] += sizes[i]
                done = search(j + 1)
                machines[m].pop()
                loads[m] -= sizes[i]
                if done:
                    return True
        machines.append([i])
        loads.append(sizes[i])
        done = search(j + 1)
        machines.pop()
        loads.pop()
        return done

    search(0)
    return _canonical(best)


def machines_used(packing: Packing) -> int:
    return len(packing)


#: Memory sizes (MB) the placement model draws from: common heap settings plus the runtime's own memory.
SIZE_CHOICES_MB = (512.0, 768.0, 1024.0, 1536.0, 2048.0, 2560.0, 3072.0)


def run_placement(sizes_mb: Sequence[float] | None = None, *, capacity_mb: float = 4096.0, instances: int = 10,
                  seed: int = 0) -> Trace:
    """Place instances on machines of ``capacity_mb`` with first-fit, first-fit decreasing and the best packing.

    Without ``sizes_mb`` the sizes are drawn from :data:`SIZE_CHOICES_MB` with ``seed``. The series
    ``machine_<rule>`` give each instance's machine number under each rule.
    """
    if sizes_mb is None:
        n = check_int("instances", instances, low=1, high=16)
        sizes_mb = [float(s) for s in generator(seed).choice(SIZE_CHOICES_MB, size=n)]
    sizes = _check_sizes(sizes_mb, capacity_mb)
    packings = {"first_fit": first_fit(sizes, capacity_mb),
                "first_fit_decreasing": first_fit(sizes, capacity_mb, decreasing=True),
                "best": optimal_packing(sizes, capacity_mb)}
    series: dict[str, np.ndarray] = {"size_mb": np.array(sizes)}
    events = []
    for rule, packing in packings.items():
        machine_of = np.zeros(len(sizes), dtype=np.int64)
        for m, members in enumerate(packing):
            machine_of[list(members)] = m
        series[f"machine_{rule}"] = machine_of
        events.append(Event(0.0, "packed", rule, "placement", {"machines": len(packing)}))
    return Trace(model="placement", params={"sizes_mb": tuple(sizes), "capacity_mb": float(capacity_mb)},
                 seed=seed, events=tuple(events), series=series)
