"""Lesson 06's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

import math

import pytest

from labsupport.grading import Status, check, lesson_exercises
from labsupport.sim.serverless import FREE_TIER, PRICES, SECONDS_PER_MONTH

IDS = [ex.id for ex in lesson_exercises("06")]
X86 = PRICES["x86_64"]
PER_GB_S = X86.gb_second_tiers[0][1]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["06.break_even_rps", "06.cold_starts", "06.monthly_cost"]


def _cost(requests, duration_ms, memory_mb, free_tier, *, ceil=True, gb=1024, free=True, request_charge=True,
          ms=1000, per_request=False, compute=True):
    billed = math.ceil(duration_ms) if ceil else duration_ms
    gb_s = requests * billed / ms * memory_mb / gb
    if free_tier and free:
        requests = max(0, requests - FREE_TIER["requests"])
        gb_s = max(0.0, gb_s - FREE_TIER["gb_seconds"])
    request_usd = requests * X86.per_million_requests / (1 if per_request else 1e6)
    return (request_usd if request_charge else 0.0) + (gb_s * PER_GB_S if compute else 0.0)


def test_monthly_cost_common_mistakes() -> None:
    no_ceil = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, ceil=False))
    assert [o.passed for o in no_ceil.outcomes] == [True, False, True, True]
    assert "rounded up" in no_ceil.outcomes[1].hint
    no_free = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, free=False))
    assert [o.passed for o in no_free.outcomes] == [True, True, True, False]
    negative = check("06.monthly_cost", lambda r, d, m, f: (
        (r - FREE_TIER["requests"] * f) / 1e6 * 0.2 + (r * math.ceil(d) / 1000 * m / 1024 - FREE_TIER["gb_seconds"] * f)
        * PER_GB_S))
    assert not negative.outcomes[3].passed and "never a negative amount" in negative.outcomes[3].hint
    text = check("06.monthly_cost", lambda r, d, m, f: "cheap")
    assert "must return a number" in str(text)
    assert check("06.monthly_cost", 3.6).status is Status.INVALID


EXAMPLE = "$0.60 for requests + $3.00 for compute = $3.60"  # what the lesson's pricing cell prints


@pytest.mark.parametrize(("mistake", "says"), [
    (dict(request_charge=False), "only the compute charge"),
    (dict(gb=1000), "a GB of 1,000 MB"),
    (dict(gb=1), "the memory in MB, not GB"),
    (dict(ms=1), "the duration in milliseconds, not seconds"),
    (dict(per_request=True), "the request price per request, not per million"),
    (dict(compute=False), "only the request charge"),
])
def test_monthly_cost_wrong_formula_gets_the_lessons_example_and_the_slip(mistake, says) -> None:
    """A wrong basic formula: the first check shows the lesson's own bill and names the slip; the refinements'
    hints (rounding, 1,024 MB, free tier) would point at the wrong fixes, so they say to fix the first one first."""
    result = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, **mistake))
    first, *rest = result.outcomes
    assert not first.passed and EXAMPLE in first.message and f"It looks like your bill has {says}" in first.message
    assert all(not o.passed and "fix the lesson's example (the first check) first" in o.message and not o.hint
               for o in rest), str(result)


def test_monthly_cost_unknown_slip_gets_the_formula_as_hint() -> None:
    result = check("06.monthly_cost", lambda r, d, m, f: 1.0)
    first = result.outcomes[0]
    assert EXAMPLE in first.message and "your function says $1.0000" in first.message
    assert "It looks like" not in first.message and "GB-seconds × price per GB-second" in first.hint


def test_monthly_cost_right_example_keeps_the_refinement_hints() -> None:
    """Once the example is right, each refinement check gives its own hint, never the 'fix the first' note."""
    no_ceil = check("06.monthly_cost", lambda r, d, m, f: _cost(r, d, m, f, ceil=False))
    assert "fix the lesson's example" not in str(no_ceil)


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
