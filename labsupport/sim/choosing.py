"""Lesson 07: one workload through the four deployment patterns, side by side, and which one to pick.

Nothing here models a pattern again; every measure comes from the lesson that models it:

* **serverless** (lesson 06): latency from :func:`~labsupport.sim.serverless.run_serverless` run with the
  workload's traffic (its cold starts make the tail), cost from
  :func:`~labsupport.sim.serverless.lambda_monthly_usd`, the share of billed time that did work from the run's
  bill;
* **VMs** (lesson 02): the deploy time of :func:`~labsupport.sim.vm.run_vm` (commit to the first new instance in
  service), the cheapest instances for each service from :func:`~labsupport.sim.vm.run_packing`, one service per
  group of VMs, sized for the peak;
* **containers** (lesson 03 on lesson 02's VMs): every service's instances packed together on shared VMs
  (:func:`~labsupport.sim.vm.run_packing` for the whole workload), plus a managed Kubernetes control plane;
* **language-specific packages** (lesson 01): the same shared machines as containers, with no container runtime
  and no orchestrator, and no resource caps.

Isolation and administration burden are scored 0–3 (:data:`ISOLATION`, :data:`ADMIN`), each with its reason;
the lesson explains them. :func:`recommend` follows the syllabus's order (serverless, containers, VMs,
language-specific packages): the first, most lightweight pattern that meets every stated requirement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, ClassVar

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Result, Schema, Series, Trace
from labsupport.sim.catalogue import instance_type
from labsupport.sim.containers import HostParams
from labsupport.sim.serverless import (
    SECONDS_PER_MONTH,
    CostCurveParams,
    init_s,
    lambda_monthly_usd,
    latency_percentiles,
    run_serverless,
)
from labsupport.sim.vm import VmParams, run_packing, run_vm

__all__ = [
    "ADMIN",
    "COMPARE_SCHEMA",
    "ISOLATION",
    "ISOLATION_NEEDS",
    "LAMBDA_MAX_MEMORY_MB",
    "LAMBDA_TIMEOUT_S",
    "PATTERNS",
    "SWEEP_SCHEMA",
    "Recommendation",
    "Sweep",
    "Workload",
    "compare",
    "measures",
    "recommend",
    "run_traffic_sweep",
]

#: The syllabus's order of consideration, most lightweight first.
PATTERNS = ("serverless", "containers", "vms", "packages")
LABELS = {"serverless": "serverless", "containers": "containers", "vms": "VMs", "packages": "language packages"}

#: What isolation a service may need, and the score (see :data:`ISOLATION`) that meets each need.
ISOLATION_NEEDS = {"none": 0, "resource-limits": 2, "own-kernel": 3}

#: Isolation between services (0–3) and why: a qualitative score, explained in the lesson.
ISOLATION: dict[str, tuple[int, str]] = {
    "serverless": (3, "each execution environment is a Firecracker micro-VM with its own kernel"),
    "containers": (2, "namespaces and cgroup limits per container, but one shared kernel per VM"),
    "vms": (3, "each service has its own VMs, so its own kernel, memory and CPUs"),
    "packages": (0, "processes share a machine with no resource caps: a noisy neighbour starves the others"),
}
#: Administration burden (0–3) and why: a qualitative score, explained in the lesson.
ADMIN: dict[str, tuple[int, str]] = {
    "serverless": (0, "no operating system, runtime or capacity to manage"),
    "containers": (2, "node operating systems, a container runtime and an orchestrator (Kubernetes) to run"),
    "vms": (2, "images to bake and patch, Auto Scaling groups and load balancers to size"),
    "packages": (3, "operating systems, language runtimes and placement of every instance by hand"),
}

LAMBDA_TIMEOUT_S = 900.0  # AWS Lambda Developer Guide, "Lambda quotas": 15 minutes per invocation
LAMBDA_MAX_MEMORY_MB = 10240  # "Lambda quotas"
EKS_USD_PER_HOUR = 0.10  # Amazon EKS pricing page: a cluster's control plane, standard support (2024)
TARGET_UTILIZATION = 0.7  # assumption: always-on capacity is sized so the peak keeps CPUs at most 70 % busy
# Deploy steps no earlier lesson models (assumptions, named in the lesson):
IMAGE_PULL_S = 20.0  # pulling the new image layers onto a node
LAMBDA_UPDATE_S = 10.0  # uploading the package and updating the function
PROCESS_RESTART_S = 5.0  # copying the package and restarting the process
SIM_WINDOW_S = 300.0  # how long the serverless run lasts: one burst cycle, longer than the idle expiry
#: CPU seconds per request on an always-on instance: lesson 06's assumption that one m5.large (2 vCPUs) carries
#: 150 requests per second.
VCPU_S_PER_REQUEST = (instance_type(CostCurveParams().vm_instance).vcpu / CostCurveParams().vm_capacity_rps)


@dataclass(frozen=True, slots=True)
class Workload:
    """One workload: traffic, size and requirements. Rates are per service, averaged over the month."""

    rate_per_s: float = 2.0  # mean requests per second, per service
    peak_to_mean: float = 10.0  # 1: steady; 10: the traffic comes in bursts at 10 times the mean, idle between
    memory_mb: int = 512  # per instance
    services: int = 3
    duration_ms: float = 80.0  # median handler time of a request
    isolation: str = "resource-limits"  # one of ISOLATION_NEEDS
    long_running: bool = False  # a long-running process (a message consumer, a job over 15 minutes)
    max_p99_ms: float | None = None  # a tail-latency requirement
    max_deploy_s: float | None = None  # how fast a change must reach production
    max_monthly_usd: float | None = None  # a budget for the whole workload

    def validated(self) -> Workload:
        check_number("rate_per_s", self.rate_per_s, low=0, high=100)
        check_number("peak_to_mean", self.peak_to_mean, low=1, high=60)
        check_int("memory_mb", self.memory_mb, low=128, high=LAMBDA_MAX_MEMORY_MB)
        check_int("services", self.services, low=1, high=50)
        check_number("duration_ms", self.duration_ms, low=1, high=LAMBDA_TIMEOUT_S * 1000)
        if self.isolation not in ISOLATION_NEEDS:
            raise ParameterError(f"isolation must be one of {', '.join(ISOLATION_NEEDS)}, got {self.isolation!r}")
        if not isinstance(self.long_running, bool):
            raise ParameterError(f"long_running must be True or False, got {self.long_running!r}")
        for name in ("max_p99_ms", "max_deploy_s", "max_monthly_usd"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name), low=0, low_open=True)
        if self.rate_per_s * self.peak_to_mean > 2000:
            raise ParameterError("rate_per_s × peak_to_mean (the peak) must stay under 2,000 requests per second; "
                                 f"got {self.rate_per_s * self.peak_to_mean:g}")
        return self

    @property
    def peak_per_s(self) -> float:
        return self.rate_per_s * self.peak_to_mean


@cache
def _vm_deploy_s() -> float:
    """Lesson 02's pipeline with its defaults: commit to the first image's instances in service."""
    return float(next(e.data["seconds_since_commit"] for e in run_vm().of_kind("deploy-complete")))


def _serverless_run(w: Workload, seed: int) -> Trace:
    """Lesson 06's model with this traffic: a steady share, and the rest in bursts at the peak rate."""
    every = SIM_WINDOW_S
    steady = w.rate_per_s / w.peak_to_mean
    burst = round((w.rate_per_s - steady) * every)
    return run_serverless(seed=seed, duration_s=SIM_WINDOW_S, request_rate_per_s=steady,
                          burst_every_s=every if burst > 0 else None, burst_first_s=30.0,
                          burst_size=min(burst, 20000), burst_spread_s=every / w.peak_to_mean,
                          duration_ms=w.duration_ms, memory_mb=w.memory_mb, step_s=every / 10)


