"""Lesson 00: a small production environment and its four parts.

A deploy arrives through the **service management interface**; **runtime service management** starts the
instances, checks their health and restarts one that crashed; **request routing** spreads user requests over
the instances it believes are healthy; **monitoring** evaluates an alert rule over a sliding window of
requests every second.

The model is event-driven (a :class:`~labsupport.sim.Simulation`): lifecycle events are handled in time order,
requests arrive as a seeded Poisson process, and everything is reduced to per-second series that views animate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from labsupport.sim._engine import Simulation
from labsupport.sim._params import check_int, check_number, params_dict, with_overrides
from labsupport.sim._trace import Schema, Series, Trace

__all__ = [
    "PARTS",
    "Environment",
    "InstanceState",
    "MonitoringWindow",
    "OverviewParams",
    "default_alert_rule",
    "percentile95",
    "run_overview",
]

#: The four parts of the production environment, as actors in the trace.
PARTS = (
    "service-management-interface",
    "runtime-service-management",
    "monitoring",
    "request-routing",
)
SMI, RUNTIME, MONITORING, ROUTING = PARTS
FAULT = "fault"  # a crash is caused by no part of the environment


class InstanceState(IntEnum):
    """What an instance is doing at the end of each second (the code stored in ``instance_state``)."""

    STOPPED = 0
    STARTING = 1
    SERVING = 2
    CRASHED = 3  # dead, but request routing still sends it requests
    RESTARTING = 4  # removed from routing, being started again


@dataclass(frozen=True, slots=True)
class MonitoringWindow:
    """What monitoring sees when it evaluates the alert rule: the requests of the last ``window_s``."""

    end_s: float
    window_s: float
    requests: int
    errors: int
    p95_latency_s: float  # 0.0 when the window holds no requests


AlertRule = Callable[[MonitoringWindow], bool]


@dataclass(frozen=True, slots=True)
class OverviewParams:
    """Parameters of :func:`run_overview`; every field is checked and a bad one gets a clear message."""

    instances: int = 3
    duration_s: float = 120.0
    request_rate_per_s: float = 30.0
    capacity_per_instance_rps: float = 20.0
    base_latency_s: float = 0.05
    start_s: float = 3.0
    traffic_start_s: float = 5.0
    crash_at_s: float | None = 42.0
    crash_instance: int = 0
    health_check_interval_s: float = 5.0
    unhealthy_threshold: int = 2
    restart_s: float = 8.0
    window_s: float = 10.0
    alert_error_rate: float = 0.05
    alert_p95_latency_s: float = 0.5

    def validated(self) -> OverviewParams:
        check_int("instances", self.instances, low=1, high=12)
        duration = check_number("duration_s", self.duration_s, low=10, high=3600)
        check_number("request_rate_per_s", self.request_rate_per_s, low=0, high=500)
        check_number("capacity_per_instance_rps", self.capacity_per_instance_rps, low=0, low_open=True)
        check_number("base_latency_s", self.base_latency_s, low=0, low_open=True, high=10)
        check_number("start_s", self.start_s, low=0, high=duration)
        check_number("traffic_start_s", self.traffic_start_s, low=0, high=duration)
        if self.crash_at_s is not None:
            check_number("crash_at_s", self.crash_at_s, low=0, high=duration)
            check_int("crash_instance", self.crash_instance, low=0, high=self.instances - 1)
        check_number("health_check_interval_s", self.health_check_interval_s, low=0.5, high=300)
        check_int("unhealthy_threshold", self.unhealthy_threshold, low=1, high=10)
        check_number("restart_s", self.restart_s, low=0, high=duration)
        check_number("window_s", self.window_s, low=1, high=duration)
        check_number("alert_error_rate", self.alert_error_rate, low=0, high=1)
        check_number("alert_p95_latency_s", self.alert_p95_latency_s, low=0, low_open=True)
        return self


def percentile95(values: np.ndarray) -> float:
    """The 95th percentile with linear interpolation: ``np.percentile(values, 95)``, several times faster."""
    ordered = np.sort(values)
    position = 0.95 * (len(ordered) - 1)
    lo = int(position)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo))


def default_alert_rule(params: OverviewParams) -> AlertRule:
    """Fire when the window's error rate or its 95th-percentile latency is above the threshold."""

    def rule(window: MonitoringWindow) -> bool:
        if window.requests == 0:
            return False
        return (window.errors / window.requests > params.alert_error_rate
                or window.p95_latency_s > params.alert_p95_latency_s)

    return rule


