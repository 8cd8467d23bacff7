"""Lesson 06's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

import math

from labsupport.grading import Status, check, lesson_exercises
from labsupport.sim.serverless import FREE_TIER, PRICES, SECONDS_PER_MONTH

IDS = [ex.id for ex in lesson_exercises("06")]
X86 = PRICES["x86_64"]
PER_GB_S = X86.gb_second_tiers[0][1]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["06.break_even_rps", "06.cold_starts", "06.monthly_cost"]


def _cost(requests, duration_ms, memory_mb, free_tier, *, ceil=True, gb=1024, free=True, request_charge=True):
    ms = math.ceil(duration_ms) if ceil else duration_ms
    gb_s = requests * ms / 1000 * memory_mb / gb
    if free_tier and free:
        requests = max(0, requests - FREE_TIER["requests"])
        gb_s = max(0.0, gb_s - FREE_TIER["gb_seconds"])
    return (requests / 1e6 * X86.per_million_requests if request_charge else 0.0) + gb_s * PER_GB_S


def test_monthly_cost_common_mistakes() -> None:
    no_ceil = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, ceil=False))
    assert [o.passed for o in no_ceil.outcomes] == [True, False, True, True]
    assert "rounded up" in no_ceil.outcomes[1].hint
    thousand = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, gb=1000))
    assert not thousand.outcomes[0].passed and "too high" in thousand.outcomes[0].message
    no_free = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, free=False))
    assert [o.passed for o in no_free.outcomes] == [True, True, True, False]
    negative = check("06.monthly_cost", lambda r, d, m, f: (
        (r - FREE_TIER["requests"] * f) / 1e6 * 0.2 + (r * math.ceil(d) / 1000 * m / 1024 - FREE_TIER["gb_seconds"] * f)
        * PER_GB_S))
    assert not negative.outcomes[3].passed and "never a negative amount" in negative.outcomes[3].hint
    no_requests = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, request_charge=False))
    assert no_requests.status is Status.FAILED and "too low" in str(no_requests)
    assert "$3.6000" not in str(no_requests)  # never the expected answer
    text = check("06.monthly_cost", lambda r, d, m, f: "cheap")
    assert "must return a number" in str(text)
    assert check("06.monthly_cost", 3.6).status is Status.INVALID


def _break_even(duration_ms, memory_mb, vm, *, request_charge=True, ceil=True):
    ms = math.ceil(duration_ms) if ceil else duration_ms
    per = (X86.per_million_requests / 1e6 if request_charge else 0.0) + ms / 1000 * memory_mb / 1024 * PER_GB_S
    return vm / (per * SECONDS_PER_MONTH)


def test_break_even_common_mistakes() -> None:
    compute_only = check("06.break_even_rps", lambda d, m, v: _break_even(d, m, v, request_charge=False))
    assert compute_only.status is Status.FAILED and "too high" in str(compute_only)
    no_ceil = check("06.break_even_rps", lambda d, m, v: _break_even(d, m, v, ceil=False))
    assert [o.passed for o in no_ceil.outcomes] == [True, True, False]
    per_hour = check("06.break_even_rps", lambda d, m, v: _break_even(d, m, v) * 3600)
    assert per_hour.points == 0 and "61.5" not in str(per_hour)


def test_cold_starts_common_mistakes() -> None:
    everyone = check("06.cold_starts", lambda n, g, d, i, w: n)
    assert everyone.status is Status.FAILED and "too high" in str(everyone)
    formula = check("06.cold_starts", lambda n, g, d, i, w: max(0, min(n, math.ceil((i + d) / g)) - w))
    assert [o.passed for o in formula.outcomes] == [False, True, False]  # right only without warm instances
    forgets_init = check("06.cold_starts", lambda n, g, d, i, w: max(0, min(n, math.ceil(d / g)) - w))
    assert forgets_init.points == 0
    fraction = check("06.cold_starts", lambda n, g, d, i, w: 2.5)
    assert "whole number" in str(fraction)