def _always_on(w: Workload, services: int) -> tuple[float, float, int]:
    """Lesson 02's cheapest VMs for ``services`` services sized for the peak: (USD per hour, vCPUs, count)."""
    busy_vcpu = w.peak_per_s * VCPU_S_PER_REQUEST * services
    instances = max(2, math.ceil(busy_vcpu / TARGET_UTILIZATION / services - 1e-9)) * services
    packed = run_packing(need_vcpu=max(busy_vcpu / TARGET_UTILIZATION, 0.01),
                         need_memory_gib=instances * w.memory_mb / 1024, min_instances=2)
    s = packed.values
    return float(s["usd_per_hour"][0]), float(s["vcpu_total"][0]), int(s["count"][0])


#: What :func:`compare` returns: one value per pattern, in :data:`PATTERNS` order.
COMPARE_SCHEMA = Schema("choosing", (
    Series("pattern", "", ("pattern",), "the pattern's name"),
    Series("deploy_s", "s", ("pattern",), "commit to the new version serving"),
    Series("p50_ms", "ms", ("pattern",), "median latency"),
    Series("p99_ms", "ms", ("pattern",), "99th percentile latency"),
    Series("monthly_usd", "USD", ("pattern",), "the whole workload's cost per month"),
    Series("utilization", "share", ("pattern",), "the share of what you pay for that does work"),
    Series("isolation", "score", ("pattern",), "isolation between services, 0-3"),
    Series("admin", "score", ("pattern",), "administration burden, 0-3"),
    Series("fits", "", ("pattern",), "meets every requirement"),
    Series("cold_start_share", "share", ("pattern",), "requests that met a cold start"),
))
#: What :func:`run_traffic_sweep` records: one step per traffic level.
SWEEP_SCHEMA = Schema("choosing-sweep", (
    Series("time_s", "s", ("time",), "the step number (one per traffic level)"),
    Series("rate_per_s", "1/s", ("time",), "requests per second per service"),
    Series("pattern", "", ("pattern",), "the pattern's name"),
    *(Series(s.name, s.unit, ("time", "pattern"), s.description) for s in COMPARE_SCHEMA.series
      if s.name in ("deploy_s", "p50_ms", "p99_ms", "monthly_usd", "utilization", "fits")),
    Series("recommended", "", ("time",), "the pick, as an index into PATTERNS (-1: none)"),
))


