"""Lesson 06: a service deployed on AWS Lambda, and what it costs.

Two things live here:

* :func:`run_serverless` follows one function through time. Requests arrive (a steady Poisson stream, plus
  seeded bursts, or an explicit list of arrival times); each request goes to an idle **warm** execution
  environment ("instance") if there is one, otherwise Lambda starts a new one with a **cold start** (its init
  phase runs before the handler), unless the concurrency limit or the scaling rate says no: then the request
  is **throttled** (HTTP 429). An instance that stays idle for ``idle_expiry_s`` is shut down. Provisioned
  concurrency keeps instances initialised from the start and never lets them expire.
* The **pricing formula** (:func:`lambda_cost`): requests × price per million + GB-seconds × price per
  GB-second, with each invocation's duration rounded up to the millisecond, and the optional monthly free
  tier; and the monthly cost of the same traffic on always-on VMs, with lesson 02's instance prices
  (:func:`always_on_monthly_usd`, :func:`run_cost_curve`).

Facts from the AWS documentation (the lesson names each page): the scaling rate of 1,000 new execution
environments every 10 seconds per function, the default concurrency quota of 1,000, memory 128–10,240 MB, a
vCPU's worth of CPU at 1,769 MB, the prices in :data:`PRICES`. Assumptions (AWS publishes no figure): how long
an init takes for a runtime and package size (:func:`init_s`), which warm instance serves a request (the one
that finished most recently), how long an idle instance lives (``idle_expiry_s``: 10 minutes, a published
measurement from 2019, not an AWS figure), and how many requests a VM serves (``vm_capacity_rps``).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Result, Schema, Series, Trace
from labsupport.sim.catalogue import instance_type

__all__ = [
    "COST_CURVE_SCHEMA",
    "CostCurveParams",
    "FREE_TIER",
    "FULL_VCPU_MB",
    "PRICES",
    "PRICES_AS_OF",
    "PROVISIONED_BILLING_UNIT_S",
    "RUNTIMES",
    "SECONDS_PER_MONTH",
    "InstanceState",
    "LambdaBill",
    "LambdaFunction",
    "LambdaPrices",
    "ServerlessParams",
    "SimFaaSFunction",
    "always_on_monthly_usd",
    "billed_ms",
    "gb_seconds",
    "init_s",
    "instance_stats",
    "lambda_cost",
    "lambda_monthly_usd",
    "latency_percentiles",
    "run_cost_curve",
    "run_serverless",
    "trace_cost",
]

# ---- prices ----------------------------------------------------------------------------------------------

#: When the prices below were listed: the AWS Lambda pricing page, us-east-1, unchanged since Arm (Graviton2)
#: functions arrived in September 2021. Not re-read live for this release: check the page before relying on them.
PRICES_AS_OF = "2024, AWS Lambda pricing page, us-east-1 (not re-checked live for this release)"
SECONDS_PER_MONTH = 730 * 3600  # AWS prices a month as 730 hours
#: Provisioned concurrency is billed from when it is enabled until it is disabled, rounded up to 5 minutes
#: (AWS Lambda pricing page, "Provisioned Concurrency Pricing").
PROVISIONED_BILLING_UNIT_S = 300.0
FULL_VCPU_MB = 1769  # AWS Lambda docs: at 1,769 MB a function has the equivalent of one vCPU


@dataclass(frozen=True, slots=True)
class LambdaPrices:
    """On-demand Lambda prices for one architecture, in USD."""

    architecture: str
    per_million_requests: float
    #: (GB-seconds in the tier per month, USD per GB-second), cheapest last; the last tier has no end
    gb_second_tiers: tuple[tuple[float, float], ...]
    provisioned_per_gb_second: float  # for keeping provisioned concurrency ready, whether used or not
    provisioned_duration_per_gb_second: float  # the duration of invocations on provisioned instances


PRICES: dict[str, LambdaPrices] = {
    "x86_64": LambdaPrices("x86_64", 0.20, ((6e9, 0.0000166667), (9e9, 0.0000150000), (math.inf, 0.0000133334)),
                           0.0000041667, 0.0000097222),
    "arm64": LambdaPrices("arm64", 0.20, ((7.5e9, 0.0000133334), (11.25e9, 0.0000120001), (math.inf, 0.0000106667)),
                          0.0000033334, 0.0000077778),
}
#: The monthly free tier: requests and GB-seconds (x86 and Arm together).
FREE_TIER = {"requests": 1_000_000, "gb_seconds": 400_000.0}


def _prices(architecture: str) -> LambdaPrices:
    if architecture not in PRICES:
        raise ParameterError(f"architecture must be one of {', '.join(PRICES)}, got {architecture!r}")
    return PRICES[architecture]


def billed_ms(duration_ms: Any) -> Any:
    """Billed duration: rounded up to the next whole millisecond (1 ms granularity since December 2020)."""
    if type(duration_ms) is float or type(duration_ms) is int:  # one duration: the same figure without numpy
        value = float(duration_ms)
        if not (value >= 0 and math.isfinite(value)):
            raise ParameterError("a duration must be a finite number of milliseconds, at least 0")
        return float(math.ceil(value - 1e-9))  # ceil's int as a float: never -0.0
    values = np.asarray(duration_ms, dtype=float)
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ParameterError("a duration must be a finite number of milliseconds, at least 0")
    rounded = np.ceil(values - 1e-9) + 0.0  # 12.0000000001 ms (float noise) is 12 ms, not 13; + 0.0: no -0.0
    return float(rounded) if rounded.ndim == 0 else rounded


def gb_seconds(duration_ms: Any, memory_mb: float) -> float:
    """GB-seconds of invocations of ``duration_ms`` (one or many) at ``memory_mb``: billed seconds × memory in GB.

    AWS counts a GB as 1,024 MB here (its pricing examples: 512 MB is 0.5 GB).
    """
    check_number("memory_mb", memory_mb, low=128, high=10240)
    billed = billed_ms(duration_ms)
    total = billed if type(billed) is float else float(np.sum(billed))
    return total / 1000.0 * memory_mb / 1024.0


@dataclass(frozen=True, slots=True)
class LambdaBill:
    """A Lambda bill, split the way AWS shows it."""

    requests: int
    gb_seconds: float
    request_usd: float
    compute_usd: float
    provisioned_usd: float = 0.0

    @property
    def total_usd(self) -> float:
        return self.request_usd + self.compute_usd + self.provisioned_usd


def _tiered(gb_s: float, tiers: tuple[tuple[float, float], ...]) -> float:
    usd, left = 0.0, gb_s
    for size, price in tiers:
        used = min(left, size)
        usd += used * price
        left -= used
        if left <= 0:
            break
    return usd


def lambda_cost(requests: int, gb_s: float, *, architecture: str = "x86_64", free_tier: bool = False,
                provisioned_gb_s: float = 0.0, provisioned_used_gb_s: float = 0.0) -> LambdaBill:
    """The bill for ``requests`` invocations using ``gb_s`` on-demand GB-seconds in a month.

    ``request_usd = max(0, requests - free) / 1e6 × price per million`` and ``compute_usd`` is the GB-seconds
    beyond the free ones, priced by tier. Provisioned concurrency adds ``provisioned_gb_s`` (memory × seconds it
    was configured) at its own rate, and its invocations' GB-seconds at the provisioned duration rate.
    """
    check_int("requests", requests, low=0)
    check_number("gb_s", gb_s, low=0)
    check_number("provisioned_gb_s", provisioned_gb_s, low=0)
    check_number("provisioned_used_gb_s", provisioned_used_gb_s, low=0)
    price = _prices(architecture)
    free_requests = FREE_TIER["requests"] if free_tier else 0
    free_gb_s = FREE_TIER["gb_seconds"] if free_tier else 0.0
    request_usd = max(0, int(requests) - free_requests) / 1e6 * price.per_million_requests
    compute_usd = _tiered(max(0.0, gb_s - free_gb_s), price.gb_second_tiers)
    provisioned_usd = (provisioned_gb_s * price.provisioned_per_gb_second
                       + provisioned_used_gb_s * price.provisioned_duration_per_gb_second)
    return LambdaBill(int(requests), float(gb_s), request_usd, compute_usd, provisioned_usd)


def lambda_monthly_usd(rate_per_s: float, duration_ms: float, memory_mb: float, *, architecture: str = "x86_64",
                       free_tier: bool = False) -> float:
    """A month of steady traffic at ``rate_per_s``, every invocation ``duration_ms`` long, on demand."""
    check_number("rate_per_s", rate_per_s, low=0)
    requests = round(rate_per_s * SECONDS_PER_MONTH)
    return lambda_cost(requests, requests * gb_seconds(duration_ms, memory_mb), architecture=architecture,
                       free_tier=free_tier).total_usd


def always_on_monthly_usd(rate_per_s: float, *, instance: str = "m5.large", capacity_rps: float = 150.0,
                          min_instances: int = 2) -> float:
    """A month of always-on VMs (lesson 02's prices) big enough for ``rate_per_s``: at least ``min_instances``
    (two Availability Zones), and one more for every ``capacity_rps`` requests per second (an assumption)."""
    check_number("rate_per_s", rate_per_s, low=0)
    check_number("capacity_rps", capacity_rps, low=0, low_open=True)
    check_int("min_instances", min_instances, low=1)
    count = max(min_instances, math.ceil(rate_per_s / capacity_rps - 1e-9))
    return count * instance_type(instance).usd_per_hour * SECONDS_PER_MONTH / 3600


# ---- cold starts -----------------------------------------------------------------------------------------

#: Runtimes and their init time at a full vCPU for a tiny package (assumptions; "+snapstart" restores a snapshot).
RUNTIMES: dict[str, float] = {"python": 0.25, "nodejs": 0.20, "java": 1.10, "java+snapstart": 0.25}
_INIT_S_PER_PACKAGE_MB = 0.004  # assumption: unpacking and importing code, per MB of (zip) package


def init_s(memory_mb: float, package_mb: float = 5.0, runtime: str = "python") -> float:
    """How long a cold start's init phase takes (an assumption, not an AWS figure).

    The runtime's own start plus a little per MB of package, slowed when the function has less than a full vCPU:
    Lambda gives CPU in proportion to memory (one vCPU at 1,769 MB, AWS documents), and the model assumes start-up
    slows with the square root of the missing share.
    """
    memory = check_number("memory_mb", memory_mb, low=128, high=10240)
    package = check_number("package_mb", package_mb, low=0, high=10240)
    if runtime not in RUNTIMES:
        raise ParameterError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    slowdown = math.sqrt(FULL_VCPU_MB / min(memory, FULL_VCPU_MB))
    return round((RUNTIMES[runtime] + package * _INIT_S_PER_PACKAGE_MB) * slowdown, 4)


#: How long requests take (:attr:`ServerlessParams.service_time`) and which idle instance serves one.
SERVICE_TIMES = ("lognormal", "exponential")
ROUTINGS = ("recent", "newest")


class InstanceState(IntEnum):
    """What an instance did during a time step (the code stored in ``instance_state``)."""

    ABSENT = 0  # not started yet, or gone
    COLD = 1  # started with a cold start in this step
    WARM = 2  # served at least one request warm in this step
    IDLE = 3  # alive (initialised), served nothing in this step
    EXPIRED = 4  # shut down after idling, in this step
    PROVISIONED_IDLE = 5  # provisioned concurrency, idle in this step


@dataclass(frozen=True, slots=True)
class ServerlessParams:
    """Parameters of :func:`run_serverless`. Times in seconds unless the name says ms."""

    duration_s: float = 900.0
    request_rate_per_s: float = 1.0  # the steady stream (Poisson)
    burst_every_s: float | None = 700.0  # a burst every so often, first at burst_first_s; None: no bursts
    burst_first_s: float = 60.0
    burst_size: int = 60  # requests in each burst
    burst_spread_s: float = 2.0  # each burst's requests arrive uniformly over this long
    arrivals_s: tuple[float, ...] | None = None  # explicit arrival times: replace the stream and the bursts
    duration_ms: float = 80.0  # the handler's warm duration (median)
    duration_jitter: float = 0.3  # lognormal sigma of the handler duration; 0 for a fixed duration
    memory_mb: int = 512
    package_mb: float = 5.0
    runtime: str = "python"
    init_s: float | None = None  # None: from init_s(memory_mb, package_mb, runtime)
    # AWS does not document how long an idle instance lives; 10 minutes is what M. Shilkov measured in 2019
    # ("AWS Lambda Cold Starts After 10 Minutes", mikhail.io): a measurement AWS may have changed since
    idle_expiry_s: float = 600.0
    concurrency_limit: int = 1000  # the account's default quota, or the function's reserved concurrency
    scaling_per_10s: int = 1000  # new instances Lambda may start per 10 s per function
    provisioned: int = 0  # provisioned concurrency: instances initialised at 0 s, never expire
    architecture: str = "x86_64"
    #: The function's configured timeout: an invocation still running then is stopped (and billed to it).
    #: 10 s is far above the handler's 80 ms and a cold start, and under the 30 s an HTTP API waits for it.
    timeout_s: int = 10
    step_s: float = 5.0
    #: "lognormal": the handler's duration as above, a cold start adds the init phase (the lesson's model).
    #: "exponential": SimFaaS's model (see :func:`run_serverless`): warm and cold response times exponential
    #: with means ``duration_ms`` and ``cold_duration_ms``, no scaling-rate limit, no timeout, no provisioning.
    service_time: str = "lognormal"
    cold_duration_ms: float | None = None  # the mean response time of a cold request ("exponential" only)
    #: Which idle instance serves a request: "recent", the one that finished most recently (an assumption
    #: about Lambda), or "newest", the one created last (SimFaaS's scheduler).
    routing: str = "recent"

    def validated(self) -> ServerlessParams:
        if self.service_time not in SERVICE_TIMES:
            raise ParameterError(f"service_time must be one of {', '.join(map(repr, SERVICE_TIMES))}, "
                                 f"got {self.service_time!r}")
        if self.routing not in ROUTINGS:
            raise ParameterError(f"routing must be one of {', '.join(map(repr, ROUTINGS))}, got {self.routing!r}")
        exact = self.service_time == "exponential"
        # SimFaaS's model is cheap per request, so it may run a million seconds and a million requests
        max_duration, max_requests = (1_000_000, 1_000_000) if exact else (24 * 3600, 500_000)
        duration = check_number("duration_s", self.duration_s, low=10, high=max_duration)
        self._check_service_time(exact)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0, high=2000)
        if self.burst_every_s is not None:
            check_number("burst_every_s", self.burst_every_s, low=1)
        check_number("burst_first_s", self.burst_first_s, low=0)  # at or after the end: no burst
        check_int("burst_size", self.burst_size, low=0, high=20000)
        check_number("burst_spread_s", self.burst_spread_s, low=0, high=600)
        if self.arrivals_s is not None:
            self._check_arrivals(duration, max_requests if exact else 200_000)
        check_number("duration_ms", self.duration_ms, low=1, high=900_000)  # the 15-minute timeout
        check_number("duration_jitter", self.duration_jitter, low=0, high=1.5)
        check_int("memory_mb", self.memory_mb, low=128, high=10240)
        check_number("package_mb", self.package_mb, low=0, high=10240)
        if self.runtime not in RUNTIMES:
            raise ParameterError(f"runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.init_s is not None:
            check_number("init_s", self.init_s, low=0, high=600)
        check_number("idle_expiry_s", self.idle_expiry_s, low=1, high=24 * 3600)
        limit = check_int("concurrency_limit", self.concurrency_limit, low=1, high=100_000)
        check_int("scaling_per_10s", self.scaling_per_10s, low=1, high=100_000)
        check_int("provisioned", self.provisioned, low=0, high=limit)
        _prices(self.architecture)
        check_int("timeout_s", self.timeout_s, low=1, high=900)  # Lambda allows 1 s to 15 minutes
        check_number("step_s", self.step_s, low=0.1, high=duration / 5)
        if self.request_rate_per_s * duration > max_requests:
            raise ParameterError(f"request_rate_per_s × duration_s must stay under {max_requests:,} requests"
                                 + ("" if exact else " (service_time='exponential' allows 1,000,000)"))
        return self

    def _check_service_time(self, exact: bool) -> None:
        """cold_duration_ms belongs to SimFaaS's mode, which has no provisioned concurrency."""
        if exact:
            if self.cold_duration_ms is None:
                raise ParameterError("service_time='exponential' needs cold_duration_ms: the mean response "
                                     "time of a request that starts an instance (SimFaaS's cold service time)")
            check_number("cold_duration_ms", self.cold_duration_ms, low=1, high=900_000)
            if self.provisioned:
                raise ParameterError("service_time='exponential' follows SimFaaS, which has no provisioned "
                                     "concurrency: set provisioned=0")
        elif self.cold_duration_ms is not None:
            raise ParameterError("cold_duration_ms belongs to service_time='exponential'; in the default model a "
                                 "cold start lasts init_s plus the handler's duration (set init_s instead)")

    def _check_arrivals(self, duration: float, limit: int) -> None:
        arrivals = self.arrivals_s or ()
        times = np.asarray(arrivals, dtype=float) if len(arrivals) else np.zeros(0)
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(times >= duration):
            raise ParameterError(f"arrivals_s must be times in [0, {duration:g}) seconds")
        if len(times) > limit:
            raise ParameterError(f"arrivals_s may hold at most {limit:,} arrivals")

    @property
    def cold_init_s(self) -> float:
        return float(self.init_s) if self.init_s is not None else init_s(self.memory_mb, self.package_mb, self.runtime)


def _arrivals(p: ServerlessParams, draw: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (sorted) and whether each belongs to a burst."""
    if p.arrivals_s is not None:
        times = np.sort(np.asarray(p.arrivals_s, dtype=float)) if len(p.arrivals_s) else np.zeros(0)
        return times, np.zeros(len(times), dtype=bool)
    parts, burst = [], []
    if p.request_rate_per_s > 0:
        expected = p.request_rate_per_s * p.duration_s
        gaps = draw.exponential(1 / p.request_rate_per_s, int(expected + 6 * math.sqrt(expected) + 20))
        steady = np.cumsum(gaps)
        steady = steady[steady < p.duration_s]
        parts.append(steady)
        burst.append(np.zeros(len(steady), dtype=bool))
    if p.burst_every_s is not None and p.burst_size > 0:
        k = 0
        while p.burst_first_s + k * p.burst_every_s < p.duration_s:
            start = p.burst_first_s + k * p.burst_every_s
            times = start + draw.uniform(0, p.burst_spread_s, p.burst_size) if p.burst_spread_s > 0 \
                else np.full(p.burst_size, start)
            times = times[times < p.duration_s]
            parts.append(times)
            burst.append(np.ones(len(times), dtype=bool))
            k += 1
    if not parts:
        return np.zeros(0), np.zeros(0, dtype=bool)
    times = np.concatenate(parts)
    flags = np.concatenate(burst)
    order = np.argsort(times, kind="stable")
    return times[order], flags[order]


# Event priorities at one instant: an expiry before a request that could have used the instance.
_P_EXPIRE, _P_REQUEST = 0, 1
_CHUNK = 1 << 16  # requests handled per "arrivals" event (bounds the Python lists of SimFaaS's mode)
_TIME, _INSTANCE, _REQUEST = ("time",), ("instance",), ("request",)
#: The series both modes record: per step, per instance, per request.
_COMMON_SERIES = (
    Series("time_s", "s", _TIME, "the end of each step of step_s"),
    Series("requests", "count", _TIME, "requests arriving in each step"),
    Series("cold_starts", "count", _TIME, "requests in each step that started an instance"),
    Series("throttled", "count", _TIME, "requests in each step refused (HTTP 429; SimFaaS: rejected)"),
    Series("instances", "count", _TIME, "execution environments alive"),
    Series("instance_provisioned", "", _INSTANCE, "provisioned concurrency"),
    Series("instance_start_s", "s", _INSTANCE),
    Series("instance_expire_s", "s", _INSTANCE, "inf while alive at the end"),
    Series("request_time_s", "s", _REQUEST, "each request's arrival"),
    Series("request_in_burst", "", _REQUEST),
    Series("request_instance", "", _REQUEST, "the instance that served it, -1 if throttled"),
    Series("request_cold", "", _REQUEST),
    Series("request_throttled", "", _REQUEST),
    Series("request_latency_s", "s", _REQUEST, "NaN if throttled"),
    Series("request_busy_end_s", "s", _REQUEST, "when its instance was free again"),
)


class LambdaFunction(Simulation):
    """:func:`run_serverless`'s default model: requests handled in arrival order, in batches (an ``arrivals``
    event per batch: a per-request event would double the run time)."""

    SCHEMA = Schema("serverless", (
        *_COMMON_SERIES,
        Series("concurrency", "count", _TIME, "the most instances busy at once in each step"),
        Series("instance_state", "", ("time", "instance"), "what each instance did in each step (InstanceState)"),
        Series("request_duration_ms", "ms", _REQUEST, "the handler's duration (capped at the timeout)"),
        Series("request_timed_out", "", _REQUEST),
        Series("request_billed_ms", "ms", _REQUEST, "billed duration, init included for a cold start"),
    ))

    def __init__(self, p: ServerlessParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        self.newest = p.routing == "newest"
        self.arrivals, self.in_burst = _arrivals(p, self.random)
        n = len(self.arrivals)
        if p.duration_jitter > 0:
            durations_ms = p.duration_ms * self.random.lognormal(0.0, p.duration_jitter, n)
        else:
            durations_ms = np.full(n, float(p.duration_ms))
        durations_ms = np.round(durations_ms, 3)
        # A run that would last longer than the timeout is stopped at the timeout: an error, billed up to it.
        self.timed_out = durations_ms > p.timeout_s * 1000.0
        self.durations_ms = np.minimum(durations_ms, p.timeout_s * 1000.0)
        self.timed_out_l = self.timed_out.tolist()
        self.arrival_list = self.arrivals.tolist()
        self.run_s = (self.durations_ms / 1000.0).tolist()
        self.init = p.cold_init_s
        # Per instance, kept in lists for speed.
        self.free_at: list[float] = []
        self.provisioned: list[bool] = []
        self.started: list[float] = []
        self.expired: list[float] = []  # inf while alive
        self.alive_on_demand: list[int] = []  # on-demand instances not expired (indices, in creation order)
        self.order: list[tuple[float, int, int]] = []  # each logged event's (time, priority, sequence)
        self.req_instance = [-1] * n
        self.req_cold = [False] * n
        self.req_latency = [math.nan] * n
        self.tokens = float(p.scaling_per_10s)  # the scaling rate: a bucket refilled continuously
        self.refill_per_s = p.scaling_per_10s / 10.0
        self.last_t = 0.0
        self.busy_ends: list[float] = []  # a heap of when each busy instance finishes
        self.next_expiry = math.inf  # the earliest time an idle on-demand instance expires

    def emit(self, t: float, priority: int, kind: str, subject: str, **data: object) -> None:
        """Log an event at ``t`` (before or after now: an expiry is found late, a timeout is known early)."""
        self.order.append((t, priority, len(self.order)))
        self.record(kind, subject, "lambda", at_s=round(t, 6), **data)

    def start(self) -> None:
        self.schedule(0.0, "provision")
        for lo in range(0, len(self.arrivals), _CHUNK):
            self.schedule(self.arrival_list[lo], "arrivals", priority=_P_REQUEST, lo=lo,
                          hi=min(len(self.arrivals), lo + _CHUNK))

    def on_provision(self) -> None:
        """Provisioned concurrency: initialised at 0 s, never expiring."""
        for i in range(self.p.provisioned):
            self.free_at.append(0.0)
            self.provisioned.append(True)
            self.started.append(0.0)
            self.expired.append(math.inf)
            self.emit(0.0, _P_EXPIRE, "provisioned-ready", f"env-{i + 1}")

    def on_arrivals(self, lo: int, hi: int) -> None:
        """The rules of :func:`run_serverless`, in order, for requests ``lo`` to ``hi - 1`` (the hot path: what
        changes per request is kept in local names, the rarer steps are methods)."""
        p, heappush, heappop = self.p, heapq.heappush, heapq.heappop
        cap, refill, limit, idle_s = float(p.scaling_per_10s), self.refill_per_s, p.concurrency_limit, p.idle_expiry_s
        arrival, run_s, timed_out, busy = self.arrival_list, self.run_s, self.timed_out_l, self.busy_ends
        free_at, provisioned, warm_instance = self.free_at, self.provisioned, self.warm_instance
        alive, req_instance, req_latency = self.alive_on_demand, self.req_instance, self.req_latency  # changed in place
        tokens, last_t, next_expiry = self.tokens, self.last_t, self.next_expiry
        recent_only = not p.provisioned and not self.newest  # the default: step 2 inline, no method call
        for r in range(lo, hi):
            t = arrival[r]
            tokens = min(cap, tokens + (t - last_t) * refill)
            last_t = t
            if next_expiry <= t:
                self.expire(t)  # 1.
                next_expiry = self.next_expiry
            while busy and busy[0] <= t:
                heappop(busy)
            if recent_only:  # 2. (warm_instance's last loop)
                chosen, best = -1, -math.inf
                for i in alive:
                    f = free_at[i]
                    if best < f <= t:
                        best, chosen = f, i
            else:
                chosen = warm_instance(t)
            if chosen >= 0:
                latency = run_s[r]
            elif len(busy) < limit and tokens >= 1.0:  # 3.
                tokens -= 1.0
                chosen = self.cold_start(r, t)
                latency = self.init + run_s[r]
            else:  # 4.
                why = "concurrency limit" if len(busy) >= limit else "scaling rate"
                self.emit(t, _P_REQUEST, "throttle", f"request-{r}", reason=why)
                continue
            end = t + latency
            if timed_out[r]:
                self.emit(end, _P_REQUEST, "timeout", f"request-{r}", timeout_s=p.timeout_s)
            free_at[chosen] = end
            if not provisioned[chosen]:
                next_expiry = min(next_expiry, end + idle_s)
            req_instance[r] = chosen
            req_latency[r] = latency
            heappush(busy, end)
        self.tokens, self.last_t, self.next_expiry = tokens, last_t, next_expiry

    def expire(self, t: float) -> None:
        """1. Instances idle for idle_expiry_s by ``t`` are shut down."""
        still, free_at, idle_s = [], self.free_at, self.p.idle_expiry_s
        for i in self.alive_on_demand:
            end = free_at[i] + idle_s
            if end <= t:
                self.expired[i] = end
                self.emit(end, _P_EXPIRE, "expire", f"env-{i + 1}", idle_s=idle_s)
            else:
                still.append(i)
        self.alive_on_demand[:] = still  # in place: on_arrivals holds the list
        self.next_expiry = min((free_at[i] for i in still), default=math.inf) + idle_s

    def warm_instance(self, t: float) -> int:
        """2. An idle provisioned instance, else the chosen idle on-demand one; -1 if none is idle."""
        free_at = self.free_at
        for i in range(self.p.provisioned):
            if free_at[i] <= t:
                return i
        chosen = -1
        if self.newest:
            for i in reversed(self.alive_on_demand):  # kept in creation order
                if free_at[i] <= t:
                    return i
            return -1
        best = -math.inf
        for i in self.alive_on_demand:
            f = free_at[i]
            if best < f <= t:
                best, chosen = f, i
        return chosen

    def cold_start(self, r: int, t: float) -> int:
        """3. A new instance for request ``r`` (the caller has taken its token)."""
        chosen = len(self.free_at)
        self.free_at.append(0.0)
        self.provisioned.append(False)
        self.started.append(t)
        self.expired.append(math.inf)
        self.alive_on_demand.append(chosen)
        self.req_cold[r] = True
        self.emit(t, _P_REQUEST, "cold-start", f"env-{chosen + 1}", init_s=round(self.init, 4))
        return chosen

    def finish(self) -> Trace:
        p = self.p
        for i in self.alive_on_demand:  # expiries after the last request, within the run
            end = self.free_at[i] + p.idle_expiry_s
            if end <= p.duration_s:
                self.expired[i] = end
                self.emit(end, _P_EXPIRE, "expire", f"env-{i + 1}", idle_s=p.idle_expiry_s)
        order = sorted(range(len(self.order)), key=self.order.__getitem__)
        return self.trace(params=params_dict(p), computed={"cold_init_s": self.init}, series=self.series(),
                          events=[self.events[i] for i in order])

    def instance_states(self, time_grid: np.ndarray, step_of: np.ndarray, served: np.ndarray,
                        req_cold: np.ndarray, req_instance: np.ndarray) -> np.ndarray:
        """What each instance did in each step (t - step, t]."""
        start_arr, expire_arr = np.array(self.started, dtype=float), np.array(self.expired, dtype=float)
        prov_arr = np.array(self.provisioned, dtype=bool)
        state = np.zeros((len(time_grid), len(self.free_at)), dtype=np.int8)
        if not len(self.free_at):
            return state
        t_col = time_grid[:, None]
        alive = (start_arr[None, :] <= t_col) & (t_col < expire_arr[None, :])
        state[alive] = InstanceState.IDLE
        state[alive & prov_arr[None, :]] = InstanceState.PROVISIONED_IDLE
        gone_step = np.ceil(expire_arr / self.p.step_s - 1e-9)
        finite = np.isfinite(gone_step)
        cols = np.nonzero(finite)[0]
        rows = gone_step[finite].astype(np.int64)
        keep = rows < len(time_grid)
        state[rows[keep], cols[keep]] = InstanceState.EXPIRED
        warm_r = served & ~req_cold
        state[step_of[warm_r], req_instance[warm_r]] = InstanceState.WARM
        state[step_of[req_cold], req_instance[req_cold]] = InstanceState.COLD
        return state

    def series(self) -> dict[str, np.ndarray]:
        """Everything per step, per instance and per request, computed over the whole run at once."""
        p, arrivals, n = self.p, self.arrivals, len(self.arrivals)
        req_instance = np.array(self.req_instance, dtype=np.int64)
        req_cold = np.array(self.req_cold, dtype=bool)
        req_latency = np.array(self.req_latency, dtype=float)
        steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
        time_grid = np.arange(steps) * p.step_s
        served = req_instance >= 0
        step_of = np.minimum(np.ceil(arrivals / p.step_s - 1e-9).astype(np.int64), steps - 1) if n \
            else np.zeros(0, int)
        state = self.instance_states(time_grid, step_of, served, req_cold, req_instance)

        def per_step(which: np.ndarray) -> np.ndarray:
            return np.bincount(step_of[which], minlength=steps)[:steps] if n else np.zeros(steps, dtype=np.int64)

        # Peak concurrency in each step: instances busy (initialising or running) at once.
        concurrency = _peak_concurrency(arrivals[served], (arrivals + req_latency)[served], time_grid, p.step_s)
        billed = np.where(served, billed_ms(np.where(req_cold, self.init * 1000.0, 0.0) + self.durations_ms),
                          0.0) if n else np.zeros(0)
        return {
            "time_s": time_grid,
            "requests": per_step(np.ones(n, dtype=bool)),
            "cold_starts": per_step(req_cold),
            "throttled": per_step(~served),
            "instances": ((state != InstanceState.ABSENT) & (state != InstanceState.EXPIRED)).sum(axis=1),
            "concurrency": concurrency,
            "instance_state": state,
            **_instance_and_request_series(np.array(self.provisioned, dtype=bool), np.array(self.started, dtype=float),
                                           np.array(self.expired, dtype=float), arrivals, self.in_burst,
                                           req_instance, req_cold, served, req_latency),
            "request_duration_ms": self.durations_ms,
            "request_timed_out": self.timed_out & served,
            "request_billed_ms": billed,
        }


def run_serverless(params: ServerlessParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run the Lambda model and return its trace (``run_serverless(memory_mb=1024)`` overrides a field).

    Rules, in order, for each request at time ``t``:

    1. instances idle for ``idle_expiry_s`` since their last request ended are shut down (provisioned ones never);
    2. an idle provisioned instance serves it, else the warm on-demand instance that finished most recently;
    3. otherwise a new instance starts cold (``init`` then the handler), if fewer than ``concurrency_limit``
       instances are busy or initialising and the scaling rate allows a new one;
    4. otherwise the request is throttled (HTTP 429).

    A handler that would run longer than ``timeout_s`` is stopped there: a ``timeout`` event, an error for the
    caller, billed up to the timeout (AWS Lambda Developer Guide, "Configure Lambda function timeout").
    ``routing="newest"`` sends a request to the idle instance created last instead of step 2's choice.

    ``service_time="exponential"`` runs SimFaaS's model instead (``simfaas.ServerlessSimulator``, Mahmoudi and
    Khazaei, "SimFaaS: A Performance Simulator for Serverless Computing Platforms", CLOSER 2021), the course's
    anchor: a request finding an idle instance is served warm in an exponential time of mean ``duration_ms``
    (SimFaaS's ``warm_service_rate`` is its inverse), else it starts a new instance and is served in an
    exponential time of mean ``cold_duration_ms`` (the whole cold response, init included), unless
    ``concurrency_limit`` requests are running (``maximum_concurrency``: then it is rejected); an instance idle
    for ``idle_expiry_s`` (``expiration_threshold``) is shut down. SimFaaS has no scaling rate, timeout or
    provisioned concurrency, so neither does this mode. It runs up to 1,000,000 s and 1,000,000 requests and
    keeps no event log and no per-step instance states: read it with :func:`instance_stats`.
    """
    p: ServerlessParams = with_overrides(params or ServerlessParams(), overrides)
    sim: LambdaFunction | SimFaaSFunction = SimFaaSFunction(p, seed) if p.service_time == "exponential" \
        else LambdaFunction(p, seed)
    sim.start()
    sim.run()
    return sim.finish()


class SimFaaSFunction(Simulation):
    """SimFaaS's model (see :func:`run_serverless`): each batch of arrivals is one event, handled in one loop.

    Rules at each instant, as ``ServerlessSimulator.generate_trace`` orders them: a departure or an expiry due
    at or before an arrival happens first (SimFaaS takes the arrival only when it comes strictly earlier); of the
    two, the earlier one first, a departure first at equal times. SimFaaS's ``FunctionInstance`` expires an
    instance ``expiration_threshold`` after its last departure; its ``schedule_warm_instance`` picks the idle
    instance with the latest ``creation_time`` (``routing="newest"``).
    """

    SCHEMA = Schema("serverless-simfaas", (
        *_COMMON_SERIES,
        Series("running", "count", _TIME, "requests being served at each instant of the grid"),
    ))

    def __init__(self, p: ServerlessParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        self.arrivals, self.in_burst = _arrivals(p, self.random)
        n = len(self.arrivals)
        self.warm_s = self.random.exponential(p.duration_ms / 1000.0, n)
        self.cold_s = self.random.exponential(float(p.cold_duration_ms or 0.0) / 1000.0, n)
        self.req_cold = np.zeros(n, dtype=bool)
        self.req_served = np.ones(n, dtype=bool)
        self.req_instance = np.full(n, -1, dtype=np.int64)
        self.started: list[float] = []  # per instance
        self.expired: list[float] = []  # inf while alive
        # The instances not expired, in creation order, and when each one's request ends (or ended: then it is
        # idle). An instance is busy while that is after now, idle from then on, and expires idle_expiry_s after
        # it unless it is used again. Position 0 is a sentinel, always idle, that stands for "no instance": a scan
        # from the newest down needs no bounds check, and stopping there means a cold start.
        self.alive: list[int] = [-1]
        self.ends: list[float] = [-math.inf]
        # No alive instance expires before this (a lower bound: reusing an instance only delays its expiry), so
        # the expiry pass runs only when an arrival reaches it.
        self.next_expiry = math.inf

    def start(self) -> None:
        n = len(self.arrivals)
        for lo in range(0, n, _CHUNK):
            self.schedule(float(self.arrivals[lo]), "arrivals", lo=lo, hi=min(n, lo + _CHUNK))

    def on_arrivals(self, lo: int, hi: int) -> None:
        """Requests ``lo`` to ``hi - 1``, in one loop over plain lists (the model's hot path).

        A request at ``t`` finds an instance idle if that instance's request ended at or before ``t`` (SimFaaS
        handles a departure at or before an arrival first), and not expired. SimFaaS keeps its instances in a
        list and its departures in a queue; here each instance's end time is enough: an arrival needs the idle
        instance created last (a scan from the newest that stops at the first idle one, two or three steps on
        SimFaaS's README case), and the number of busy ones only when there are as many instances as the limit.
        """
        newest, limit, expiry = self.p.routing == "newest", self.p.concurrency_limit, float(self.p.idle_expiry_s)
        alive, ends, started, expired = self.alive, self.ends, self.started, self.expired
        times, warm, cold = self.arrivals[lo:hi].tolist(), self.warm_s[lo:hi].tolist(), self.cold_s[lo:hi].tolist()
        chosen_ids: list[int] = []
        choose = chosen_ids.append
        cold_rows: list[int] = []
        rejected_rows: list[int] = []
        next_expiry, top = self.next_expiry, len(ends) - 1
        crowded = top >= limit  # as many instances as the limit: only then can the busy ones reach it
        for j, t in enumerate(times):
            if next_expiry <= t:  # idle instances whose expiry is due by t go (SimFaaS: before the arrival)
                next_expiry = self.expire(t, expiry)
                top = len(ends) - 1
                crowded = top >= limit
            if crowded and self.busy_at(t) >= limit:
                rejected_rows.append(j)  # rejected (SimFaaS counts it in the total, neither warm nor cold)
                choose(-1)
                continue
            if newest:  # schedule_warm_instance: the idle instance created last
                pos = top
                while ends[pos] > t:
                    pos -= 1
            else:
                pos = self.latest_idle(t)
            i = alive[pos]
            if i >= 0:
                ends[pos] = t + warm[j]
            else:  # the sentinel: a cold start, a new instance
                i = len(started)
                started.append(t)
                expired.append(math.inf)
                alive.append(i)
                ends.append(t + cold[j])
                top += 1
                next_expiry = min(next_expiry, ends[top] + expiry)
                crowded = top >= limit
                cold_rows.append(j)
            choose(i)
        self.next_expiry = next_expiry
        self.req_instance[lo:hi] = chosen_ids
        self.req_cold[np.array(cold_rows, dtype=np.int64) + lo] = True
        self.req_served[np.array(rejected_rows, dtype=np.int64) + lo] = False

    def expire(self, t: float, expiry: float) -> float:
        """Shut down the instances idle for ``expiry`` by ``t``; return when the next one may expire."""
        kept_ids, kept_ends = [-1], [-math.inf]
        for i, end in zip(self.alive[1:], self.ends[1:], strict=True):
            gone = end + expiry
            if gone <= t:  # idle since end < t
                self.expired[i] = gone
            else:
                kept_ids.append(i)
                kept_ends.append(end)
        self.alive[:], self.ends[:] = kept_ids, kept_ends  # in place: on_arrivals holds the lists
        return min(kept_ends[1:], default=math.inf) + expiry

    def busy_at(self, t: float) -> int:
        """Requests being served at ``t`` (one per busy instance; the sentinel is never busy)."""
        return sum(1 for end in self.ends if end > t)

    def latest_idle(self, t: float) -> int:
        """``routing="recent"``: the position of the idle instance whose request ended last (the first created,
        at equal times); 0, the sentinel, if none is idle."""
        best, chosen, ends = -math.inf, 0, self.ends
        for pos in range(1, len(ends)):
            end = ends[pos]
            if best < end <= t:
                best, chosen = end, pos
        return chosen

    def finish(self) -> Trace:
        p, arrivals, req_cold, req_served = self.p, self.arrivals, self.req_cold, self.req_served
        # after the last arrival: the instances still idle or running expire if the run lasts long enough
        expiry = float(p.idle_expiry_s)
        for i, end in zip(self.alive[1:], self.ends[1:], strict=True):
            if end + expiry <= p.duration_s:
                self.expired[i] = end + expiry
        latency = np.where(req_cold, self.cold_s, self.warm_s)
        latency[~req_served] = np.nan
        del self.warm_s, self.cold_s  # a million requests' draws: gone before the trace copies its series
        start_arr = np.array(self.started, dtype=float)
        expire_arr = np.array(self.expired, dtype=float)
        steps = int(math.floor(p.duration_s / p.step_s + 1e-9)) + 1
        grid = np.arange(steps) * p.step_s
        step_of = np.minimum(np.ceil(arrivals / p.step_s - 1e-9).astype(np.int64), steps - 1)
        busy_end = arrivals + np.where(req_served, latency, 0.0)
        # the ends are nearly in order already (arrival plus a short service): timsort is 4x quicker on them
        served_start, served_end = arrivals[req_served], np.sort(busy_end[req_served], kind="stable")
        return self.trace(
            params=params_dict(p), computed={"cold_init_s": math.nan},
            series={
                "time_s": grid,
                "requests": np.bincount(step_of, minlength=steps)[:steps],
                "cold_starts": np.bincount(step_of[req_cold], minlength=steps)[:steps],
                "throttled": np.bincount(step_of[~req_served], minlength=steps)[:steps],
                # at each instant of the grid: instances alive, requests running
                "instances": np.searchsorted(np.sort(start_arr), grid, side="right")
                - np.searchsorted(np.sort(expire_arr), grid, side="right"),
                "running": np.searchsorted(served_start, grid, side="right")
                - np.searchsorted(served_end, grid, side="right"),
                **_instance_and_request_series(np.zeros(len(start_arr), dtype=bool), start_arr, expire_arr, arrivals,
                                               self.in_burst, self.req_instance, req_cold, req_served, latency),
            },
        )


def _instance_and_request_series(provisioned: np.ndarray, start_s: np.ndarray, expire_s: np.ndarray,
                                 arrivals: np.ndarray, in_burst: np.ndarray, instance: np.ndarray, cold: np.ndarray,
                                 served: np.ndarray, latency_s: np.ndarray) -> dict[str, np.ndarray]:
    """The per-instance and per-request series both modes of :func:`run_serverless` share (NaN latency: throttled)."""
    return {
        "instance_provisioned": provisioned,
        "instance_start_s": start_s,
        "instance_expire_s": expire_s,
        "request_time_s": arrivals,
        "request_in_burst": in_burst,
        "request_instance": instance,
        "request_cold": cold,
        "request_throttled": ~served,
        "request_latency_s": latency_s,
        "request_busy_end_s": arrivals + latency_s,
    }


def instance_stats(trace: Trace) -> dict[str, float]:
    """SimFaaS's three steady-state figures of a :func:`run_serverless` trace (either mode).

    ``p_cold``: cold starts over all requests (throttled ones count in the total, as SimFaaS's
    ``get_cold_start_prob`` counts rejections); ``mean_instances``: the time-average number of instances alive
    (initialising, busy or idle) over the run; ``mean_running``: the time-average number of requests being
    served (SimFaaS's ``inst_running_count_avg``). Time past the run's end is not counted.
    """
    s = trace.series
    horizon = float(trace.params["duration_s"])
    n = len(s["request_time_s"])
    start, end = s["instance_start_s"], np.minimum(s["instance_expire_s"], horizon)
    served = ~s["request_throttled"]
    busy = np.minimum(s["request_busy_end_s"][served], horizon) - s["request_time_s"][served]
    return {
        "p_cold": float(np.count_nonzero(s["request_cold"])) / n if n else math.nan,
        "mean_instances": float(np.sum(np.maximum(end - start, 0.0))) / horizon,
        "mean_running": float(np.sum(np.maximum(busy, 0.0))) / horizon,
    }


def _peak_concurrency(start: np.ndarray, end: np.ndarray, grid: np.ndarray, step_s: float) -> np.ndarray:
    """The largest number of overlapping [start, end) intervals within each step (t - step, t]."""
    steps = len(grid)
    peak = np.zeros(steps, dtype=np.int64)
    if len(start) == 0:
        return peak
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones(len(start), dtype=np.int64), -np.ones(len(end), dtype=np.int64)])
    order = np.lexsort((delta, times))  # at equal times an end (-1) comes before a start
    times, level = times[order], np.cumsum(delta[order])
    step_of = np.minimum(np.ceil(times / step_s - 1e-9).astype(np.int64), steps - 1)
    np.maximum.at(peak, step_of, level)
    # a step with no change carries the level on from the step before
    last = 0
    changed = np.zeros(steps, dtype=bool)
    changed[step_of] = True
    end_level = np.zeros(steps, dtype=np.int64)
    end_level[step_of] = level  # the level after the last change in the step (later writes win)
    for k in range(steps):
        if changed[k]:
            peak[k] = max(peak[k], last)
            last = int(end_level[k])
        else:
            peak[k] = last
    return peak


