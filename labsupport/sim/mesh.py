"""Lesson 05: a service mesh separating deployment from release.

Three pieces, all pure and seeded:

* :func:`route_shares` applies an Istio ``VirtualService``'s HTTP rules to one request, as Envoy does: the
  rules are tried in order, the first whose ``match`` fits the request's headers wins (a rule without
  ``match`` fits every request), and its destinations share the traffic in proportion to their ``weight``
  (relative shares: they need not add up to 100). :func:`release_routes` writes the rules a release means at
  one moment; the release model routes every request through :func:`route_shares` on those rules.
* :func:`run_release` is an automated canary release in the manner of Flagger. Every ``interval_s`` Flagger
  runs once. The run that detects the new revision changes no traffic; one interval later the canary gets its
  first ``step_weight`` without a metric check; every later run checks the canary's success rate and P99
  latency over the last interval and, when both pass, steps the weight up, until ``max_weight``. The run after
  that promotes (copies the canary's spec to the primary), the next routes all traffic to the primary, the
  next finalises. A failed check (too many errors, too slow, or no traffic at all) leaves the weight alone
  and adds one to the failed checks, which add up over the whole analysis; the run after they reach
  ``threshold`` rolls back. Each routing change is pushed by istiod to every Envoy sidecar.
* :func:`run_outlier` is Envoy's outlier detection (a circuit breaker) in one client sidecar, with Istio's
  defaults: a host is ejected at once on its ``consecutive_5xx``-th 5xx in a row, only if the ejected share
  stays within ``max_ejection_percent``; it returns only at an interval tick once its ejection time (base
  time × a multiplier that grows with each ejection and shrinks with healthy intervals, capped) has passed.
  Istio's default retry policy (2 retries, on connection failures and, before Istio 1.24, on 503) runs
  before the user sees an answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import ParameterError, check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Schema, Series, Trace

__all__ = [
    "FAILURES",
    "OUTLIER_SCHEMA",
    "RELEASE_SCHEMA",
    "Outlier",
    "Release",
    "OutlierParams",
    "Phase",
    "ReleaseParams",
    "Sample",
    "back_in_service_s",
    "release_routes",
    "release_timeline",
    "route_shares",
    "run_outlier",
    "run_release",
]

#: Who acts in the mesh models: the release controller, the control plane, the data plane, and faults.
FLAGGER, ISTIOD, ENVOY, FAULT = "flagger", "istiod", "envoy", "fault"
#: The header that marks a tester's request, and the value it must have.
TESTER_HEADER, TESTER_VALUE = "x-tester", "true"
HOST = "restaurant"
#: How a failing instance fails in :func:`run_outlier`.
FAILURES = ("500", "503", "connect-failure")


# ---- routing rules ---------------------------------------------------------------------------------------

def _header_fits(condition: Any, value: str | None) -> bool:
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise ParameterError(f"a header match holds exactly one of exact, prefix or regex, got {condition!r}")
    (how, wanted), = condition.items()
    if how not in ("exact", "prefix", "regex") or not isinstance(wanted, str):
        raise ParameterError(f"a header match holds exactly one of exact, prefix or regex, got {condition!r}")
    if value is None:
        return False
    if how == "exact":
        return value == wanted
    if how == "prefix":
        return value.startswith(wanted)
    try:
        return re.fullmatch(wanted, value) is not None  # Envoy's RE2 matches the whole value
    except re.error as error:
        raise ParameterError(f"the header regex {wanted!r} is not a valid regular expression ({error})") from None


def _match_fits(match: Any, headers: Mapping[str, str]) -> bool:
    if not isinstance(match, Mapping):
        raise ParameterError(f"each entry of match is a mapping (such as {{'headers': ...}}), got {match!r}")
    wanted = match.get("headers", {})
    if not isinstance(wanted, Mapping):
        raise ParameterError(f"match.headers maps header names to conditions, got {wanted!r}")
    lower = {k.lower(): v for k, v in headers.items()}  # HTTP header names are case-insensitive
    return all(_header_fits(cond, lower.get(str(name).lower())) for name, cond in wanted.items())


def _route_weights(route: Any) -> dict[str, float]:
    """The share of the traffic each destination of one rule's ``route`` gets, by its relative weight."""
    if not route:
        raise ParameterError("the rule that fits this request has no route")
    names = []
    weights = []
    for dest in route:
        target = dest.get("destination", {}) if isinstance(dest, Mapping) else {}
        name = target.get("subset") or target.get("host") if isinstance(target, Mapping) else None
        if not name:
            raise ParameterError(f"each route entry names a destination host (and a subset), got {dest!r}")
        names.append(str(name))
        weight = dest.get("weight", None)
        if len(route) == 1:
            weight = 1  # one destination gets every request, whatever its weight says
        elif weight is None:
            weight = 0
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ParameterError(f"a weight is a whole number from 0 up, got {weight!r}")
        weights.append(weight)
    total = sum(weights)
    if total == 0:
        raise ParameterError("every weight of the rule is 0: Istio rejects a total weight of 0")
    shares: dict[str, float] = {}
    for name, weight in zip(names, weights, strict=True):
        shares[name] = shares.get(name, 0.0) + weight / total
    return shares