def _deploy_s(w: Workload) -> dict[str, float]:
    """Commit to serving, per pattern: lesson 02's pipeline for VMs, a build plus each pattern's own step."""
    build_s = VmParams().build_s
    return {"serverless": build_s + LAMBDA_UPDATE_S + init_s(w.memory_mb),
            "containers": build_s + IMAGE_PULL_S + HostParams().start_s,
            "vms": float(_vm_deploy_s()),
            "packages": build_s + PROCESS_RESTART_S}


def _latency_ms(w: Workload, seed: int) -> tuple[dict[str, float], dict[str, float], float, float]:
    """p50 and p99 per pattern (ms), from lesson 06's run; Lambda's use of billed time and its cold-start share."""
    lam = _serverless_run(w, seed)
    marks = latency_percentiles(lam, (50, 99))
    s = lam.series
    served = ~s["request_throttled"]
    warm = s["request_duration_ms"][served] if np.any(served) else np.array([w.duration_ms])
    warm_p50, warm_p99 = (float(v) for v in np.percentile(warm, (50, 99)))
    lam_p50 = marks["p50"] * 1000 if math.isfinite(marks["p50"]) else warm_p50
    lam_p99 = marks["p99"] * 1000 if math.isfinite(marks["p99"]) else warm_p99
    billed = float(np.sum(s["request_billed_ms"][served]))
    lam_util = float(np.sum(s["request_duration_ms"][served])) / billed if billed > 0 else 1.0
    cold_share = float(np.mean(s["request_cold"][served])) if np.any(served) else 0.0
    p50 = {"serverless": lam_p50, "containers": warm_p50, "vms": warm_p50, "packages": warm_p50}
    p99 = {"serverless": lam_p99, "containers": warm_p99, "vms": warm_p99, "packages": warm_p99}
    return p50, p99, lam_util, cold_share


