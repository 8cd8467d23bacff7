"""Lesson 07's model: exact numbers for the default workload, and properties of the recommendation."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.choosing import (
    ISOLATION,
    ISOLATION_NEEDS,
    PATTERNS,
    Workload,
    compare,
    measures,
    recommend,
    run_traffic_sweep,
)
from labsupport.sim.serverless import lambda_monthly_usd


def test_default_workload_exact() -> None:
    t = compare()
    s = t.values
    assert list(s["pattern"]) == list(PATTERNS) == ["serverless", "containers", "vms", "packages"]
    np.testing.assert_allclose(s["deploy_s"], [130.502, 141.0, 630.0, 125.0], atol=1e-3)
    np.testing.assert_allclose(s["monthly_usd"], [13.666, 197.1, 372.3, 124.1], atol=1e-3)
    np.testing.assert_allclose(s["p99_ms"], [565.036, 163.576, 163.576, 163.576], atol=1e-3)
    np.testing.assert_allclose(s["utilization"], [0.919, 0.02, 0.00667, 0.02], atol=1e-3)
    assert list(s["fits"]) == [True, True, True, False]
    assert t.computed["recommended"] == "serverless" and "recommended" not in t.params
    assert {p: len(why) for p, why in t.computed["reasons"].items()} == {
        "serverless": 0, "containers": 0, "vms": 0, "packages": 1}


def test_reruns_are_identical_and_reuse_lesson_05_pricing() -> None:
    a, b = compare(seed=3), compare(seed=3)
    for name in a.values:
        np.testing.assert_array_equal(a.values[name], b.values[name])
    w = Workload()
    assert a.values["monthly_usd"][0] == pytest.approx(w.services * lambda_monthly_usd(w.rate_per_s, 80.0, 512))


def test_serverless_tail_comes_from_cold_starts() -> None:
    s = compare().values
    assert s["cold_start_share"][0] > 0
    assert s["p99_ms"][0] > 2 * s["p99_ms"][1]
    assert abs(s["p50_ms"][0] - s["p50_ms"][1]) < 5


WORKLOADS = [
    Workload(),
    Workload(long_running=True),
    Workload(long_running=True, isolation="own-kernel"),
    Workload(isolation="none", peak_to_mean=1, rate_per_s=50),
    Workload(max_p99_ms=300),
    Workload(long_running=True, isolation="none", max_deploy_s=130),
    Workload(rate_per_s=50, peak_to_mean=1, max_monthly_usd=100),
    Workload(rate_per_s=0.1, memory_mb=2048, services=8),
]


@pytest.mark.parametrize("w", WORKLOADS, ids=range(len(WORKLOADS)))
def test_recommendation_meets_every_requirement_and_is_the_first_that_does(w: Workload) -> None:
    t = compare(w)
    pick = t.computed["recommended"]
    m = measures(t)
    fits = dict(zip(PATTERNS, t.values["fits"], strict=True))
    if pick is None:
        assert not any(fits.values())
        return
    assert fits[pick] and not any(fits[p] for p in PATTERNS[: PATTERNS.index(pick)])
    assert not (pick == "serverless" and w.long_running)
    assert ISOLATION[pick][0] >= ISOLATION_NEEDS[w.isolation]
    for limit, measure in (("max_p99_ms", "p99_ms"), ("max_deploy_s", "deploy_s"), ("max_monthly_usd", "monthly_usd")):
        if getattr(w, limit) is not None:
            assert m[pick][measure] <= getattr(w, limit)
    assert recommend(w).pattern == pick


def test_the_order_examples() -> None:
    assert recommend(long_running=True).pattern == "containers"
    assert recommend(long_running=True, isolation="own-kernel").pattern == "vms"
    assert recommend(long_running=True, isolation="none", max_deploy_s=130).pattern == "packages"
    none = recommend(rate_per_s=50, peak_to_mean=1, max_monthly_usd=100)
    assert none.pattern is None and "no pattern" in str(none)
    text = str(recommend(long_running=True))
    assert "not serverless: a long-running process" in text and "containers: meets every requirement" in text


def test_spiky_low_traffic_favours_serverless_on_cost() -> None:
    for rate in (0.1, 1, 5):
        usd = compare(rate_per_s=rate, peak_to_mean=20).values["monthly_usd"]
        assert usd[0] == usd.min()


def test_steady_high_traffic_makes_always_on_cheaper() -> None:
    usd = compare(rate_per_s=100, peak_to_mean=1).values["monthly_usd"]
    assert usd[1] < usd[0] and usd[3] < usd[0]
    steady = run_traffic_sweep(peak_to_mean=1, rates=(50,)).series["monthly_usd"][0]
    spiky = run_traffic_sweep(peak_to_mean=10, rates=(50,)).series["monthly_usd"][0]
    assert steady[0] == pytest.approx(spiky[0])  # Lambda bills the mean
    assert np.all(spiky[1:] > steady[1:])  # always-on is sized for the peak


def test_sweep_with_a_budget_moves_down_the_list() -> None:
    sweep = run_traffic_sweep(peak_to_mean=1, isolation="none", max_monthly_usd=300)
    picks = [PATTERNS[i] for i in sweep.series["recommended"]]
    assert picks[0] == "serverless" and picks[-2:] == ["containers", "packages"]
    assert sweep.series["monthly_usd"].shape == (10, 4)
    assert [e.subject for e in sweep.of_kind("recommended")] == picks


@pytest.mark.parametrize(("overrides", "message"), [
    ({"isolation": "total"}, "isolation must be one of none, resource-limits, own-kernel"),
    ({"rate_per_s": 50, "peak_to_mean": 60}, "must stay under 2,000 requests per second"),
    ({"memory_mb": 64}, "memory_mb must be at least 128"),
    ({"long_running": "yes"}, "long_running must be True or False"),
    ({"max_p99_ms": 0}, "max_p99_ms must be greater than 0"),
    ({"colour": "red"}, "unknown parameter(s) colour"),
])
def test_bad_workloads_are_explained(overrides, message) -> None:
    with pytest.raises(ParameterError, match=None) as error:
        compare(**overrides)
    assert message in str(error.value)
    with pytest.raises(ParameterError):
        run_traffic_sweep(rates=())


def test_the_costs_lesson_07_states_are_the_models() -> None:
    """Lesson 07 says serverless costs about $14 a month for the default workload, the always-on patterns
    $124 to $372: the prose must follow the model."""
    s = compare().values
    usd = dict(zip(s["pattern"], s["monthly_usd"], strict=True))
    assert round(usd["serverless"]) == 14
    assert (round(min(usd["containers"], usd["vms"], usd["packages"])),
            round(max(usd["containers"], usd["vms"], usd["packages"]))) == (124, 372)
