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
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Result, Schema, Series, Trace, generator

__all__ = [
    "DEFAULT_MEMORY_MB",
    "MachineParams",
    "Packing",
    "first_fit",
    "MACHINE_SCHEMA",
    "PLACEMENT_RULES",
    "PLACEMENT_SCHEMA",
    "Machine",
    "optimal_packing",
    "oom_kill_order",
    "run_machine",
    "run_placement",
    "sharing_slowdown",
]

#: Resident memory of each instance before anything goes wrong (MB), by instance number.
DEFAULT_MEMORY_MB = (900.0, 1200.0, 700.0, 1500.0, 1000.0, 800.0, 1300.0, 600.0)
MAX_INSTANCES = len(DEFAULT_MEMORY_MB)
_MAX_SLOWDOWN = 20.0  # a saturated CPU answers at most 20x slower than an idle one
#: How many one-second steps one ``tick`` event of :class:`Machine` (and of lesson 03's containers) handles.
STEPS_PER_TICK = 10
_SWAP_SLOWDOWN = 10.0  # with the swap full, every memory access that misses RAM waits for the disk
FAULT, KERNEL, MACHINE, APP_SERVER = "fault", "kernel", "machine", "app-server"


def sharing_slowdown(rho: np.ndarray) -> np.ndarray:
    """How much slower a processor-sharing server answers at utilisation ``rho``: ``1 / (1 - rho)``, at most
    ``_MAX_SLOWDOWN`` times (and that when saturated, ``rho >= 1``)."""
    return np.where(rho < 1, np.minimum(1.0 / np.maximum(1.0 - rho, 1e-12), _MAX_SLOWDOWN), _MAX_SLOWDOWN)


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


#: What :func:`run_machine` records: per step (``time``) and per instance.
MACHINE_SCHEMA = Schema("machine", (
    Series("time_s", "s", ("time",), "the start of each one-second step"),
    Series("alive", "", ("time", "instance"), "the process is running"),
    Series("requests", "count", ("time", "instance"), "requests that arrived in the step"),
    Series("cpu_demand_cores", "cores", ("time", "instance"), "CPU the instance asks for"),
    Series("cpu_used_cores", "cores", ("time", "instance"), "CPU the scheduler gives it"),
    Series("cpu_utilisation", "share", ("time",), "the machine's CPU demand over its cores, at most 1"),
    Series("memory_mb", "MB", ("time", "instance"), "resident memory of each process"),
    Series("memory_used_mb", "MB", ("time",), "resident memory of every process"),
    Series("swap_used_mb", "MB", ("time",), "memory swapped out to disk"),
    Series("latency_s", "s", ("time", "instance"), "mean response time (NaN when dead)"),
    Series("failed_share", "share", ("time", "instance"), "requests that failed or timed out"),
))