def _cost_and_use(w: Workload, lam_util: float) -> tuple[dict[str, float], dict[str, float]]:
    """Monthly cost and the share of paid capacity that does work, per pattern."""
    hours = SECONDS_PER_MONTH / 3600
    per_service_usd, per_service_vcpu, _ = _always_on(w, 1)
    shared_usd, shared_vcpu, _ = _always_on(w, w.services)
    mean_busy_vcpu = w.rate_per_s * VCPU_S_PER_REQUEST * w.services
    cost = {"serverless": w.services * lambda_monthly_usd(w.rate_per_s, w.duration_ms, w.memory_mb),
            "containers": (shared_usd + EKS_USD_PER_HOUR) * hours,
            "vms": w.services * per_service_usd * hours,
            "packages": shared_usd * hours}
    utilization = {"serverless": lam_util,
                   "containers": mean_busy_vcpu / shared_vcpu,
                   "vms": mean_busy_vcpu / (w.services * per_service_vcpu),
                   "packages": mean_busy_vcpu / shared_vcpu}
    return cost, utilization


def _ruled_out(w: Workload, pattern: str, deploy: float, p99: float, cost: float) -> tuple[str, ...]:
    """Why ``pattern`` does not meet the workload's requirements (nothing: it does)."""
    why: list[str] = []
    if pattern == "serverless" and w.long_running:
        why.append("a long-running process does not fit Lambda's request/event model and its 15-minute limit")
    if ISOLATION[pattern][0] < ISOLATION_NEEDS[w.isolation]:
        why.append(f"the service needs isolation '{w.isolation}', but here {ISOLATION[pattern][1]}")
    if w.max_p99_ms is not None and p99 > w.max_p99_ms:
        why.append(f"p99 {p99:.0f} ms is over the {w.max_p99_ms:g} ms required")
    if w.max_deploy_s is not None and deploy > w.max_deploy_s:
        why.append(f"a deploy takes {deploy:.0f} s, over the {w.max_deploy_s:g} s required")
    if w.max_monthly_usd is not None and cost > w.max_monthly_usd:
        why.append(f"${cost:,.0f} a month is over the ${w.max_monthly_usd:,.0f} budget")
    return tuple(why)


def compare(workload: Workload | None = None, *, seed: int = 0, **overrides: object) -> Result:
    """Run ``workload`` through the four patterns; one value per pattern in :data:`PATTERNS` order.

    Values (per pattern): ``deploy_s``, ``p50_ms``, ``p99_ms``, ``monthly_usd``, ``utilization`` (the share of
    what you pay for that does work), ``isolation`` and ``admin`` (0–3), ``fits`` and ``cold_start_share``.
    ``computed["recommended"]`` is the pick (``None``: no pattern fits) and ``computed["reasons"]`` holds, per
    pattern, why it does not fit (nothing when it does).
    """
    w: Workload = with_overrides(workload or Workload(), overrides)
    deploy = _deploy_s(w)
    p50, p99, lam_util, cold_share = _latency_ms(w, seed)
    cost, utilization = _cost_and_use(w, lam_util)
    reasons = {p: _ruled_out(w, p, deploy[p], p99[p], cost[p]) for p in PATTERNS}
    fits = [not reasons[p] for p in PATTERNS]
    pick = next((p for p, ok in zip(PATTERNS, fits, strict=True) if ok), None)
    return COMPARE_SCHEMA.result(
        params=params_dict(w), seed=seed, computed={"recommended": pick, "reasons": reasons},
        values={
            "pattern": np.array(PATTERNS, dtype=str),
            "deploy_s": np.array([deploy[p] for p in PATTERNS]),
            "p50_ms": np.array([p50[p] for p in PATTERNS]),
            "p99_ms": np.array([p99[p] for p in PATTERNS]),
            "monthly_usd": np.array([cost[p] for p in PATTERNS]),
            "utilization": np.array([utilization[p] for p in PATTERNS]),
            "isolation": np.array([ISOLATION[p][0] for p in PATTERNS], dtype=float),
            "admin": np.array([ADMIN[p][0] for p in PATTERNS], dtype=float),
            "fits": np.array(fits, dtype=bool),
            "cold_start_share": np.array([cold_share, 0.0, 0.0, 0.0]),
        },
    )


