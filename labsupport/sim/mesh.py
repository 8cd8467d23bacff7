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
from dataclasses import asdict, dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from labsupport.sim._params import ParameterError, check_int, check_number, with_overrides
from labsupport.sim._trace import Event, Trace, generator

__all__ = [
    "FAILURES",
    "MESH_ACTORS",
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
MESH_ACTORS = ("flagger", "istiod", "envoy", "fault")
FLAGGER, ISTIOD, ENVOY, FAULT = MESH_ACTORS
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


def route_shares(http: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None) -> dict[str, float]:
    """The share of requests with ``headers`` that each destination gets under the VirtualService rules ``http``.

    Destinations are named by their subset (or their host when they have no subset). Raises
    :class:`~labsupport.sim.ParameterError` when no rule fits or the rules cannot be read.
    """
    headers = headers or {}
    if not isinstance(http, Sequence) or isinstance(http, (str, bytes)):
        raise ParameterError(f"http must be a list of routing rules, got {type(http).__name__}")
    for rule in http:
        if not isinstance(rule, Mapping):
            raise ParameterError(f"each routing rule is a mapping with a route, got {rule!r}")
        matches = rule.get("match") or []
        if matches and not any(_match_fits(m, headers) for m in matches):
            continue
        route = rule.get("route") or []
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
    part = np.partition(values, (lo, hi))
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


def run_release(params: ReleaseParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run an automated canary release of v2 (``run_release(canary_error_rate=0.1)``) and return its trace.

    v2 is applied at 0 s; Flagger runs at every ``interval_s`` from then on. Requests arrive as Poisson
    processes, one time step at a time; each is routed by :func:`route_shares` on the rules in force.
    """
    p = with_overrides(params or ReleaseParams(), overrides)
    draw = generator(seed)
    weights = p.weights()
    dt = p.step_s()
    per_tick = round(p.interval_s / dt)
    horizon = p._horizon()
    events: list[Event] = []

    def emit(t: float, kind: str, subject: str, actor: str, **data: object) -> None:
        events.append(Event(t, kind, subject, actor, data))

    canary_w, primary_w = 0, 100
    rules = release_routes(canary_w, primary_w, header_routing=False)
    phase = Phase.INITIALIZED
    failed = 0
    iterations = 0
    primary_version = 1
    ended_at: float | None = None
    emit(0.0, "apply", "deployment/restaurant", "kubectl", image="restaurant:v2")

    def push(t: float, reason: str) -> None:
        emit(t, "push-config", "virtualservice/restaurant", ISTIOD, canary=canary_w, primary=primary_w,
             testers_to_canary=p.header_routing and phase in (Phase.PROGRESSING,), reason=reason)

    def set_routes(t: float, canary: int, primary: int, reason: str) -> None:
        nonlocal canary_w, primary_w, rules
        canary_w, primary_w = canary, primary
        testers = p.header_routing and phase == Phase.PROGRESSING
        rules = release_routes(canary_w, primary_w, header_routing=testers)
        emit(t, "set-weight", "virtualservice/restaurant", FLAGGER, canary=canary_w, primary=primary_w,
             reason=reason)
        push(t, reason)

    steps_total = int(math.floor(horizon / dt + 1e-9))
    if p.duration_s is not None:
        steps_total = int(math.ceil(p.duration_s / dt - 1e-9))
    blocks: list[dict[str, np.ndarray]] = []
    samples: list[np.ndarray] = []
    sample_errors: list[np.ndarray] = []
    canary_lat: list[np.ndarray] = []
    primary_lat: list[np.ndarray] = []
    k = 0
    tick = 0
    while k < steps_total:
        if tick > 0:  # Flagger's run at this interval (exactly tick × interval, not a sum of steps)
            t = tick * p.interval_s
            if phase == Phase.INITIALIZED:
                phase = Phase.PROGRESSING
                emit(t, "detect", "canary/restaurant", FLAGGER, revision="v2")
                if p.header_routing:
                    rules = release_routes(canary_w, primary_w, header_routing=True)
                    emit(t, "route-testers", "virtualservice/restaurant", FLAGGER,
                         header=f"{TESTER_HEADER}: {TESTER_VALUE}")
                    push(t, "testers")
            elif phase == Phase.PROGRESSING:
                if failed >= p.threshold:
                    phase = Phase.FAILED
                    emit(t, "rollback", "canary/restaurant", FLAGGER, failed_checks=failed)
                    set_routes(t, 0, 100, "rollback")
                    ended_at = t
                elif canary_w == 0 and iterations == 0:
                    iterations = 1
                    set_routes(t, weights[0], 100 - weights[0], "first step")
                else:
                    last = blocks[-1]
                    n = int(last["canary_n"].sum())
                    e = int(last["canary_e"].sum())
                    p99 = _p99(canary_lat[-1])
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
                        failed += 1
                    emit(t, "analysis", "canary/restaurant", FLAGGER, passed=not why, requests=n,
                         success_rate=None if n == 0 else round(rate, 2),
                         p99_ms=None if n == 0 else round(p99, 1), failed_checks=failed, why=why or "passed")
                    if not why:
                        if canary_w < weights[-1]:
                            new = weights[weights.index(canary_w) + 1]
                            set_routes(t, new, 100 - new, "step")
                        else:
                            phase = Phase.PROMOTING
                            primary_version = 2
                            emit(t, "promote", "canary/restaurant", FLAGGER, copied="v2 spec to the primary")
            elif phase == Phase.PROMOTING:
                phase = Phase.FINALISING
                set_routes(t, 0, 100, "all traffic to the primary (now v2)")
            elif phase == Phase.FINALISING:
                phase = Phase.SUCCEEDED
                emit(t, "finalise", "canary/restaurant", FLAGGER, scaled="canary to zero")
                ended_at = t
        if p.duration_s is None and ended_at is not None and tick * p.interval_s >= ended_at + p.interval_s - 1e-9:
            break
        m = min(per_tick, steps_total - k)
        blocks.append(_traffic_block(p, draw, m, rules, primary_version))
        block = blocks[-1]
        canary_lat.append(block.pop("canary_latency"))
        primary_lat.append(block.pop("primary_latency"))
        samples.append(block.pop("sample"))
        sample_errors.append(block.pop("sample_error"))
        for name, value in (("time_s", (k + np.arange(m)) * dt), ("canary_weight", canary_w),
                            ("primary_weight", primary_w), ("phase", int(phase)), ("failed_checks", failed),
                            ("primary_version", primary_version)):
            block[name] = np.broadcast_to(value, m)
        k += m
        tick += 1

    n_steps = k
    col = {name: np.concatenate([b[name] for b in blocks]) for name in blocks[0]}
    series: dict[str, Any] = {name: col[name].astype(float if name == "time_s" else np.int64) for name in (
        "time_s", "canary_weight", "primary_weight", "phase", "failed_checks", "primary_version",
        "user_primary", "user_canary", "user_primary_errors", "user_canary_errors",
        "tester_canary", "tester_primary", "tester_canary_errors", "tester_primary_errors")}

    # telemetry: what each version's proxies report over the last interval, at every step (as Prometheus would)
    def rolling(counts: np.ndarray, errors: np.ndarray, latencies: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        flat = np.concatenate(latencies) if latencies else np.zeros(0)
        ends = np.cumsum(counts)
        c = np.concatenate(([0], ends))
        ce = np.concatenate(([0], np.cumsum(errors)))
        j = np.arange(n_steps)
        lo = np.maximum(0, j + 1 - per_tick)
        n = c[j + 1] - c[lo]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n > 0, 100.0 * (1 - (ce[j + 1] - ce[lo]) / np.maximum(n, 1)), np.nan)
        rps = n / ((j + 1 - lo) * dt)
        p99 = np.full(n_steps, np.nan)
        for i in np.flatnonzero(n):
            p99[i] = _p99(flat[c[lo[i]]:c[i + 1]])
        return rate, p99, rps

    c_rate, c_p99, c_rps = rolling(col["canary_n"], col["canary_e"], canary_lat)
    p_rate, p_p99, p_rps = rolling(col["primary_n"], col["primary_e"], primary_lat)
    series.update({
        "canary_success_rate": c_rate, "canary_p99_ms": c_p99, "canary_rps": c_rps,
        "primary_success_rate": p_rate, "primary_p99_ms": p_p99, "primary_rps": p_rps,
        "sample": np.concatenate(samples).astype(np.int64),
        "sample_error": np.concatenate(sample_errors).astype(bool),
    })
    return Trace(model="mesh-release", params=asdict(p), seed=seed, events=tuple(events), series=series)


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


def run_outlier(params: OutlierParams | None = None, *, seed: int = 0, **overrides: object) -> Trace:
    """Run one client sidecar's outlier detection over a pool of endpoints and return the trace.

    Requests arrive as a Poisson process; each goes to an endpoint picked at random among those not ejected
    (Istio's default balancer is LEAST_REQUEST; at equal load that is much the same), and is retried on another
    endpoint when Istio's default retry policy says so.
    """
    p = with_overrides(params or OutlierParams(), overrides)
    draw = generator(seed)
    n = p.endpoints
    events: list[Event] = []
    steps = int(math.floor(p.duration_s)) + 1
    ejected = [False] * n
    consecutive = [0] * n
    multiplier = [0] * n
    ejected_at = [math.nan] * n
    returned_at: list[float | None] = [None] * n
    cap = max(p.max_ejection_s, p.base_ejection_s)
    pool = list(range(n))  # the endpoints not ejected, in order
    retriable = p.failure == "connect-failure" or (p.failure == "503" and p.retry_503)
    # counts per second, as plain lists while requests are handled one by one (numpy item access is slower)
    sent = [[0] * n for _ in range(steps)]
    failed = [[0] * n for _ in range(steps)]
    out = np.zeros((steps, n), dtype=bool)
    user_requests = [0] * steps
    user_errors = [0] * steps
    retried = [0] * steps

    def emit(t: float, kind: str, subject: str, actor: str, **data: object) -> None:
        events.append(Event(t, kind, subject, actor, data))

    bad, fail_from, fail_until = p.bad_endpoint, p.fail_from_s, p.fail_until_s

    def tick(t: float) -> None:
        for h in range(n):
            if not ejected[h]:
                # healthy for a whole interval since it came back: the multiplier shrinks by one
                if multiplier[h] and returned_at[h] is not None and t - returned_at[h] >= p.interval_s - 1e-9:
                    multiplier[h] -= 1
                continue
            duration = min(p.base_ejection_s * multiplier[h], cap)
            if t - ejected_at[h] >= duration - 1e-9:
                ejected[h] = False
                pool.append(h)
                pool.sort()
                returned_at[h] = t
                consecutive[h] = 0
                emit(t, "return", f"endpoint-{h}", ENVOY, after_s=round(t - ejected_at[h], 3),
                     multiplier=multiplier[h])

    def charge(h: int, t: float, error: bool) -> None:
        if not error:
            consecutive[h] = 0
            return
        consecutive[h] += 1
        if consecutive[h] != p.consecutive_5xx or ejected[h]:
            return
        active = sum(ejected)
        share = 100.0 * (active + 1) / n
        if share <= p.max_ejection_percent or (p.always_eject_one_host and active == 0):
            if p.base_ejection_s * multiplier[h] < cap:
                multiplier[h] += 1
            ejected[h] = True
            pool.remove(h)
            ejected_at[h] = t
            emit(t, "eject", f"endpoint-{h}", ENVOY, consecutive_5xx=consecutive[h], multiplier=multiplier[h],
                 earliest_return_s=round(t + min(p.base_ejection_s * multiplier[h], cap), 3))
        else:
            emit(t, "eject-refused", f"endpoint-{h}", ENVOY, would_eject_percent=round(share, 1),
                 max_ejection_percent=p.max_ejection_percent)

    if p.fail_from_s < p.duration_s:
        emit(p.fail_from_s, "start-failing", f"endpoint-{p.bad_endpoint}", FAULT, failure=p.failure)
    total = int(draw.poisson(p.request_rate_per_s * p.duration_s))
    arrivals = np.sort(draw.uniform(0.0, p.duration_s, total)).tolist()
    picks = draw.random((total, p.retries + 1)).tolist()  # where each attempt goes, drawn at once
    everyone = list(range(n))
    tick_index = 1
    next_tick = p.interval_s
    recovered_logged = False
    for t, pick in zip(arrivals, picks, strict=True):
        while next_tick <= t:
            if not recovered_logged and next_tick >= p.fail_until_s:
                emit(p.fail_until_s, "recover", f"endpoint-{p.bad_endpoint}", FAULT)
                recovered_logged = True
            tick(next_tick)
            tick_index += 1
            next_tick = tick_index * p.interval_s  # exactly, not a sum of intervals
        if not recovered_logged and t >= p.fail_until_s:
            emit(p.fail_until_s, "recover", f"endpoint-{p.bad_endpoint}", FAULT)
            recovered_logged = True
        s = min(int(t), steps - 1)
        user_requests[s] += 1
        tried: list[int] = []
        for attempt in range(p.retries + 1):
            candidates = pool or everyone  # all ejected: panic, use every host
            if tried:  # retries prefer hosts not tried yet
                candidates = [h for h in candidates if h not in tried] or candidates
            h = candidates[int(pick[attempt] * len(candidates))]
            tried.append(h)
            error = h == bad and fail_from <= t < fail_until
            sent[s][h] += 1
            if error:
                failed[s][h] += 1
                charge(h, t, True)
            elif consecutive[h]:
                consecutive[h] = 0  # a success ends the run of errors
            if not error or not retriable or attempt == p.retries:
                user_errors[s] += int(error)
                break
            retried[s] += 1
    while next_tick <= p.duration_s:
        if not recovered_logged and next_tick >= p.fail_until_s:
            emit(p.fail_until_s, "recover", f"endpoint-{p.bad_endpoint}", FAULT)
            recovered_logged = True
        tick(next_tick)
        tick_index += 1
        next_tick = tick_index * p.interval_s
    # ejected state at the end of each second, from the events
    state = np.zeros(n, dtype=bool)
    marks = sorted((e.time_s, e.kind, int(e.subject.split("-")[1])) for e in events if e.kind in ("eject", "return"))
    j = 0
    for s in range(steps):
        while j < len(marks) and marks[j][0] < s + 1:
            state[marks[j][2]] = marks[j][1] == "eject"
            j += 1
        out[s] = state
    events.sort(key=lambda e: e.time_s)  # stable: same-time events keep their order
    return Trace(model="mesh-outlier", params=asdict(p), seed=seed, events=tuple(events), series={
        "time_s": np.arange(steps, dtype=float),
        "sent": np.array(sent, dtype=np.int64), "failed": np.array(failed, dtype=np.int64), "ejected": out,
        "user_requests": np.array(user_requests, dtype=np.int64), "user_errors": np.array(user_errors, dtype=np.int64),
        "retried": np.array(retried, dtype=np.int64),
        "ticks_s": p.interval_s * np.arange(1, int(math.floor(p.duration_s / p.interval_s + 1e-9)) + 1),
    })