class Machine(Simulation):
    """One machine, several uncapped processes: memory and the OOM killer step by step (one ``tick`` per
    second), then CPU and latency for every step at once."""

    SCHEMA: ClassVar[Schema] = MACHINE_SCHEMA

    def __init__(self, p: MachineParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        n = p.instances
        self.names = [f"instance-{i}" for i in range(n)]
        self.steps = int(math.floor(p.duration_s)) + 1
        self.time_s = np.arange(self.steps, dtype=float)
        self.requests = self.random.poisson(p.request_rate_per_s, size=(self.steps, n)).astype(float)
        self.noise = self.random.lognormal(0.0, 0.12, size=(self.steps, n))
        self.sizes = p.sizes_mb()
        self.noisy = np.zeros(n, dtype=bool)
        self.noisy[p.noisy_instance] = True
        self.misbehaving = self.time_s >= p.noise_at_s  # per step: has the noisy instance started to misbehave?
        leak_mb = np.where(self.misbehaving, (self.time_s - p.noise_at_s) * p.leak_mb_per_s, 0.0)
        # what each process would hold at each step if alive (a dead process's leak is gone with it)
        self.wanted_mb = self.sizes + np.where(self.noisy[None, :], leak_mb[:, None], 0.0)
        self.alive = np.ones((self.steps, n), dtype=bool)
        self.memory = np.zeros((self.steps, n))
        self.live = np.ones(n, dtype=bool)
        self.crash_step = int(math.ceil(p.crash_at_s)) if p.crash_at_s is not None else -1
        self.swapping = False

    def start(self) -> None:
        p = self.p
        for i, name in enumerate(self.names):
            self.record("start", name, "operator", memory_mb=float(self.sizes[i]))
        if p.noise_at_s <= p.duration_s and (p.burn_cores > 0 or p.leak_mb_per_s > 0):
            self.record("misbehave", self.names[p.noisy_instance], FAULT, at_s=float(np.ceil(p.noise_at_s)),
                        burn_cores=p.burn_cores, leak_mb_per_s=p.leak_mb_per_s)
        self.schedule(0.0, "tick", k=0)

    def kill(self, victims: list[int], kind: str, actor: str, rss: np.ndarray) -> np.ndarray:
        """Kill ``victims`` (or, in a shared server, the whole server); return what is left resident."""
        if self.p.shared_server:
            self.record(kind, APP_SERVER, actor, rss_mb=round(float(rss.sum()), 1))
            for down in np.flatnonzero(self.live):
                self.record("service-down", self.names[down], APP_SERVER)
            self.live[:] = False
        else:
            for i in victims:
                self.record(kind, self.names[i], actor, rss_mb=round(float(rss[i]), 1))
                self.live[i] = False
        return np.where(self.live, rss, 0.0)

    def on_tick(self, k: int) -> None:
        """Steps ``k`` to ``k + STEPS_PER_TICK - 1``, each at its own second: one event per batch of steps
        (with an event per step the run took about 30 % longer, measured on this model)."""
        end = min(k + STEPS_PER_TICK, self.steps)
        for step in range(k, end):
            self.now = float(step)
            self.step(step)
        if end < self.steps:
            self.schedule(float(end), "tick", k=end)

    def step(self, k: int) -> None:
        """One second: the leak grows, a crash or the OOM killer may kill, the machine may start or stop swapping."""
        p = self.p
        rss = np.where(self.live, self.wanted_mb[k], 0.0)
        if k == self.crash_step and self.live[p.noisy_instance]:
            rss = self.kill([p.noisy_instance], "crash", FAULT, rss)
        while rss.sum() > p.memory_mb + p.swap_mb and self.live.any():  # the OOM killer: the largest first
            rss = self.kill([int(np.argmax(rss))], "oom-kill", KERNEL, rss)
        used = rss.sum()
        if not self.swapping and used > p.memory_mb:
            self.swapping = True
            self.record("swapping", "machine", KERNEL, used_mb=round(float(used), 1), ram_mb=p.memory_mb)
        elif self.swapping and used <= p.memory_mb:
            self.swapping = False
            self.record("swapping-stopped", "machine", KERNEL)
        self.alive[k] = self.live
        self.memory[k] = rss

    def cpu_and_latency(self) -> dict[str, np.ndarray]:
        """CPU shares, latency and failures of every step at once (numpy over the whole run)."""
        p, alive = self.p, self.alive
        cpu_demand = np.where(alive, self.requests * p.cpu_ms_per_request / 1000
                              + np.where(self.noisy & self.misbehaving[:, None], p.burn_cores, 0.0), 0.0)
        demand_total = cpu_demand.sum(axis=1)
        rho = demand_total / p.cpu_cores
        share = np.minimum(1.0, 1.0 / np.maximum(rho, 1e-12))
        cpu_slowdown = sharing_slowdown(rho)
        memory_total = self.memory.sum(axis=1)
        swap_used = np.clip(memory_total - p.memory_mb, 0.0, p.swap_mb)
        swap_fill = swap_used / p.swap_mb if p.swap_mb > 0 else np.zeros(self.steps)
        swap_slowdown = 1.0 + (_SWAP_SLOWDOWN - 1.0) * swap_fill
        latency = p.base_latency_s * (cpu_slowdown * swap_slowdown)[:, None] * self.noise
        shed = np.where(rho > 1, 1.0 - 1.0 / np.maximum(rho, 1e-12), 0.0)[:, None]
        # Response times of a processor-sharing server spread roughly exponentially around their mean: the share
        # slower than the timeout is exp(-timeout / mean). Shed requests fail too.
        failed = shed + (1.0 - shed) * np.exp(-p.timeout_s / latency)
        saturated = np.flatnonzero(rho >= 1)
        if len(saturated):
            self.record("cpu-saturated", "machine", MACHINE, at_s=float(saturated[0]),
                        demand_cores=round(float(demand_total[saturated[0]]), 2))
        return {"cpu_demand_cores": cpu_demand, "cpu_used_cores": cpu_demand * share[:, None],
                "cpu_utilisation": np.minimum(rho, 1.0), "memory_used_mb": memory_total, "swap_used_mb": swap_used,
                "latency_s": np.where(alive, latency, np.nan), "failed_share": np.where(alive, failed, 1.0)}


def run_machine(params: MachineParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the one-machine model for ``duration_s`` in steps of one second and return its trace.

    ``overrides`` replace fields of ``params`` (``run_machine(instances=6, leak_mb_per_s=0)``).
    """
    p = with_overrides(params or MachineParams(), overrides)
    sim = Machine(p, seed)
    sim.start()
    sim.run()
    derived = sim.cpu_and_latency()
    # sorted, stable: same-time events keep the order they happened in
    return sim.trace(params={**params_dict(p), "instance_memory_mb": tuple(float(s) for s in sim.sizes)},
                     series={"time_s": sim.time_s, "alive": sim.alive, "requests": sim.requests,
                             "memory_mb": sim.memory, **derived}, sort=True)


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


#: Memory sizes (MB) the placement model draws from: common heap settings plus the runtime's own memory.
SIZE_CHOICES_MB = (512.0, 768.0, 1024.0, 1536.0, 2048.0, 2560.0, 3072.0)


#: The placement rules :func:`run_placement` compares, in order.
PLACEMENT_RULES = ("first_fit", "first_fit_decreasing", "best")
#: What :func:`run_placement` returns: per instance, its size and its machine under each rule.
PLACEMENT_SCHEMA = Schema("placement", (
    Series("size_mb", "MB", ("instance",), "memory each instance needs"),
    *(Series(f"machine_{rule}", "count", ("instance",), f"the instance's machine (from 0) under {rule}")
      for rule in PLACEMENT_RULES),
))


def run_placement(sizes_mb: Sequence[float] | None = None, *, capacity_mb: float = 4096.0, instances: int = 10,
                  seed: int = 0) -> Result:
    """Place instances on machines of ``capacity_mb`` with first-fit, first-fit decreasing and the best packing.

    Without ``sizes_mb`` the sizes are drawn from :data:`SIZE_CHOICES_MB` with ``seed``. The values
    ``machine_<rule>`` give each instance's machine number under each rule; ``computed["machines"]`` how many
    machines each rule uses.
    """
    if sizes_mb is None:
        n = check_int("instances", instances, low=1, high=16)
        sizes_mb = [float(s) for s in generator(seed).choice(SIZE_CHOICES_MB, size=n)]
    sizes = _check_sizes(sizes_mb, capacity_mb)
    packings = {"first_fit": first_fit(sizes, capacity_mb),
                "first_fit_decreasing": first_fit(sizes, capacity_mb, decreasing=True),
                "best": optimal_packing(sizes, capacity_mb)}
    values: dict[str, np.ndarray] = {"size_mb": np.array(sizes)}
    for rule in PLACEMENT_RULES:
        machine_of = np.zeros(len(sizes), dtype=np.int64)
        for m, members in enumerate(packings[rule]):
            machine_of[list(members)] = m
        values[f"machine_{rule}"] = machine_of
    return PLACEMENT_SCHEMA.result(params={"sizes_mb": tuple(sizes), "capacity_mb": float(capacity_mb)}, seed=seed,
                                   values=values,
                                   computed={"machines": {rule: len(packings[rule]) for rule in PLACEMENT_RULES}})