def route_shares(http: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None) -> dict[str, float]:
    """The share of requests with ``headers`` that each destination gets under the VirtualService rules ``http``.

    Destinations are named by their subset (or their host when they have no subset). Raises
    :class:`~labsupport.sim.ParameterError` when no rule fits or the rules cannot be read.
    """
    headers = headers or {}
    given: object = http  # a learner may pass anything: say what is expected
    if not isinstance(given, Sequence) or isinstance(given, (str, bytes)):
        raise ParameterError(f"http must be a list of routing rules, got {type(given).__name__}")
    for rule in http:
        if not isinstance(rule, Mapping):
            raise ParameterError(f"each routing rule is a mapping with a route, got {rule!r}")
        matches = rule.get("match") or []
        if matches and not any(_match_fits(m, headers) for m in matches):
            continue
        return _route_weights(rule.get("route") or [])
    raise ParameterError(f"no rule fits a request with headers {dict(headers)!r}: end the list with a rule "
                         "without match")


def release_routes(canary_weight: int, primary_weight: int | None = None, *,
                   header_routing: bool = False) -> list[dict[str, Any]]:
    """The VirtualService's HTTP rules at one moment of a release (subsets ``primary`` and ``canary``).

    With ``header_routing`` a first rule sends testers' requests (``x-tester: true``) to the canary.
    """
    primary_weight = 100 - canary_weight if primary_weight is None else primary_weight
    rules: list[dict[str, Any]] = []
    if header_routing:
        rules.append({"name": "testers", "match": [{"headers": {TESTER_HEADER: {"exact": TESTER_VALUE}}}],
                      "route": [{"destination": {"host": HOST, "subset": "canary"}}]})
    rules.append({"name": "everyone", "route": [
        {"destination": {"host": HOST, "subset": "primary"}, "weight": primary_weight},
        {"destination": {"host": HOST, "subset": "canary"}, "weight": canary_weight},
    ]})
    return rules


# ---- the release -----------------------------------------------------------------------------------------

class Phase(IntEnum):
    """Flagger's canary phases (``phase`` series code)."""

    INITIALIZED = 0  # v2 applied, not yet seen by Flagger
    PROGRESSING = 1
    PROMOTING = 2
    FINALISING = 3
    SUCCEEDED = 4
    FAILED = 5


class Sample(IntEnum):
    """The kind of one sampled request (``sample`` series code), for the animation."""

    NONE = 0
    USER_PRIMARY = 1
    USER_CANARY = 2
    TESTER_CANARY = 3
    TESTER_PRIMARY = 4


SAMPLES_PER_STEP = 3
_LATENCY_SIGMA = 0.3  # log-normal spread of response times: P99 is about 2.0 × the median
_MAX_STEPS = 20_000


@dataclass(frozen=True, slots=True)
class ReleaseParams:
    """Parameters of :func:`run_release`; analysis fields are named after Flagger's ``spec.analysis``."""

    interval_s: float = 30.0  # analysis.interval (Flagger's default is 1m)
    step_weight: int = 10  # analysis.stepWeight: percent added at each passed check
    max_weight: int = 50  # analysis.maxWeight: the last weight before promotion
    step_weights: tuple[int, ...] | None = None  # analysis.stepWeights ([5, 25, 50]): replaces the two above
    threshold: int = 5  # analysis.threshold: failed checks before rollback
    min_success_rate: float = 99.0  # request-success-rate thresholdRange.min, percent of non-5xx responses
    max_latency_ms: float = 500.0  # request-duration thresholdRange.max, P99 in milliseconds
    canary_error_rate: float = 0.0  # share of v2's responses that are 5xx
    canary_latency_ms: float = 120.0  # v2's median response time
    primary_error_rate: float = 0.001
    primary_latency_ms: float = 100.0
    request_rate_per_s: float = 20.0  # end users' requests
    header_routing: bool = True  # testers (x-tester: true) reach v2 from the moment it is deployed
    tester_rate_per_s: float = 0.5
    duration_s: float | None = None  # None: until one interval after the release ends

    def validated(self) -> ReleaseParams:
        interval = check_number("interval_s", self.interval_s, low=1, high=600)
        step = check_int("step_weight", self.step_weight, low=1, high=100)
        top = check_int("max_weight", self.max_weight, low=1, high=100)
        if step > top:
            raise ParameterError(f"step_weight ({step}) must be at most max_weight ({top}): the first step "
                                 "would already pass the maximum")
        threshold = check_int("threshold", self.threshold, low=1, high=100)
        for name, value in (("step_weight", step), ("max_weight", top), ("threshold", threshold)):
            object.__setattr__(self, name, value)  # 10.0 is accepted as 10, and stays a whole number
        if self.step_weights is not None:
            object.__setattr__(self, "step_weights", _rising_weights(self.step_weights))
        check_number("min_success_rate", self.min_success_rate, low=0, high=100)
        check_number("max_latency_ms", self.max_latency_ms, low=1, high=60_000)
        check_number("canary_error_rate", self.canary_error_rate, low=0, high=1)
        check_number("canary_latency_ms", self.canary_latency_ms, low=1, high=30_000)
        check_number("primary_error_rate", self.primary_error_rate, low=0, high=1)
        check_number("primary_latency_ms", self.primary_latency_ms, low=1, high=30_000)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0, high=2000)
        check_number("tester_rate_per_s", self.tester_rate_per_s, low=0, high=100)
        if not isinstance(self.header_routing, bool):
            raise ParameterError(f"header_routing must be True or False, got {self.header_routing!r}")
        if self.duration_s is not None:
            check_number("duration_s", self.duration_s, low=interval, high=4 * 3600)
        if self._horizon() / self.step_s() > _MAX_STEPS:
            raise ParameterError(f"this release would last {self._horizon():g} s, too long to simulate at "
                                 f"{self.step_s():.3g} s per step: use a longer interval_s or a shorter duration_s")
        return self

    def step_s(self) -> float:
        """The time step: the interval divided into whole steps of at most one second, so ticks fall on steps."""
        return self.interval_s / math.ceil(self.interval_s)

    def weights(self) -> tuple[int, ...]:
        """The canary weights in order: ``step_weights``, or ``step_weight`` added until ``max_weight`` is reached."""
        if self.step_weights is not None:
            return tuple(self.step_weights)
        steps = math.ceil(self.max_weight / self.step_weight)
        return tuple(min(self.step_weight * (i + 1), 100) for i in range(steps))

    def _horizon(self) -> float:
        if self.duration_s is not None:
            return float(self.duration_s)
        steps = len(self.weights())
        return self.interval_s * (max(steps + 4, self.threshold + steps + 3) + 1)