# Lifecycle event priorities at equal times: a crash happens before a health check that could see it,
# and a health check before routing changes.
_P_FAULT, _P_LIFECYCLE, _P_CHECK = 0, 1, 2
_FAILED_REQUEST_LATENCY_S = 0.002  # a refused connection answers at once
_MAX_SLOWDOWN = 20.0  # a saturated instance answers at most 20x slower than an idle one
_TIME, _REQUEST = ("time",), ("request",)


class Environment(Simulation):
    """:func:`run_overview`'s model: lifecycle events handled one by one; between two of them nothing changes
    state, so before each event :meth:`advance` answers the requests and records the seconds since the last one
    in one go; monitoring runs over the seconds after the run."""

    SCHEMA = Schema("overview", (
        Series("time_s", "s", _TIME, "one step per second"),
        Series("requests", "count", _TIME, "requests arriving in each second"),
        Series("errors", "count", _TIME, "failed requests arriving in each second"),
        Series("window_requests", "count", _TIME, "requests in the monitoring window ending at the second"),
        Series("window_errors", "count", _TIME, "failed requests in that window"),
        Series("window_error_rate", "share", _TIME),
        Series("window_p95_latency_s", "s", _TIME, "the window's 95th-percentile latency (0 with no requests)"),
        Series("alert", "", _TIME, "is the alert firing"),
        Series("serving", "count", _TIME, "instances serving"),
        Series("instance_state", "", ("time", "instance"), "each instance's InstanceState code"),
        Series("traffic_share", "share", ("time", "instance"), "the share of each second's requests routed to it"),
        Series("request_time_s", "s", _REQUEST, "each request's arrival"),
        Series("request_instance", "", _REQUEST, "the instance it was routed to, -1 for none"),
        Series("request_latency_s", "s", _REQUEST),
        Series("request_ok", "", _REQUEST, "was it answered"),
    ))

    def __init__(self, p: OverviewParams, seed: int) -> None:
        super().__init__(seed)
        self.p = p
        self.names = [f"instance-{i}" for i in range(p.instances)]
        self.state = [InstanceState.STOPPED] * p.instances
        self.routed = [False] * p.instances  # does request routing send this instance requests?
        self.failed_checks = [0] * p.instances
        self.traffic_on = False
        self.next_target = 0
        self.served = 0  # requests handled so far
        self.recorded = 0  # seconds whose instance states are recorded
        # Requests: a Poisson process from traffic_start_s on, with each request's random draws made up front.
        span = p.duration_s - p.traffic_start_s
        expected = p.request_rate_per_s * span
        gaps = self.random.exponential(1 / p.request_rate_per_s, int(expected + 6 * np.sqrt(expected) + 20)) \
            if p.request_rate_per_s > 0 else np.zeros(0)
        arrivals = p.traffic_start_s + np.cumsum(gaps)
        self.arrivals = arrivals[arrivals < p.duration_s]
        n_requests = len(self.arrivals)
        self.noise = self.random.lognormal(0.0, 0.35, n_requests)
        self.shed_draw = self.random.random(n_requests)
        self.req_instance = np.full(n_requests, -1, dtype=np.int64)
        self.req_latency = np.full(n_requests, _FAILED_REQUEST_LATENCY_S)
        self.req_ok = np.zeros(n_requests, dtype=bool)
        self.steps = int(np.floor(p.duration_s)) + 1
        self.time_grid = np.arange(self.steps, dtype=float)
        self.instance_state = np.zeros((self.steps, p.instances), dtype=np.int8)

    def start(self) -> None:
        """The deploy: the service management interface asks for N instances of version v1."""
        p = self.p
        self.record("deploy", "restaurant-service", SMI, version="v1", instances=p.instances)
        for i in range(p.instances):
            self.schedule(0.0, "start", priority=_P_LIFECYCLE, i=i)
        self.schedule(p.traffic_start_s, "traffic", priority=_P_LIFECYCLE)
        if p.crash_at_s is not None:
            self.schedule(p.crash_at_s, "crash", priority=_P_FAULT, i=p.crash_instance)
        # Health checks run at every multiple of the interval (k * interval, not a running sum: no float drift).
        for k in range(1, int(p.duration_s // p.health_check_interval_s) + 1):
            self.schedule(k * p.health_check_interval_s, "check", priority=_P_CHECK)

    # -- between events ---------------------------------------------------------------------------------------
    def advance(self, t_s: float) -> None:
        """Everything up to ``t_s`` that no event changes: the requests, and each second's instance states."""
        self.serve_until(t_s)
        while self.recorded < self.steps and self.time_grid[self.recorded] < t_s:
            self.instance_state[self.recorded] = [int(s) for s in self.state]
            self.recorded += 1

    def serve_until(self, t_s: float) -> None:
        """Route and answer every request that arrives before ``t_s``; nothing changes state in between."""
        p = self.p
        end = int(self.arrivals.searchsorted(t_s, side="left"))
        batch = slice(self.served, end)
        self.served = end
        pool = np.array([j for j in range(p.instances) if self.routed[j]], dtype=np.int64)
        if end == batch.start or not self.traffic_on or len(pool) == 0:
            return  # no requests, or nowhere to send them: they fail at once
        targets = pool[(self.next_target + np.arange(end - batch.start)) % len(pool)]  # round robin over the pool
        self.next_target += end - batch.start
        self.req_instance[batch] = targets
        alive = np.array([s == InstanceState.SERVING for s in self.state])[targets]
        rho = p.request_rate_per_s / (len(pool) * p.capacity_per_instance_rps)
        shed = self.shed_draw[batch] < (1 - 1 / rho) if rho >= 1 else np.zeros(len(targets), dtype=bool)
        ok = alive & ~shed  # a dead instance refuses; an overloaded one sheds what it cannot carry
        slowdown = min(1 / max(1 - rho, 1 / _MAX_SLOWDOWN), _MAX_SLOWDOWN)
        self.req_ok[batch] = ok
        self.req_latency[batch] = np.where(ok, p.base_latency_s * slowdown * self.noise[batch],
                                           _FAILED_REQUEST_LATENCY_S)

    # -- runtime service management and request routing ------------------------------------------------------
    def on_start(self, i: int) -> None:
        self.advance(self.now)
        self.state[i] = InstanceState.STARTING
        self.record("start", self.names[i], RUNTIME)
        self.schedule(self.now + self.p.start_s, "ready", priority=_P_LIFECYCLE, i=i)

    def on_ready(self, i: int) -> None:
        self.advance(self.now)
        self.state[i] = InstanceState.SERVING
        self.routed[i] = True
        self.failed_checks[i] = 0
        self.record("ready", self.names[i], RUNTIME)
        self.record("add-to-pool", self.names[i], ROUTING)

    def on_traffic(self) -> None:
        self.advance(self.now)
        self.traffic_on = True
        self.record("traffic-on", "restaurant-service", ROUTING, rate_per_s=self.p.request_rate_per_s)

    def on_crash(self, i: int) -> None:
        self.advance(self.now)
        if self.state[i] == InstanceState.SERVING:
            self.state[i] = InstanceState.CRASHED
            self.record("crash", self.names[i], FAULT)

    def on_check(self) -> None:
        self.advance(self.now)
        for j in range(self.p.instances):
            if self.state[j] != InstanceState.CRASHED:
                continue
            self.failed_checks[j] += 1
            self.record("health-check-failed", self.names[j], RUNTIME, consecutive=self.failed_checks[j])
            if self.failed_checks[j] >= self.p.unhealthy_threshold:
                self.routed[j] = False
                self.state[j] = InstanceState.RESTARTING
                self.record("remove-from-pool", self.names[j], ROUTING)
                self.record("restart", self.names[j], RUNTIME)
                self.schedule(self.now + self.p.restart_s, "ready", priority=_P_LIFECYCLE, i=j)

    # -- monitoring -------------------------------------------------------------------------------------------
    def monitor(self, rule: AlertRule) -> dict[str, np.ndarray]:
        """Monitoring evaluates the alert rule over the window ending at every second; returns its series."""
        p, steps = self.p, self.steps
        window_requests = np.zeros(steps, dtype=np.int64)
        window_errors = np.zeros(steps, dtype=np.int64)
        window_p95 = np.zeros(steps)
        alert = np.zeros(steps, dtype=bool)
        firing = False
        for k in range(1, steps):
            end = self.time_grid[k]
            lo, hi = np.searchsorted(self.arrivals, [end - p.window_s, end], side="right")
            n = int(hi - lo)
            e = int(np.count_nonzero(~self.req_ok[lo:hi]))
            p95 = percentile95(self.req_latency[lo:hi]) if n else 0.0
            window_requests[k], window_errors[k], window_p95[k] = n, e, p95
            verdict = rule(MonitoringWindow(end_s=float(end), window_s=p.window_s, requests=n, errors=e,
                                            p95_latency_s=p95))
            if not isinstance(verdict, (bool, np.bool_)):
                raise TypeError(f"an alert rule must return True or False, got {type(verdict).__name__} {verdict!r}")
            if verdict and not firing:
                self.record("alert-firing", "restaurant-service", MONITORING, at_s=float(end),
                            error_rate=round(e / n, 4) if n else 0.0, p95_latency_s=round(p95, 4))
            elif firing and not verdict:
                self.record("alert-resolved", "restaurant-service", MONITORING, at_s=float(end))
            firing = bool(verdict)
            alert[k] = firing
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(window_requests > 0, window_errors / np.maximum(window_requests, 1), 0.0)
        return {"window_requests": window_requests, "window_errors": window_errors, "window_error_rate": rate,
                "window_p95_latency_s": window_p95, "alert": alert}

    def finish(self, rule: AlertRule) -> Trace:
        self.advance(float("inf"))
        steps = self.steps
        second = np.floor(self.arrivals).astype(np.int64)
        requests = np.bincount(second, minlength=steps)[:steps]
        errors = np.bincount(second, weights=~self.req_ok, minlength=steps)[:steps].astype(np.int64)
        monitoring = self.monitor(rule)
        share = np.zeros((steps, self.p.instances))
        for i in range(self.p.instances):
            share[:, i] = np.bincount(second[self.req_instance == i], minlength=steps)[:steps]
        share = share / np.maximum(share.sum(axis=1, keepdims=True), 1)
        return self.trace(
            params=params_dict(self.p),
            sort=True,  # stable: same-time events keep the order they happened in
            series={
                "time_s": self.time_grid,
                "requests": requests,
                "errors": errors,
                **monitoring,
                "serving": (self.instance_state == InstanceState.SERVING).sum(axis=1),
                "instance_state": self.instance_state,
                "traffic_share": share,
                "request_time_s": self.arrivals,
                "request_instance": self.req_instance,
                "request_latency_s": self.req_latency,
                "request_ok": self.req_ok,
            },
        )


def run_overview(params: OverviewParams | None = None, *, seed: int = 0,
                 alert_rule: AlertRule | None = None, **overrides: object) -> Trace:
    """Run the production-environment model and return its trace.

    ``overrides`` replace fields of ``params`` (``run_overview(instances=2, crash_at_s=30)``).
    ``alert_rule`` replaces the default rule: a function of a :class:`MonitoringWindow` returning ``bool``.
    """
    p = with_overrides(params or OverviewParams(), overrides)
    sim = Environment(p, seed)
    sim.start()
    sim.run(until_s=p.duration_s)
    return sim.finish(alert_rule or default_alert_rule(p))