def latency_percentiles(trace: Trace, qs: tuple[float, ...] = (50, 95, 99)) -> dict[str, float]:
    """Latency percentiles of the served requests, in seconds: ``{"p50": ..., "p95": ..., "p99": ...}``."""
    latency = trace.series["request_latency_s"]
    served = latency[~np.isnan(latency)]
    if len(served) == 0:
        return {f"p{q:g}": math.nan for q in qs}
    values = np.percentile(served, qs)
    return {f"p{q:g}": float(v) for q, v in zip(qs, values, strict=True)}


def trace_cost(trace: Trace, *, free_tier: bool = False) -> LambdaBill:
    """What the run in ``trace`` costs with :data:`PRICES` (no free tier by default: a run is part of a month)."""
    s = trace.series
    p = trace.params
    served = ~s["request_throttled"]
    on_prov = served & s["instance_provisioned"][np.maximum(s["request_instance"], 0)] if len(served) \
        else np.zeros(0, dtype=bool)
    gb = p["memory_mb"] / 1024.0
    on_demand_gb_s = float(np.sum(s["request_billed_ms"][served & ~on_prov])) / 1000.0 * gb
    prov_used_gb_s = float(np.sum(s["request_billed_ms"][on_prov])) / 1000.0 * gb
    billed_s = math.ceil(p["duration_s"] / PROVISIONED_BILLING_UNIT_S - 1e-9) * PROVISIONED_BILLING_UNIT_S
    prov_gb_s = p["provisioned"] * gb * billed_s  # enabled for the whole run, billed in 5-minute units
    return lambda_cost(int(np.count_nonzero(served)), on_demand_gb_s, architecture=p["architecture"],
                       free_tier=free_tier, provisioned_gb_s=prov_gb_s, provisioned_used_gb_s=prov_used_gb_s)