def _rising_weights(value: Any) -> tuple[int, ...]:
    """``step_weights`` as a tuple of whole percentages that rise, or a message saying what is expected."""
    expected = "a list of rising whole percentages from 1 to 100, such as [5, 25, 50]"
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise ParameterError(f"step_weights must be {expected}, got {value!r}")
    weights = []
    for w in value:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or float(w) != int(w) or not 1 <= w <= 100:
            raise ParameterError(f"step_weights must be {expected}; {w!r} is not a whole percentage from 1 to 100")
        weights.append(int(w))
    if any(b <= a for a, b in zip(weights, weights[1:], strict=False)):
        raise ParameterError(f"step_weights must be {expected}; {weights} does not rise at every step")
    return tuple(weights)


def release_timeline(interval_s: float, step_weight: int = 10, max_weight: int = 50, threshold: int = 5, *,
                     step_weights: Sequence[int] | None = None) -> dict[str, float]:
    """When each part of a release happens, counted from ``kubectl apply`` of v2, as Flagger schedules it.

    Flagger runs at every interval from the apply on. ``promote_s`` holds for a release that passes every
    check; ``rollback_s`` for one that fails every check (so its weight stays at the first step).
    """
    steps = len(step_weights) if step_weights is not None else math.ceil(max_weight / step_weight)
    return {
        "detect_s": interval_s,
        "first_step_s": 2 * interval_s,
        "max_weight_s": (steps + 1) * interval_s,
        "promote_s": (steps + 2) * interval_s,
        "all_to_primary_s": (steps + 3) * interval_s,
        "finalise_s": (steps + 4) * interval_s,
        "rollback_s": (threshold + 3) * interval_s,
    }


def _p99(values: np.ndarray) -> float:
    """The 99th percentile with linear interpolation (numpy's default method), NaN for no values."""
    size = len(values)
    if not size:
        return math.nan
    pos = 0.99 * (size - 1)
    lo = int(pos)
    hi = min(lo + 1, size - 1)
    part = values.copy()  # what np.partition does, without its wrapper (this runs once per step and version)
    part.partition((lo, hi))
    return float(part[lo] + (part[hi] - part[lo]) * (pos - lo))


