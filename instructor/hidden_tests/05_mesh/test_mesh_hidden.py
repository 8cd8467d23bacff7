"""Hidden tests for lesson 05: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``tester_route``, ``analysis``, ``back_in_service``) and says what it
is worth with ``@pytest.mark.points(n)``. Learners see each test's first docstring line and passed/failed only.
Expected values come from the course's models and Istio's routing rules, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex05_mesh import (
    BAD_V2,
    GOOD_V2,
    MAX_USER_ERRORS,
    PROMOTE_WITHIN_S,
    analysis_release,
    model_returns,
    tester_rules,
)
from labsupport.sim.mesh import route_shares, run_outlier


@pytest.mark.points(2)
@pytest.mark.parametrize(("headers", "subset"), [
    ({"x-tester": "TRUE"}, "v1"),  # an exact match is case-sensitive in its value
    ({"x-tester": "trueish"}, "v1"),  # a prefix match would let this in
    ({"X-Tester": "true", "user-agent": "k6"}, "v2"),  # header names are not case-sensitive
])
def test_tester_route_edge_headers(tester_route, headers, subset):
    """the tester rule for look-alike headers"""
    assert route_shares(tester_rules(tester_route), headers) == {subset: 1.0}


@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [3, 4, 5, 6, 7])
def test_analysis_other_seeds(analysis, seed):
    """the analysis settings on other days' traffic"""
    good = analysis_release(analysis, GOOD_V2, seed)
    assert good.first("promote") is not None and good.first("promote").time_s <= PROMOTE_WITHIN_S
    bad = analysis_release(analysis, BAD_V2, seed)
    assert bad.first("promote") is None and int(bad.series["user_canary_errors"].sum()) <= MAX_USER_ERRORS


def test_analysis_stops_a_slow_release(analysis):
    """a v2 that answers but is too slow is not promoted"""
    trace = analysis_release(analysis, {"canary_latency_ms": 400, "header_routing": False}, 0)
    assert trace.first("promote") is None and trace.first("rollback") is not None


@pytest.mark.points(2)
@pytest.mark.parametrize("settings", [
    {"interval_s": 4.0, "base_ejection_s": 9.0, "max_ejection_s": 20.0, "fail_until_s": 170.0},  # the cap
    {"interval_s": 2.5, "base_ejection_s": 3.0, "fail_until_s": 120.0},
])
def test_back_in_service_caps_and_short_intervals(back_in_service, settings):
    """back_in_service with a capped ejection time and a short interval"""
    p = run_outlier(**settings).params
    for at, times, returned in model_returns(**settings):
        got = back_in_service(at, times, p["interval_s"], p["base_ejection_s"], p["max_ejection_s"])
        assert got == pytest.approx(returned, abs=1e-6)