# ---- cost against always-on VMs ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CostCurveParams:
    """Monthly cost of steady traffic, Lambda against always-on VMs, for request rates up to ``max_rate_per_s``."""

    duration_ms: float = 80.0
    memory_mb: int = 512
    architecture: str = "x86_64"
    free_tier: bool = False
    vm_instance: str = "m5.large"
    vm_capacity_rps: float = 150.0  # assumption: what one VM of the service carries
    vm_min_instances: int = 2
    max_rate_per_s: float = 100.0
    points: int = 201

    def validated(self) -> CostCurveParams:
        check_number("duration_ms", self.duration_ms, low=1, high=900_000)
        check_int("memory_mb", self.memory_mb, low=128, high=10240)
        _prices(self.architecture)
        if not isinstance(self.free_tier, bool):
            raise ParameterError(f"free_tier must be True or False, got {self.free_tier!r}")
        instance_type(self.vm_instance)
        check_number("vm_capacity_rps", self.vm_capacity_rps, low=0, low_open=True, high=100_000)
        check_int("vm_min_instances", self.vm_min_instances, low=1, high=100)
        check_number("max_rate_per_s", self.max_rate_per_s, low=0, low_open=True, high=100_000)
        check_int("points", self.points, low=2, high=5001)
        return self


_RATE = ("rate",)
#: What :func:`run_cost_curve` returns: one entry per request rate; ``computed["break_even_rps"]``.
COST_CURVE_SCHEMA = Schema("serverless-cost", (
    Series("rate_per_s", "requests/s", _RATE, "steady traffic, all month"),
    Series("lambda_usd", "USD", _RATE, "Lambda's monthly bill at that rate"),
    Series("vm_usd", "USD", _RATE, "the always-on VMs' monthly cost at that rate"),
))