def _traffic_block(p: ReleaseParams, draw: np.random.Generator, m: int, rules: list[dict[str, Any]],
                   primary_version: int) -> dict[str, np.ndarray]:
    """``m`` time steps of requests under the routing ``rules``: counts, errors, latencies and a sample."""
    dt = p.step_s()
    user_share = route_shares(rules).get("canary", 0.0)
    tester_share = route_shares(rules, {TESTER_HEADER: TESTER_VALUE}).get("canary", 0.0)
    users = draw.poisson(p.request_rate_per_s * dt, m)
    testers = draw.poisson(p.tester_rate_per_s * dt, m)
    u_c = draw.binomial(users, user_share)
    t_c = draw.binomial(testers, tester_share)
    u_p, t_p = users - u_c, testers - t_c
    primary_rate = p.canary_error_rate if primary_version == 2 else p.primary_error_rate
    primary_median = p.canary_latency_ms if primary_version == 2 else p.primary_latency_ms
    counts = {"u_p": u_p, "u_c": u_c, "t_c": t_c, "t_p": t_p}
    errors = {"u_p": draw.binomial(u_p, primary_rate), "u_c": draw.binomial(u_c, p.canary_error_rate),
              "t_c": draw.binomial(t_c, p.canary_error_rate), "t_p": draw.binomial(t_p, primary_rate)}
    canary_n, primary_n = u_c + t_c, u_p + t_p
    # a sample of each step's requests for the animation: random keys, the first few of each step
    codes = {"u_p": Sample.USER_PRIMARY, "u_c": Sample.USER_CANARY, "t_c": Sample.TESTER_CANARY,
             "t_p": Sample.TESTER_PRIMARY}
    step_of, kind_of, error_of = [], [], []
    for name, code in codes.items():
        step = np.repeat(np.arange(m), counts[name])
        first = np.repeat(np.cumsum(counts[name]) - counts[name], counts[name])
        rank = np.arange(len(step)) - first  # position of the request among its kind in its step
        step_of.append(step)
        kind_of.append(np.full(len(step), int(code)))
        error_of.append(rank < np.repeat(errors[name], counts[name]))
    step_all = np.concatenate(step_of)
    kind_all = np.concatenate(kind_of)
    error_all = np.concatenate(error_of)
    order = np.lexsort((draw.random(len(step_all)), step_all))
    step_sorted = step_all[order]
    starts = np.searchsorted(step_sorted, np.arange(m))
    rank = np.arange(len(order)) - starts[step_sorted]
    keep = rank < SAMPLES_PER_STEP
    sample = np.zeros((m, SAMPLES_PER_STEP), dtype=np.int64)
    sample_error = np.zeros((m, SAMPLES_PER_STEP), dtype=bool)
    sample[step_sorted[keep], rank[keep]] = kind_all[order][keep]
    sample_error[step_sorted[keep], rank[keep]] = error_all[order][keep]
    return {
        "user_primary": u_p, "user_canary": u_c, "tester_canary": t_c, "tester_primary": t_p,
        "user_primary_errors": errors["u_p"], "user_canary_errors": errors["u_c"],
        "tester_canary_errors": errors["t_c"], "tester_primary_errors": errors["t_p"],
        "canary_n": canary_n, "canary_e": errors["u_c"] + errors["t_c"],
        "primary_n": primary_n, "primary_e": errors["u_p"] + errors["t_p"],
        "canary_latency": p.canary_latency_ms * np.exp(_LATENCY_SIGMA * draw.standard_normal(int(canary_n.sum()))),
        "primary_latency": primary_median * np.exp(_LATENCY_SIGMA * draw.standard_normal(int(primary_n.sum()))),
        "sample": sample, "sample_error": sample_error,
    }


_RELEASE_COUNTS = ("user_primary", "user_canary", "user_primary_errors", "user_canary_errors",
                   "tester_canary", "tester_primary", "tester_canary_errors", "tester_primary_errors")
_RELEASE_STATE = ("canary_weight", "primary_weight", "phase", "failed_checks", "primary_version")

#: What :func:`run_release` records: per time step of ``step_s``, and a few sampled requests per step.
RELEASE_SCHEMA = Schema("mesh-release", (
    Series("time_s", "s", ("time",), "the start of each step"),
    Series("canary_weight", "percent", ("time",), "the VirtualService's weight for v2"),
    Series("primary_weight", "percent", ("time",), "its weight for the primary"),
    Series("phase", "", ("time",), "Flagger's phase (a Phase code)"),
    Series("failed_checks", "count", ("time",), "failed analysis checks so far"),
    Series("primary_version", "", ("time",), "the version the primary runs (1, or 2 once promoted)"),
    *(Series(name, "count", ("time",), "requests in the step" if "errors" not in name else "5xx in the step")
      for name in _RELEASE_COUNTS),
    Series("canary_success_rate", "percent", ("time",), "v2's non-5xx share over the last interval"),
    Series("canary_p99_ms", "ms", ("time",), "v2's P99 latency over the last interval"),
    Series("canary_rps", "1/s", ("time",), "v2's requests per second over the last interval"),
    Series("primary_success_rate", "percent", ("time",), "the primary's non-5xx share over the last interval"),
    Series("primary_p99_ms", "ms", ("time",), "the primary's P99 latency over the last interval"),
    Series("primary_rps", "1/s", ("time",), "the primary's requests per second over the last interval"),
    Series("sample", "", ("time", "sample"), "a few of the step's requests (Sample codes)"),
    Series("sample_error", "", ("time", "sample"), "the sampled request failed"),
))


