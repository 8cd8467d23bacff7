"""Hidden tests for lesson 00: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``alert_rule``, ``who_acts``, ``removed_at_s``) and says what it is
worth with ``@pytest.mark.points(n)``. Learners see each test's first docstring line and passed/failed only.
Expected values come from the course's models, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex00_overview import WHO_ACTS_EVENTS
from labsupport.sim.overview import MonitoringWindow, run_overview


def _window(requests: int, errors: int, p95: float) -> MonitoringWindow:
    return MonitoringWindow(end_s=60.0, window_s=10.0, requests=requests, errors=errors, p95_latency_s=p95)


@pytest.mark.points(2)
def test_alert_rule_thresholds_are_strict(alert_rule):
    """the alert rule at exactly 5 % errors and exactly 0.5 s, in windows the public checks do not try"""
    assert alert_rule(_window(1000, 50, 0.1)) is False
    assert alert_rule(_window(1000, 51, 0.1)) is True
    assert alert_rule(_window(7, 0, 0.5)) is False
    assert alert_rule(_window(7, 0, 0.5001)) is True


def test_alert_rule_with_another_seed(alert_rule):
    """the alert rule in the model with other traffic"""
    trace = run_overview(alert_rule=alert_rule, seed=11, crash_at_s=63.0)
    firing = trace.of_kind("alert-firing")
    assert firing and firing[0].time_s >= 63.0


@pytest.mark.points(2)
@pytest.mark.parametrize(("crash", "interval", "threshold"), [(40.0, 5.0, 2), (30.0, 30.0, 2), (20.0, 4.0, 3)])
def test_removed_at_s_on_a_check(removed_at_s, crash, interval, threshold):
    """removed_at_s when the crash falls on (or near) a health check"""
    trace = run_overview(crash_at_s=crash, health_check_interval_s=interval, unhealthy_threshold=threshold,
                         duration_s=max(120.0, crash + (threshold + 2) * interval), restart_s=1.0)
    removed = trace.first("remove-from-pool")
    assert removed is not None
    assert removed_at_s(crash, interval, threshold) == pytest.approx(removed.time_s)


def test_who_acts_matches_another_run(who_acts):
    """who acts, checked against a run with four instances"""
    trace = run_overview(instances=4, seed=5)
    for kind in WHO_ACTS_EVENTS:  # every event of the exercise, so that an empty answer fails
        actors = {e.actor for e in trace.events if e.kind == kind}
        assert actors == {who_acts.get(kind)}
