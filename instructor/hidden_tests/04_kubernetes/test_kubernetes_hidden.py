"""Hidden tests for lesson 04: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``who_acts``, ``last_old_pod_stops_s``,
``pending_after_node_dies``) and says what it is
worth with ``@pytest.mark.points(n)``. Expected values come from the course's models, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.grading.exercises.ex04_kubernetes import WHO_ACTS_EVENTS
from labsupport.sim.kubernetes import run_cluster

_BIG = dict(nodes=8, node_cpu_m=64000, node_memory_mi=262144)


@pytest.mark.points(2)
@pytest.mark.parametrize(("replicas", "unavailable", "start"), [(9, 2, 5), (20, "15%", 3), (2, "1%", 8), (11, 11, 4)])
def test_last_old_pod_other_settings(last_old_pod_stops_s, replicas, unavailable, start):
    """when the last old pod stops, for settings the public checks do not try"""
    trace = run_cluster(replicas=replicas, max_surge=0, max_unavailable=unavailable, pod_start_s=start,
                        kill_node=None, scale_to=None, rollout_at_s=10.0,
                        duration_s=10.0 + (replicas + 2) * (start + 3), **_BIG)
    last = max(e.time_s for e in trace.of_kind("delete-pod")) - 10.0
    assert last_old_pod_stops_s(replicas, unavailable, start) == last


@pytest.mark.points(2)
@pytest.mark.parametrize("case", [(4, 13, 1000, 8192, 250, 512), (2, 3, 4000, 1000, 100, 500), (6, 25, 2000, 2048, 400, 600)])
def test_pending_other_clusters(pending_after_node_dies, case):
    """pods left Pending after a node dies, for clusters the public checks do not try"""
    nodes, replicas, cpu, mem, pod_cpu, pod_mem = case
    trace = run_cluster(nodes=nodes, replicas=replicas, node_cpu_m=cpu, node_memory_mi=mem, pod_cpu_m=pod_cpu,
                        pod_memory_mi=pod_mem, kill_node=0, kill_at_s=10.0, scale_to=None, rollout_at_s=None,
                        duration_s=100.0)
    assert pending_after_node_dies(*case) == int(trace.series["pending"][-1])


def test_who_acts_matches_another_run(who_acts):
    """who acts, checked against a cluster with five nodes and no failure"""
    trace = run_cluster(nodes=5, kill_node=None, replicas=9)
    seen = [kind for kind in WHO_ACTS_EVENTS if any(e.kind == kind for e in trace.events)]
    assert seen  # every event of the exercise that happens in this run, so that an empty answer fails
    for kind in seen:
        assert {e.actor for e in trace.events if e.kind == kind} == {who_acts.get(kind)}