def measures(result: Result) -> dict[str, dict[str, float]]:
    """A :func:`compare` result's numbers as ``{pattern: {measure: value}}`` (plain floats, for exercises)."""
    v = result.values
    names = ("deploy_s", "p50_ms", "p99_ms", "monthly_usd", "utilization", "isolation", "admin")
    return {pattern: {name: float(v[name][i]) for name in names} for i, pattern in enumerate(PATTERNS)}


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The pattern to use (``None`` when none meets every requirement) and why, one reason per pattern."""

    pattern: str | None
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        head = f"use {LABELS[self.pattern]}" if self.pattern else "no pattern meets every requirement"
        return head + "\n" + "\n".join(f"  - {r}" for r in self.reasons)


def recommend(workload: Workload | Result | None = None, *, seed: int = 0, **overrides: object) -> Recommendation:
    """The most lightweight pattern, in the syllabus's order, that meets every requirement of the workload."""
    result = workload if isinstance(workload, Result) else compare(workload, seed=seed, **overrides)
    lines = []
    for pattern in PATTERNS:
        why = result.computed["reasons"][pattern]
        if why:
            lines.append(f"not {LABELS[pattern]}: " + "; ".join(why))
        else:
            lines.append(f"{LABELS[pattern]}: meets every requirement, the most lightweight pattern that does")
            break
    return Recommendation(result.computed["recommended"], tuple(lines))


class Sweep(Simulation):
    """:func:`compare` once per traffic level, one ``level`` event per step, in order."""

    SCHEMA: ClassVar[Schema] = SWEEP_SCHEMA

    def __init__(self, w: Workload, rates: tuple[float, ...], seed: int) -> None:
        super().__init__(seed)
        self.w = w
        self.rates = rates
        self.rows: list[Result] = []

    def on_level(self, k: int) -> None:
        row = compare(replace(self.w, rate_per_s=float(self.rates[k])).validated(), seed=self.seed)
        self.rows.append(row)
        pick = row.computed["recommended"]
        self.record("recommended", pick or "none", "requirements", rate_per_s=self.rates[k])
        if k + 1 < len(self.rates):
            self.schedule(float(k + 1), "level", k=k + 1)

    def series(self) -> dict[str, Any]:
        series: dict[str, Any] = {"time_s": np.arange(len(self.rates), dtype=float),
                                  "rate_per_s": np.array(self.rates, dtype=float),
                                  "pattern": np.array(PATTERNS, dtype=str)}
        for name in ("deploy_s", "p50_ms", "p99_ms", "monthly_usd", "utilization", "fits"):
            series[name] = np.array([row.values[name] for row in self.rows])
        picks = [row.computed["recommended"] for row in self.rows]
        series["recommended"] = np.array([PATTERNS.index(p) if p else -1 for p in picks], dtype=np.int64)
        return series


def run_traffic_sweep(workload: Workload | None = None, *, rates: tuple[float, ...] | None = None, seed: int = 0,
                      **overrides: object) -> Trace:
    """:func:`compare` at each traffic level in ``rates`` (requests per second per service): one step per rate.

    Series ``<measure>`` are (steps × patterns) arrays; ``recommended`` holds each step's pick as an index
    into :data:`PATTERNS` (-1: none).
    """
    w: Workload = with_overrides(workload or Workload(), overrides)
    rates = tuple(rates) if rates is not None else (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
    if not rates:
        raise ParameterError("rates must hold at least one traffic level")
    sim = Sweep(w, rates, seed)
    sim.schedule(0.0, "level", k=0)
    sim.run()
    return sim.trace(params={**params_dict(w), "rates": rates}, series=sim.series())
