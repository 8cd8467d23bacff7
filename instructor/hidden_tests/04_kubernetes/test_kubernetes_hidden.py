"""Hidden tests for lesson 04: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``who_acts``, ``max_pods``, ``canary_weights``) and says what it is
worth with ``@pytest.mark.points(n)``. Expected values come from the course's models, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex04_kubernetes import WHO_ACTS_EVENTS
from labsupport.sim.kubernetes import run_canary, run_cluster


@pytest.mark.points(2)
@pytest.mark.parametrize(("replicas", "surge", "unavailable"), [(7, "25%", "25%"), (20, "15%", "5%"), (2, 0, 1)])
def test_max_pods_other_settings(max_pods, replicas, surge, unavailable):
    """max_pods for settings the public checks do not try"""
    trace = run_cluster(replicas=replicas, max_surge=surge, max_unavailable=unavailable, kill_node=None,
                        scale_to=None, rollout_at_s=30.0, duration_s=240.0, nodes=8, node_cpu_m=64000,
                        node_memory_mi=262144)
    assert max_pods(replicas, surge, unavailable) == int(trace.series["pods"][30:].max())


def test_who_acts_matches_another_run(who_acts):
    """who acts, checked against a cluster with five nodes and no failure"""
    trace = run_cluster(nodes=5, kill_node=None, replicas=9)
    seen = [kind for kind in WHO_ACTS_EVENTS if any(e.kind == kind for e in trace.events)]
    assert seen  # every event of the exercise that happens in this run, so that an empty answer fails
    for kind in seen:
        assert {e.actor for e in trace.events if e.kind == kind} == {who_acts.get(kind)}


def test_canary_weights_sum(canary_weights):
    """the canary weights are those of the healthy release at 75 s"""
    trace = run_canary(canary_error_rate=0.01)
    assert canary_weights == {"stable": 100 - int(trace.series["canary_weight"][75]),
                              "canary": int(trace.series["canary_weight"][75])}
