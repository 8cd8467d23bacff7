"""Hidden tests for lesson 06: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``monthly_cost``, ``break_even_rps``, ``cold_starts``) and says what it
is worth with ``@pytest.mark.points(n)``. Learners see each test's first docstring line and passed/failed only.
Expected values come from the course's model and pricing formula, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex06_serverless import model_break_even_rps, model_cold_starts, model_monthly_cost


@pytest.mark.points(2)
@pytest.mark.parametrize(("requests", "duration_ms", "memory_mb", "free_tier"), [
    (1_000_000, 1.0, 128, True),  # exactly the free requests: only compute beyond the free GB-seconds is paid
    (10_000_000, 999.01, 10240, False),  # the largest memory; a duration just over a whole millisecond
    (0, 50.0, 512, False),
])
def test_monthly_cost_edges(monthly_cost, requests, duration_ms, memory_mb, free_tier):
    """monthly_cost at the edges: the free tier's limit, the largest memory, no requests"""
    assert monthly_cost(requests, duration_ms, memory_mb, free_tier) == pytest.approx(
        model_monthly_cost(requests, duration_ms, memory_mb, free_tier), rel=1e-6, abs=1e-9)


def test_break_even_for_bigger_vms(break_even_rps):
    """break_even_rps against a larger always-on deployment"""
    assert break_even_rps(100.0, 768, 560.64) == pytest.approx(model_break_even_rps(100.0, 768, 560.64), rel=2e-3)


@pytest.mark.points(2)
@pytest.mark.parametrize("case", [(200, 4.0, 61.0, 702.0, 10), (25, 50.0, 40.0, 900.0, 0), (80, 9.0, 95.0, 520.0, 7)])
def test_cold_starts_other_bursts(cold_starts, case):
    """cold_starts for other bursts and warm pools"""
    assert cold_starts(*case) == model_cold_starts(*case)
