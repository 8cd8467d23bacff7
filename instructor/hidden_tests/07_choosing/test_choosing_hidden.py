"""Hidden tests for lesson 07: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``pick``, ``decide``) and says what it is worth with
``@pytest.mark.points(n)``. Learners see each test's first docstring line and passed/failed only.
Expected values come from the course's model, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex07_choosing import model_decide, model_pick
from labsupport.scenarios import SERVICES
from labsupport.sim.choosing import Workload, compare, measures


def test_pick_is_complete(pick):
    """pick names a pattern for every service"""
    assert set(pick) == set(SERVICES)
    assert all(pick[name] == model_pick(name) for name in SERVICES)


@pytest.mark.points(2)
@pytest.mark.parametrize("workload", [
    Workload(rate_per_s=0.2, peak_to_mean=40, memory_mb=3072, services=6),
    Workload(rate_per_s=30, peak_to_mean=1, isolation="none", long_running=True, max_monthly_usd=150),
    Workload(isolation="own-kernel", max_deploy_s=200),
    Workload(rate_per_s=8, peak_to_mean=4, max_p99_ms=150),
])
def test_decide_other_workloads(decide, workload):
    """decide agrees with the model on other workloads, including one where nothing fits"""
    assert decide(workload, measures(compare(workload))) == model_decide(workload)
    lesson = Workload()  # a workload something fits: "nothing fits" for every workload must not score
    expected = model_decide(lesson)
    assert expected is not None and decide(lesson, measures(compare(lesson))) == expected