def _rolling(counts: np.ndarray, errors: np.ndarray, latencies: list[np.ndarray], window: int,
             dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What one version's proxies report over the last ``window`` steps, at every step (as Prometheus would):
    success rate (percent), P99 latency (ms), requests per second."""
    n_steps = len(counts)
    flat = np.concatenate(latencies) if latencies else np.zeros(0)
    c = np.concatenate(([0], np.cumsum(counts)))
    ce = np.concatenate(([0], np.cumsum(errors)))
    j = np.arange(n_steps)
    lo = np.maximum(0, j + 1 - window)
    n = c[j + 1] - c[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, 100.0 * (1 - (ce[j + 1] - ce[lo]) / np.maximum(n, 1)), np.nan)
    rps = n / ((j + 1 - lo) * dt)
    p99 = np.full(n_steps, np.nan)
    for i in np.flatnonzero(n):
        p99[i] = _p99(flat[c[lo[i]]:c[i + 1]])
    return rate, p99, rps


class Release(Simulation):
    """Flagger's canary analysis: a ``flagger`` event at every interval (from the first), then a ``traffic``
    event that routes one interval of requests under the rules in force."""

    SCHEMA: ClassVar[Schema] = RELEASE_SCHEMA

    def __init__(self, p: ReleaseParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        self.weights = p.weights()
        self.dt = p.step_s()
        self.per_tick = round(p.interval_s / self.dt)
        self.steps_total = int(math.floor(p._horizon() / self.dt + 1e-9))
        if p.duration_s is not None:
            self.steps_total = int(math.ceil(p.duration_s / self.dt - 1e-9))
        self.canary_w, self.primary_w = 0, 100
        self.rules = release_routes(0, 100, header_routing=False)
        self.phase = Phase.INITIALIZED
        self.failed = 0
        self.iterations = 0
        self.primary_version = 1
        self.ended_at: float | None = None
        self.k = 0  # time steps simulated so far
        self.blocks: list[dict[str, np.ndarray]] = []
        self.canary_lat: list[np.ndarray] = []
        self.primary_lat: list[np.ndarray] = []

    def start(self) -> None:
        self.record("apply", "deployment/restaurant", "kubectl", image="restaurant:v2")
        self.schedule(0.0, "traffic", tick=0, priority=1)

    # -- Flagger and istiod -------------------------------------------------------------------------------
    def push(self, reason: str) -> None:
        self.record("push-config", "virtualservice/restaurant", ISTIOD, canary=self.canary_w,
                    primary=self.primary_w, testers_to_canary=self.p.header_routing and self.phase in (
                        Phase.PROGRESSING,), reason=reason)

    def set_routes(self, canary: int, primary: int, reason: str) -> None:
        self.canary_w, self.primary_w = canary, primary
        testers = self.p.header_routing and self.phase == Phase.PROGRESSING
        self.rules = release_routes(canary, primary, header_routing=testers)
        self.record("set-weight", "virtualservice/restaurant", FLAGGER, canary=canary, primary=primary,
                    reason=reason)
        self.push(reason)

    def on_flagger(self, tick: int) -> None:
        """Flagger's run at this interval (exactly ``tick × interval_s``, not a sum of steps)."""
        if self.phase == Phase.INITIALIZED:
            self.detect()
        elif self.phase == Phase.PROGRESSING:
            self.progress()
        elif self.phase == Phase.PROMOTING:
            self.phase = Phase.FINALISING
            self.set_routes(0, 100, "all traffic to the primary (now v2)")
        elif self.phase == Phase.FINALISING:
            self.phase = Phase.SUCCEEDED
            self.record("finalise", "canary/restaurant", FLAGGER, scaled="canary to zero")
            self.ended_at = self.now

    def detect(self) -> None:
        self.phase = Phase.PROGRESSING
        self.record("detect", "canary/restaurant", FLAGGER, revision="v2")
        if self.p.header_routing:
            self.rules = release_routes(self.canary_w, self.primary_w, header_routing=True)
            self.record("route-testers", "virtualservice/restaurant", FLAGGER,
                        header=f"{TESTER_HEADER}: {TESTER_VALUE}")
            self.push("testers")

    def progress(self) -> None:
        if self.failed >= self.p.threshold:
            self.phase = Phase.FAILED
            self.record("rollback", "canary/restaurant", FLAGGER, failed_checks=self.failed)
            self.set_routes(0, 100, "rollback")
            self.ended_at = self.now
        elif self.canary_w == 0 and self.iterations == 0:
            self.iterations = 1
            self.set_routes(self.weights[0], 100 - self.weights[0], "first step")
        else:
            self.analyse()

    def analyse(self) -> None:
        """Check the canary's success rate and P99 over the last interval; step up, or count a failed check."""
        p, last = self.p, self.blocks[-1]
        n = int(last["canary_n"].sum())
        e = int(last["canary_e"].sum())
        p99 = _p99(self.canary_lat[-1])
        rate = 100.0 * (1 - e / n) if n else math.nan
        if n == 0:
            why = "no values found: the canary got no traffic"
        elif rate < p.min_success_rate:
            why = f"success rate {rate:.2f} % < {p.min_success_rate:g} %"
        elif p99 > p.max_latency_ms:
            why = f"request duration P99 {p99:.0f} ms > {p.max_latency_ms:g} ms"
        else:
            why = ""
        if why:
            self.failed += 1
        self.record("analysis", "canary/restaurant", FLAGGER, passed=not why, requests=n,
                    success_rate=None if n == 0 else round(rate, 2), p99_ms=None if n == 0 else round(p99, 1),
                    failed_checks=self.failed, why=why or "passed")
        if why:
            return
        if self.canary_w < self.weights[-1]:
            new = self.weights[self.weights.index(self.canary_w) + 1]
            self.set_routes(new, 100 - new, "step")
        else:
            self.phase = Phase.PROMOTING
            self.primary_version = 2
            self.record("promote", "canary/restaurant", FLAGGER, copied="v2 spec to the primary")

    # -- the data plane -----------------------------------------------------------------------------------
    def on_traffic(self, tick: int) -> None:
        """One interval of requests under the rules in force (or the end, an interval after the release's)."""
        p = self.p
        if p.duration_s is None and self.ended_at is not None and \
                tick * p.interval_s >= self.ended_at + p.interval_s - 1e-9:
            return
        m = min(self.per_tick, self.steps_total - self.k)
        block = _traffic_block(p, self.random, m, self.rules, self.primary_version)
        self.canary_lat.append(block.pop("canary_latency"))
        self.primary_lat.append(block.pop("primary_latency"))
        block["time_s"] = (self.k + np.arange(m)) * self.dt
        for name, value in (("canary_weight", self.canary_w), ("primary_weight", self.primary_w),
                            ("phase", int(self.phase)), ("failed_checks", self.failed),
                            ("primary_version", self.primary_version)):
            block[name] = np.broadcast_to(value, m)
        self.blocks.append(block)
        self.k += m
        if self.k < self.steps_total:
            at = (tick + 1) * p.interval_s
            self.schedule(at, "flagger", tick=tick + 1)
            self.schedule(at, "traffic", tick=tick + 1, priority=1)

    def series(self) -> dict[str, np.ndarray]:
        col = {name: np.concatenate([b[name] for b in self.blocks]) for name in self.blocks[0]}
        series = {name: col[name].astype(float if name == "time_s" else np.int64)
                  for name in ("time_s", *_RELEASE_STATE, *_RELEASE_COUNTS)}
        for version, latencies in (("canary", self.canary_lat), ("primary", self.primary_lat)):
            rate, p99, rps = _rolling(col[f"{version}_n"], col[f"{version}_e"], latencies, self.per_tick, self.dt)
            series.update({f"{version}_success_rate": rate, f"{version}_p99_ms": p99, f"{version}_rps": rps})
        series["sample"] = col["sample"].astype(np.int64)
        series["sample_error"] = col["sample_error"].astype(bool)
        return series


def run_release(params: ReleaseParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run an automated canary release of v2 (``run_release(canary_error_rate=0.1)``) and return its trace.

    v2 is applied at 0 s; Flagger runs at every ``interval_s`` from then on. Requests arrive as Poisson
    processes, one time step at a time; each is routed by :func:`route_shares` on the rules in force.
    """
    p = with_overrides(params or ReleaseParams(), overrides)
    sim = Release(p, seed)
    sim.start()
    sim.run()
    return sim.trace(params=params_dict(p), series=sim.series())


# ---- outlier detection -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OutlierParams:
    """Parameters of :func:`run_outlier`: a pool of endpoints, one that fails for a while, Istio's defaults."""

    endpoints: int = 10
    bad_endpoint: int = 3
    fail_from_s: float = 20.0
    fail_until_s: float = 100.0
    failure: str = "500"  # how the bad endpoint fails: an HTTP 500, an HTTP 503, or a refused connection
    consecutive_5xx: int = 5  # DestinationRule outlierDetection.consecutive5xxErrors (Istio's default 5)
    interval_s: float = 10.0  # outlierDetection.interval (default 10s)
    base_ejection_s: float = 30.0  # outlierDetection.baseEjectionTime (default 30s)
    max_ejection_s: float = 300.0  # Envoy's max_ejection_time (default 300s; Istio does not set it)
    max_ejection_percent: int = 10  # outlierDetection.maxEjectionPercent (default 10)
    always_eject_one_host: bool = False  # Envoy's always_eject_one_host (since Envoy 1.31)
    retry_503: bool = False  # True: Istio before 1.24 (or its 1.23 compatibility profile) retries 503s
    retries: int = 2  # Istio's default retry policy: 2 retries
    request_rate_per_s: float = 40.0
    duration_s: float = 180.0

    def validated(self) -> OutlierParams:
        n = check_int("endpoints", self.endpoints, low=1, high=50)
        check_int("bad_endpoint", self.bad_endpoint, low=0, high=n - 1)
        duration = check_number("duration_s", self.duration_s, low=10, high=3600)
        start = check_number("fail_from_s", self.fail_from_s, low=0, high=duration)
        check_number("fail_until_s", self.fail_until_s, low=start, high=10 * duration)
        if self.failure not in FAILURES:
            raise ParameterError(f"failure must be one of {', '.join(FAILURES)}, got {self.failure!r}")
        check_int("consecutive_5xx", self.consecutive_5xx, low=1, high=1000)
        check_number("interval_s", self.interval_s, low=0.1, high=600)
        base = check_number("base_ejection_s", self.base_ejection_s, low=0.1, high=3600)
        check_number("max_ejection_s", self.max_ejection_s, low=0.1, high=36000)
        check_int("max_ejection_percent", self.max_ejection_percent, low=0, high=100)
        for name in ("always_eject_one_host", "retry_503"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name} must be True or False, got {getattr(self, name)!r}")
        check_int("retries", self.retries, low=0, high=10)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0.1, high=2000)
        if self.request_rate_per_s * duration > 400_000:
            raise ParameterError("request_rate_per_s × duration_s must be at most 400,000 requests")
        del base
        return self


def back_in_service_s(ejected_at_s: float, ejections: int, interval_s: float, base_ejection_s: float,
                      max_ejection_s: float = 300.0) -> float:
    """When Envoy returns a host ejected at ``ejected_at_s`` with multiplier ``ejections`` (interval ticks at
    ``interval_s``, ``2 × interval_s``, ...): the first tick at or after the ejection time has passed."""
    duration = min(base_ejection_s * ejections, max(max_ejection_s, base_ejection_s))
    tick = math.ceil((ejected_at_s + duration) / interval_s - 1e-12)
    return max(tick, 1) * interval_s


#: What :func:`run_outlier` records: per second (``time``) and per endpoint, and the interval ticks.
OUTLIER_SCHEMA = Schema("mesh-outlier", (
    Series("time_s", "s", ("time",), "the start of each second"),
    Series("sent", "count", ("time", "endpoint"), "attempts sent to each endpoint"),
    Series("failed", "count", ("time", "endpoint"), "attempts that failed"),
    Series("ejected", "", ("time", "endpoint"), "ejected at the end of the second"),
    Series("user_requests", "count", ("time",), "requests users sent"),
    Series("user_errors", "count", ("time",), "requests whose answer was an error"),
    Series("retried", "count", ("time",), "retries the client sidecar made"),
    Series("ticks_s", "s", ("tick",), "outlier detection's interval ticks"),
))


class Outlier(Simulation):
    """One client sidecar: a ``tick`` at every outlier-detection interval, and the ``requests`` arriving
    between two ticks handled one by one in a batch (an event per request would put the queue's cost on each of
    thousands of requests)."""

    SCHEMA: ClassVar[Schema] = OUTLIER_SCHEMA

    def __init__(self, p: OutlierParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        n = p.endpoints
        self.steps = int(math.floor(p.duration_s)) + 1
        self.ejected = [False] * n
        self.consecutive = [0] * n
        self.multiplier = [0] * n
        self.ejected_at = [math.nan] * n
        self.returned_at: list[float | None] = [None] * n
        self.cap = max(p.max_ejection_s, p.base_ejection_s)
        self.pool = list(range(n))  # the endpoints not ejected, in order
        self.everyone = list(range(n))
        self.retriable = p.failure == "connect-failure" or (p.failure == "503" and p.retry_503)
        # counts per second, as plain lists while requests are handled one by one (numpy item access is slower)
        self.sent = [[0] * n for _ in range(self.steps)]
        self.failed = [[0] * n for _ in range(self.steps)]
        self.user_requests = [0] * self.steps
        self.user_errors = [0] * self.steps
        self.retried = [0] * self.steps
        self.recovered = False
        self.arrivals: list[float] = []
        self.picks: list[list[float]] = []

    def start(self) -> None:
        p = self.p
        if p.fail_from_s < p.duration_s:
            self.record("start-failing", f"endpoint-{p.bad_endpoint}", FAULT, at_s=p.fail_from_s, failure=p.failure)
        total = int(self.random.poisson(p.request_rate_per_s * p.duration_s))
        self.arrivals = np.sort(self.random.uniform(0.0, p.duration_s, total)).tolist()
        self.picks = self.random.random((total, p.retries + 1)).tolist()  # where each attempt goes, drawn at once
        ticks = int(math.floor(p.duration_s / p.interval_s + 1e-9))
        bounds = [i * p.interval_s for i in range(1, ticks + 1)]  # exactly, not a sum of intervals
        for i, t in enumerate(bounds, start=1):
            self.schedule(t, "tick", priority=-1, index=i)  # a tick comes before a request at the same time
        first = 0
        for end in [*np.searchsorted(self.arrivals, bounds, side="left").tolist(), total]:
            if end > first:
                self.schedule(self.arrivals[first], "requests", first=first, end=end)
            first = max(first, end)

    def mark_recovered(self, t: float) -> None:
        """The bad endpoint's fault ends at ``fail_until_s``: logged when the model first reaches that time."""
        if not self.recovered and t >= self.p.fail_until_s:
            self.record("recover", f"endpoint-{self.p.bad_endpoint}", FAULT, at_s=self.p.fail_until_s)
            self.recovered = True

    def on_tick(self, index: int) -> None:
        p, t = self.p, self.now
        self.mark_recovered(t)
        for h in range(p.endpoints):
            if not self.ejected[h]:
                # healthy for a whole interval since it came back: the multiplier shrinks by one
                back = self.returned_at[h]
                if self.multiplier[h] and back is not None and t - back >= p.interval_s - 1e-9:
                    self.multiplier[h] -= 1
                continue
            if t - self.ejected_at[h] >= min(p.base_ejection_s * self.multiplier[h], self.cap) - 1e-9:
                self.ejected[h] = False
                self.pool.append(h)
                self.pool.sort()
                self.returned_at[h] = t
                self.consecutive[h] = 0
                self.record("return", f"endpoint-{h}", ENVOY, after_s=round(t - self.ejected_at[h], 3),
                            multiplier=self.multiplier[h])

    def charge(self, h: int, t: float) -> None:
        """One more 5xx in a row from endpoint ``h``: eject it on the ``consecutive_5xx``-th if the cap allows."""
        p = self.p
        self.consecutive[h] += 1
        if self.consecutive[h] != p.consecutive_5xx or self.ejected[h]:
            return
        active = sum(self.ejected)
        share = 100.0 * (active + 1) / p.endpoints
        if share <= p.max_ejection_percent or (p.always_eject_one_host and active == 0):
            if p.base_ejection_s * self.multiplier[h] < self.cap:
                self.multiplier[h] += 1
            self.ejected[h] = True
            self.pool.remove(h)
            self.ejected_at[h] = t
            self.record("eject", f"endpoint-{h}", ENVOY, at_s=t, consecutive_5xx=self.consecutive[h],
                        multiplier=self.multiplier[h],
                        earliest_return_s=round(t + min(p.base_ejection_s * self.multiplier[h], self.cap), 3))
        else:
            self.record("eject-refused", f"endpoint-{h}", ENVOY, at_s=t, would_eject_percent=round(share, 1),
                        max_ejection_percent=p.max_ejection_percent)

    def on_requests(self, first: int, end: int) -> None:
        """The requests ``first`` to ``end`` (all before the next tick), each tried and retried in turn."""
        p = self.p
        bad, fail_from, fail_until, retries, last = p.bad_endpoint, p.fail_from_s, p.fail_until_s, p.retries, self.steps - 1
        # local names for what the loop touches per request (it runs for every one of thousands of requests)
        pool, everyone, consecutive, retriable = self.pool, self.everyone, self.consecutive, self.retriable
        sent, failed, user_requests, user_errors, retried = (self.sent, self.failed, self.user_requests,
                                                             self.user_errors, self.retried)
        for t, pick in zip(self.arrivals[first:end], self.picks[first:end], strict=True):
            if t >= fail_until and not self.recovered:
                self.mark_recovered(t)
            s = min(int(t), last)
            user_requests[s] += 1
            tried: list[int] = []
            for attempt in range(retries + 1):
                candidates = pool or everyone  # all ejected: panic, use every host
                if tried:  # retries prefer hosts not tried yet
                    candidates = [h for h in candidates if h not in tried] or candidates
                h = candidates[int(pick[attempt] * len(candidates))]
                tried.append(h)
                error = h == bad and fail_from <= t < fail_until
                sent[s][h] += 1
                if error:
                    failed[s][h] += 1
                    self.charge(h, t)
                elif consecutive[h]:
                    consecutive[h] = 0  # a success ends the run of errors
                if not error or not retriable or attempt == retries:
                    user_errors[s] += int(error)
                    break
                retried[s] += 1

    def ejected_by_second(self) -> np.ndarray:
        """Which endpoints are ejected at the end of each second, from the events."""
        out = np.zeros((self.steps, self.p.endpoints), dtype=bool)
        state = np.zeros(self.p.endpoints, dtype=bool)
        marks = sorted((e.time_s, e.kind, int(e.subject.split("-")[1])) for e in self.events
                       if e.kind in ("eject", "return"))
        j = 0
        for s in range(self.steps):
            while j < len(marks) and marks[j][0] < s + 1:
                state[marks[j][2]] = marks[j][1] == "eject"
                j += 1
            out[s] = state
        return out

    def series(self) -> dict[str, np.ndarray]:
        p = self.p
        return {"time_s": np.arange(self.steps, dtype=float),
                "sent": np.array(self.sent, dtype=np.int64), "failed": np.array(self.failed, dtype=np.int64),
                "ejected": self.ejected_by_second(),
                "user_requests": np.array(self.user_requests, dtype=np.int64),
                "user_errors": np.array(self.user_errors, dtype=np.int64),
                "retried": np.array(self.retried, dtype=np.int64),
                "ticks_s": p.interval_s * np.arange(1, int(math.floor(p.duration_s / p.interval_s + 1e-9)) + 1)}


def run_outlier(params: OutlierParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run one client sidecar's outlier detection over a pool of endpoints and return the trace.

    Requests arrive as a Poisson process; each goes to an endpoint picked at random among those not ejected
    (Istio's default balancer is LEAST_REQUEST; at equal load that is much the same), and is retried on another
    endpoint when Istio's default retry policy says so.
    """
    p = with_overrides(params or OutlierParams(), overrides)
    sim = Outlier(p, seed)
    sim.start()
    sim.run(until_s=p.duration_s)
    return sim.trace(params=params_dict(p), series=sim.series(), sort=True)  # stable: same-time events keep their order
