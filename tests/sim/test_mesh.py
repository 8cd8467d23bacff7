"""Lesson 05 models: Istio's routing rules, Flagger's schedule, Envoy's outlier detection (exact traces, properties)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.mesh import (
    Phase,
    back_in_service_s,
    release_routes,
    release_timeline,
    route_shares,
    run_outlier,
    run_release,
)

# ---- routing rules ------------------------------------------------------------------------------------------


def test_rules_are_tried_in_order_and_weights_are_relative() -> None:
    rules = release_routes(10, header_routing=True)
    assert route_shares(rules, {"x-tester": "true"}) == {"canary": 1.0}
    assert route_shares(rules, {"X-Tester": "true"}) == {"canary": 1.0}  # header names are case-insensitive
    assert route_shares(rules, {"x-tester": "TRUE"}) == pytest.approx({"primary": 0.9, "canary": 0.1})
    assert route_shares(rules) == pytest.approx({"primary": 0.9, "canary": 0.1})
    assert route_shares(release_routes(1, 3)) == pytest.approx({"primary": 0.75, "canary": 0.25})
    one = [{"route": [{"destination": {"host": "r", "subset": "v1"}, "weight": 7}]}]
    assert route_shares(one) == {"v1": 1.0}  # a single destination gets everything, whatever its weight


def test_header_match_kinds() -> None:
    def rules(condition: dict[str, str]) -> list[dict]:
        return [{"match": [{"headers": {"x-tester": condition}}], "route": [{"destination": {"host": "r", "subset": "v2"}}]},
                {"route": [{"destination": {"host": "r", "subset": "v1"}}]}]

    assert route_shares(rules({"prefix": "tr"}), {"x-tester": "trueish"}) == {"v2": 1.0}
    assert route_shares(rules({"exact": "true"}), {"x-tester": "trueish"}) == {"v1": 1.0}
    assert route_shares(rules({"regex": "t.*e"}), {"x-tester": "true"}) == {"v2": 1.0}
    assert route_shares(rules({"regex": "t"}), {"x-tester": "true"}) == {"v1": 1.0}  # RE2 matches the whole value


def test_unreadable_rules_are_explained() -> None:
    only_testers = [{"match": [{"headers": {"x-tester": {"exact": "true"}}}],
                     "route": [{"destination": {"host": "r", "subset": "v2"}}]}]
    with pytest.raises(ParameterError, match="no rule fits"):
        route_shares(only_testers, {})
    with pytest.raises(ParameterError, match="total weight of 0"):
        route_shares(release_routes(0, 0))
    with pytest.raises(ParameterError, match="exactly one of exact, prefix or regex"):
        route_shares([{"match": [{"headers": {"x": {"exct": "1"}}}], "route": []}], {"x": "1"})
    with pytest.raises(ParameterError, match="http must be a list"):
        route_shares("route everything to v2")  # type: ignore[arg-type]


# ---- the release ----------------------------------------------------------------------------------------------


def _flagger(trace) -> list[tuple[float, str, object]]:
    return [(e.time_s, e.kind, e.data.get("canary")) for e in trace.events if e.actor == "flagger"]


def test_healthy_release_exactly() -> None:
    trace = run_release(seed=0)
    assert _flagger(trace) == [
        (30.0, "detect", None), (30.0, "route-testers", None), (60.0, "set-weight", 10),
        (90.0, "analysis", None), (90.0, "set-weight", 20), (120.0, "analysis", None), (120.0, "set-weight", 30),
        (150.0, "analysis", None), (150.0, "set-weight", 40), (180.0, "analysis", None), (180.0, "set-weight", 50),
        (210.0, "analysis", None), (210.0, "promote", None), (240.0, "set-weight", 0), (270.0, "finalise", None)]
    # every routing change is pushed by istiod at the same moment
    changes = [e.time_s for e in trace.events if e.kind in ("set-weight", "route-testers")]
    assert changes == [e.time_s for e in trace.of_kind("push-config")]
    assert all(e.actor == "istiod" for e in trace.of_kind("push-config"))
    s = trace.series
    assert s["phase"][-1] == Phase.SUCCEEDED and s["primary_version"][-1] == 2
    assert s["time_s"][-1] == 299.0  # one interval after the finalise
    assert run_release(seed=0).log() == trace.log()
    assert run_release(seed=1).log() != trace.log()


@pytest.mark.parametrize(("interval_s", "step_weight", "max_weight", "threshold"), [
    (30, 10, 50, 5), (2.5, 25, 50, 2), (7.5, 20, 50, 3), (60, 5, 20, 1), (1, 50, 100, 10)])
def test_promotion_and_rollback_times_follow_from_the_settings(interval_s, step_weight, max_weight, threshold) -> None:
    when = release_timeline(interval_s, step_weight, max_weight, threshold)
    settings = dict(interval_s=interval_s, step_weight=step_weight, max_weight=max_weight, threshold=threshold,
                    header_routing=False, request_rate_per_s=200)
    good = run_release(canary_error_rate=0.0, **settings)
    assert good.first("promote").time_s == pytest.approx(when["promote_s"])
    assert good.first("finalise").time_s == pytest.approx(when["finalise_s"])
    assert [e.time_s for e in good.of_kind("set-weight")][0] == pytest.approx(when["first_step_s"])
    bad = run_release(canary_error_rate=1.0, **settings)
    assert bad.first("promote") is None
    assert bad.first("rollback").time_s == pytest.approx(when["rollback_s"])
    assert {e.data["canary"] for e in bad.of_kind("set-weight")} == {step_weight, 0}  # never past the first step


def test_a_fractional_interval_is_not_truncated() -> None:
    half = run_release(interval_s=2.5, step_weight=25, max_weight=50)
    whole = run_release(interval_s=2.0, step_weight=25, max_weight=50)
    assert half.first("promote").time_s == 10.0 and whole.first("promote").time_s == 8.0
    assert [e.time_s for e in half.of_kind("analysis")] == [7.5, 10.0]
    assert np.allclose(np.diff(half.series["time_s"]), 2.5 / 3)  # three steps per interval, ticks on steps


def test_a_bad_release_is_never_promoted() -> None:
    for seed in range(12):
        trace = run_release(seed=seed, canary_error_rate=0.05, header_routing=False)
        assert trace.first("promote") is None, seed
        assert trace.first("rollback") is not None
        assert trace.series["canary_weight"][-1] == 0 and trace.series["primary_version"][-1] == 1


def test_failed_checks_add_up_and_the_rollback_comes_one_run_later() -> None:
    trace = run_release(step_weight=1, max_weight=5, interval_s=5, request_rate_per_s=2, header_routing=False)
    checks = trace.of_kind("analysis")
    counts = [e.data["failed_checks"] for e in checks]
    assert counts == sorted(counts)  # never reset by a check that passes
    passed_after_a_failure = [b for a, b in zip(checks, checks[1:], strict=False)
                              if not a.data["passed"] and b.data["passed"]]
    assert passed_after_a_failure and all(b.data["failed_checks"] >= 1 for b in passed_after_a_failure)
    rollback = trace.first("rollback")
    assert checks[-1].data["failed_checks"] == trace.params["threshold"]
    assert rollback.time_s == checks[-1].time_s + 5.0


def test_no_traffic_is_a_failed_check() -> None:
    trace = run_release(request_rate_per_s=0, tester_rate_per_s=0, header_routing=False, threshold=2)
    checks = trace.of_kind("analysis")
    assert [c.data["passed"] for c in checks] == [False, False]
    assert all(c.data["requests"] == 0 and "no values found" in c.data["why"] for c in checks)
    assert trace.first("rollback").time_s == release_timeline(30, 10, 50, 2)["rollback_s"]


def test_slow_release_fails_on_latency() -> None:
    trace = run_release(canary_latency_ms=400, header_routing=False)
    assert trace.first("promote") is None
    assert all("P99" in e.data["why"] for e in trace.of_kind("analysis"))


def test_weights_are_honoured_within_statistical_bounds() -> None:
    trace = run_release(request_rate_per_s=400, header_routing=False)
    s = trace.series
    for weight in (10, 20, 30, 40, 50):
        at = s["canary_weight"] == weight
        n = int(s["user_canary"][at].sum() + s["user_primary"][at].sum())
        share = s["user_canary"][at].sum() / n
        assert abs(share - weight / 100) < 4 * math.sqrt(weight / 100 * (1 - weight / 100) / n), weight
    assert s["user_canary"][s["canary_weight"] == 0].sum() == 0
    # testers reach the canary only while the header rule is in force, and then always
    tested = run_release(tester_rate_per_s=5)
    t = tested.series
    progressing = t["phase"] == Phase.PROGRESSING
    assert t["tester_primary"][progressing].sum() == 0 and t["tester_canary"][progressing].sum() > 0
    assert t["tester_canary"][t["time_s"] < 30].sum() == 0


def test_telemetry_is_what_the_analysis_read() -> None:
    trace = run_release(canary_error_rate=0.03)
    s = trace.series
    for check in trace.of_kind("analysis"):
        k = int(round(check.time_s / 1.0)) - 1  # the last step before the run, with the interval behind it
        assert round(float(s["canary_success_rate"][k]), 2) == check.data["success_rate"]
        assert round(float(s["canary_p99_ms"][k]), 1) == check.data["p99_ms"]


def test_bad_release_settings_are_explained() -> None:
    with pytest.raises(ParameterError, match=r"step_weight \(60\) must be at most max_weight \(50\)"):
        run_release(step_weight=60)
    with pytest.raises(ParameterError, match="interval_s must be at least 1"):
        run_release(interval_s=0.5)
    with pytest.raises(ParameterError, match="header_routing must be True or False"):
        run_release(header_routing="yes")
    with pytest.raises(ParameterError, match="too long to simulate"):
        run_release(interval_s=600, step_weight=1, max_weight=100, threshold=100)
    assert run_release(step_weight=10.0).params["step_weight"] == 10  # a whole float is a whole number


# ---- outlier detection ----------------------------------------------------------------------------------------


def _marks(trace) -> list[tuple[str, float, object]]:
    return [(e.kind, round(e.time_s, 2), e.data.get("multiplier")) for e in trace.events
            if e.kind in ("eject", "return", "eject-refused")]


def test_outlier_default_story_exactly() -> None:
    trace = run_outlier()
    assert _marks(trace) == [("eject", 21.23, 1), ("return", 60.0, 1), ("eject", 60.94, 2), ("return", 130.0, 2)]
    assert [e.actor for e in trace.of_kind("eject", "return")] == ["envoy"] * 4
    out = trace.series["ejected"]
    assert out[:, 3].sum() == out.sum()  # only the bad endpoint is ever out
    assert out[30, 3] and out[100, 3] and not out[130, 3] and not out[:21, 3].any()
    assert int(trace.series["user_errors"].sum()) == 10  # five per ejection: 500s are not retried


@pytest.mark.parametrize("settings", [{}, {"interval_s": 7, "base_ejection_s": 12},
                                      {"interval_s": 2.5, "base_ejection_s": 3, "fail_until_s": 170,
                                       "max_ejection_s": 8},
                                      {"interval_s": 0.3, "base_ejection_s": 1.1, "fail_until_s": 150}])
def test_returns_come_at_ticks_once_the_ejection_time_has_passed(settings) -> None:
    trace = run_outlier(**settings)
    p = trace.params
    ejected = {}
    returns = 0
    for e in trace.events:
        if e.kind == "eject":
            ejected[e.subject] = e
        elif e.kind == "return":
            start = ejected.pop(e.subject)
            times = start.data["multiplier"]
            lasted = min(p["base_ejection_s"] * times, max(p["max_ejection_s"], p["base_ejection_s"]))
            assert e.time_s - start.time_s >= lasted - 1e-9
            assert e.time_s - start.time_s < lasted + p["interval_s"]
            assert math.isclose(e.time_s / p["interval_s"], round(e.time_s / p["interval_s"]), abs_tol=1e-9)
            assert e.time_s == pytest.approx(back_in_service_s(start.time_s, times, p["interval_s"],
                                                               p["base_ejection_s"], p["max_ejection_s"]))
            returns += 1
    assert returns >= 2


def test_the_multiplier_is_capped_by_the_maximum_ejection_time() -> None:
    trace = run_outlier(interval_s=2.5, base_ejection_s=3, fail_until_s=170, max_ejection_s=8)
    multipliers = [e.data["multiplier"] for e in trace.of_kind("eject")]
    assert multipliers[:3] == [1, 2, 3] and max(multipliers) == 3  # 3 × 3 s already passes the 8 s cap


@pytest.mark.parametrize("endpoints", range(2, 10))
def test_max_ejection_percent_is_strict(endpoints: int) -> None:
    trace = run_outlier(endpoints=endpoints, bad_endpoint=1)
    assert not trace.of_kind("eject") and trace.of_kind("eject-refused")
    assert int(trace.series["user_errors"].sum()) > 100
    assert run_outlier(endpoints=endpoints, bad_endpoint=1, always_eject_one_host=True).of_kind("eject")
    assert run_outlier(endpoints=endpoints, bad_endpoint=1, max_ejection_percent=50).of_kind("eject")


def test_ten_endpoints_eject_one_and_never_two() -> None:
    assert run_outlier(endpoints=10).of_kind("eject")
    assert int(run_outlier(endpoints=10, max_ejection_percent=9).series["ejected"].sum()) == 0


def test_default_retries() -> None:
    def errors(**settings) -> int:
        return int(run_outlier(**settings).series["user_errors"].sum())

    assert errors(failure="500") == errors(failure="500", retry_503=True) > 0  # a 500 is never retried
    assert errors(failure="503") > 0  # Istio 1.24 and later
    assert errors(failure="503", retry_503=True) == 0  # Istio 1.23 and earlier: retried on another endpoint
    assert errors(failure="connect-failure") == 0
    assert errors(failure="connect-failure", retries=0) > 0
    assert int(run_outlier(failure="connect-failure").series["retried"].sum()) > 0


def test_bad_outlier_settings_are_explained() -> None:
    with pytest.raises(ParameterError, match="failure must be one of 500, 503, connect-failure"):
        run_outlier(failure="timeout")
    with pytest.raises(ParameterError, match="bad_endpoint must be at most 4"):
        run_outlier(endpoints=5, bad_endpoint=7)
    with pytest.raises(ParameterError, match="max_ejection_percent must be at most 100"):
        run_outlier(max_ejection_percent=150)


def test_step_weights_a_list_as_flagger_takes_it() -> None:
    trace = run_release(step_weights=[5, 25], header_routing=False)
    assert [(e.time_s, e.data["canary"]) for e in trace.of_kind("set-weight")] == [(60.0, 5), (90.0, 25), (150.0, 0)]
    assert trace.first("promote").time_s == release_timeline(30, step_weights=[5, 25])["promote_s"] == 120.0
    assert trace.params["step_weights"] == (5, 25)
    assert run_release(step_weights=(5.0, 25)).params["step_weights"] == (5, 25)
    for bad, why in (([25, 5], "does not rise"), ([], "got ()"), ("5,25", "got '5,25'"), ([5, 250], "250 is not"),
                     ([5.5], "5.5 is not")):
        with pytest.raises(ParameterError, match=r"step_weights must be a list of rising whole percentages") as error:
            run_release(step_weights=bad)
        assert why in str(error.value) and "such as [5, 25, 50]" in str(error.value)