def run_cost_curve(params: CostCurveParams | None = None, **overrides: object) -> Result:
    """Monthly USD of Lambda and of always-on VMs for each request rate (a result with no time axis), and where
    Lambda stops being cheaper: ``computed["break_even_rps"]`` (NaN if it stays cheaper up to the last rate)."""
    p: CostCurveParams = with_overrides(params or CostCurveParams(), overrides)
    rates = np.linspace(0.0, p.max_rate_per_s, p.points)
    lam = np.array([lambda_monthly_usd(r, p.duration_ms, p.memory_mb, architecture=p.architecture,
                                       free_tier=p.free_tier) for r in rates])
    vm = np.array([always_on_monthly_usd(r, instance=p.vm_instance, capacity_rps=p.vm_capacity_rps,
                                         min_instances=p.vm_min_instances) for r in rates])
    dearer = np.nonzero(lam > vm)[0]
    break_even = _break_even_rps(p, float(rates[dearer[0] - 1]) if dearer[0] else 0.0, float(rates[dearer[0]])) \
        if len(dearer) else math.nan
    return COST_CURVE_SCHEMA.result(params=params_dict(p), seed=0, values={"rate_per_s": rates, "lambda_usd": lam,
                                                                     "vm_usd": vm},
                                    computed={"break_even_rps": break_even})


def _break_even_rps(p: CostCurveParams, lo: float, hi: float) -> float:
    """The rate in (lo, hi] where Lambda starts to cost more per month than the VMs (bisection)."""
    def dearer(rate: float) -> bool:
        return lambda_monthly_usd(rate, p.duration_ms, p.memory_mb, architecture=p.architecture,
                                  free_tier=p.free_tier) > always_on_monthly_usd(
            rate, instance=p.vm_instance, capacity_rps=p.vm_capacity_rps, min_instances=p.vm_min_instances)

    for _ in range(60):
        mid = (lo + hi) / 2
        if dearer(mid):
            hi = mid
        else:
            lo = mid
    return hi
