"""Lesson 00's production-environment model: exact traces and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.overview import PARTS, InstanceState, MonitoringWindow, percentile95, run_overview

DEFAULT_EVENTS = [
    (0.0, "deploy", "restaurant-service", "service-management-interface"),
    (0.0, "start", "instance-0", "runtime-service-management"),
    (0.0, "start", "instance-1", "runtime-service-management"),
    (0.0, "start", "instance-2", "runtime-service-management"),
    (3.0, "ready", "instance-0", "runtime-service-management"),
    (3.0, "add-to-pool", "instance-0", "request-routing"),
    (3.0, "ready", "instance-1", "runtime-service-management"),
    (3.0, "add-to-pool", "instance-1", "request-routing"),
    (3.0, "ready", "instance-2", "runtime-service-management"),
    (3.0, "add-to-pool", "instance-2", "request-routing"),
    (5.0, "traffic-on", "restaurant-service", "request-routing"),
    (42.0, "crash", "instance-0", "fault"),
    (44.0, "alert-firing", "restaurant-service", "monitoring"),
    (45.0, "health-check-failed", "instance-0", "runtime-service-management"),
    (50.0, "health-check-failed", "instance-0", "runtime-service-management"),
    (50.0, "remove-from-pool", "instance-0", "request-routing"),
    (50.0, "restart", "instance-0", "runtime-service-management"),
    (58.0, "ready", "instance-0", "runtime-service-management"),
    (58.0, "add-to-pool", "instance-0", "request-routing"),
    (59.0, "alert-resolved", "restaurant-service", "monitoring"),
]


def test_default_run_gives_this_exact_trace() -> None:
    trace = run_overview(seed=0)
    assert [(e.time_s, e.kind, e.subject, e.actor) for e in trace.events] == DEFAULT_EVENTS
    assert len(trace.series["request_time_s"]) == 3374
    assert int(trace.series["errors"].sum()) == 81


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_same_trace_other_seed_other_requests(seed: int) -> None:
    a, b = run_overview(seed=seed), run_overview(seed=seed)
    assert a.events == b.events
    for name in a.series:
        np.testing.assert_array_equal(a.series[name], b.series[name])
    c = run_overview(seed=seed + 100)
    assert not np.array_equal(a.series["request_time_s"][:50], c.series["request_time_s"][:50])


def test_percentile95_matches_numpy() -> None:
    values = np.random.default_rng(5).lognormal(size=997)
    for n in (1, 2, 3, 20, 997):
        assert percentile95(values[:n]) == pytest.approx(np.percentile(values[:n], 95), rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("instances", [2, 3, 5])
def test_failures_only_while_a_dead_or_overloaded_instance_gets_requests(seed: int, instances: int) -> None:
    trace = run_overview(seed=seed, instances=instances)
    s = trace.series
    removed = trace.first("remove-from-pool")
    crash = trace.first("crash")
    assert crash is not None and removed is not None
    failed = s["request_time_s"][~s["request_ok"]]
    overloaded = 30.0 / ((instances - 1) * 20.0) >= 1  # one instance fewer cannot carry the load
    if not overloaded:
        assert np.all((failed >= crash.time_s) & (failed < removed.time_s))
    # Every request to the crashed instance between crash and removal fails.
    to_dead = (s["request_instance"] == 0) & (s["request_time_s"] >= crash.time_s) & (s["request_time_s"] < removed.time_s)
    assert to_dead.any() and not s["request_ok"][to_dead].any()


@pytest.mark.parametrize(("crash", "interval", "threshold"),
                         [(42.0, 5.0, 2), (40.0, 5.0, 2), (13.0, 10.0, 3), (61.5, 4.0, 1), (7.2, 2.5, 4), (0.3, 0.5, 1)])
def test_removal_time_follows_the_health_check_arithmetic(crash: float, interval: float, threshold: int) -> None:
    trace = run_overview(crash_at_s=crash, health_check_interval_s=interval, unhealthy_threshold=threshold,
                         start_s=0.0, traffic_start_s=0.0)
    removed = trace.first("remove-from-pool")
    assert removed is not None
    assert removed.time_s == pytest.approx(math.ceil(crash / interval) * interval + (threshold - 1) * interval)
    assert len(trace.of_kind("health-check-failed")) == threshold


def test_instance_states_and_counts_are_consistent() -> None:
    trace = run_overview(seed=1, instances=4)
    s = trace.series
    states = s["instance_state"]
    assert states.shape == (len(s["time_s"]), 4)
    assert np.all(s["serving"] <= 4)
    assert states[0].tolist() == [InstanceState.STARTING] * 4
    assert states[45, 0] == InstanceState.CRASHED
    assert states[52, 0] == InstanceState.RESTARTING
    assert states[60].tolist() == [InstanceState.SERVING] * 4
    assert s["requests"].sum() == len(s["request_time_s"])
    np.testing.assert_allclose(s["traffic_share"][s["requests"] > 0].sum(axis=1), 1.0)
    assert all(e.actor in (*PARTS, "fault") for e in trace.events)


def test_no_crash_no_errors_no_alert() -> None:
    trace = run_overview(crash_at_s=None, seed=3)
    assert trace.series["errors"].sum() == 0
    assert not trace.of_kind("alert-firing")


def test_custom_alert_rule_is_called_with_windows() -> None:
    seen: list[MonitoringWindow] = []

    def rule(window: MonitoringWindow) -> bool:
        seen.append(window)
        return window.requests > 0

    trace = run_overview(alert_rule=rule)
    assert len(seen) == len(trace.series["time_s"]) - 1
    assert seen[0].requests == 0 and seen[-1].requests > 0
    firing = trace.of_kind("alert-firing")
    assert len(firing) == 1 and 5 < firing[0].time_s <= 7


def test_alert_rule_must_return_bool() -> None:
    with pytest.raises(TypeError, match="True or False"):
        run_overview(alert_rule=lambda w: "yes")  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"instances": 0}, "instances must be at least 1"),
    ({"instances": "3"}, "instances must be a whole number"),
    ({"crash_at_s": 500}, "crash_at_s must be at most 120"),
    ({"crash_instance": 3}, "crash_instance must be at most 2"),
    ({"alert_error_rate": 2}, "alert_error_rate must be at most 1"),
    ({"health_check_interval_s": 0}, "health_check_interval_s must be at least 0.5"),
    ({"colour": "red"}, "unknown parameter"),
])
def test_bad_parameters_get_clear_messages(overrides: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        run_overview(**overrides)
