"""Lesson 04 models: the cluster's exact story and its invariants."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.kubernetes import (
    ACTORS,
    SCORE_WEIGHTS,
    PodState,
    resolve_surge,
    run_cluster,
    score_nodes,
)


def _story(trace):
    return [(e.time_s, e.actor, e.kind, e.subject) for e in trace.events
            if e.kind in ("node-down", "mark-not-ready", "delete-pod", "scale")]


def test_default_story_exactly() -> None:
    trace = run_cluster()
    assert _story(trace)[:4] == [
        (20.0, "fault", "node-down", "node-1"),
        (70.0, "controller-manager", "mark-not-ready", "node-1"),
        (90.0, "controller-manager", "delete-pod", "web-v1-0"),
        (100.0, "api-server", "scale", "deployment/web"),
    ]
    replacement = trace.first("create-pod", "web-v1-4")
    assert replacement is not None and replacement.time_s == 90.0 and replacement.actor == "controller-manager"
    bind = trace.first("bind", "web-v1-4")
    assert bind is not None and bind.actor == "scheduler" and bind.data["node"] != "node-1"
    ready = trace.first("pod-ready", "web-v1-4")
    assert ready is not None and ready.time_s == 94.0 and ready.actor == "kubelet"
    assert {e.actor for e in trace.events} == {*ACTORS, "fault"}
    assert trace.series["ready"][-1] == 6 and trace.series["ready_v2"][-1] == 6


def test_same_seed_same_trace() -> None:
    assert run_cluster().log() == run_cluster().log()


@pytest.mark.parametrize(("replicas", "surge", "unavailable"), [(4, "25%", "25%"), (6, "25%", "25%"), (10, 3, 0),
                                                                 (5, 0, 1), (3, "50%", "0%"), (8, "10%", "30%")])
def test_rolling_update_stays_within_bounds(replicas, surge, unavailable) -> None:
    trace = run_cluster(replicas=replicas, max_surge=surge, max_unavailable=unavailable, kill_node=None,
                        scale_to=None, rollout_at_s=30.0, duration_s=200.0, nodes=6)
    s = trace.series
    up, down = resolve_surge(replicas, surge, unavailable)
    after = slice(31, None)
    assert s["pods"][after].max() == replicas + up
    assert s["ready"][after].min() >= replicas - down
    assert s["ready_v2"][-1] == replicas and s["pods"][-1] == replicas


def test_resolve_surge_rounds_as_kubernetes() -> None:
    assert resolve_surge(10, "25%", "25%") == (3, 2)
    assert resolve_surge(4, "25%", "25%") == (1, 1)
    assert resolve_surge(3, "0%", "10%") == (0, 1)  # both round to zero: unavailable becomes 1
    assert resolve_surge(3, 0, "10%") == (0, 1)
    assert resolve_surge(0, "25%", "25%") == (0, 1)


@pytest.mark.parametrize("replicas", [-1, "4", 2.5, None, True])
def test_resolve_surge_refuses_a_bad_replica_count(replicas) -> None:
    with pytest.raises(ParameterError, match="replicas must be"):
        resolve_surge(replicas, "25%", "25%")


@pytest.mark.parametrize(("surge", "unavailable"), [(0, 0), ("0%", 0), (0, "0%"), ("0%", "0%")])
def test_zero_surge_and_zero_unavailable_are_refused_as_the_api_server_does(surge, unavailable) -> None:
    with pytest.raises(ParameterError, match="may not be 0 when max_surge is 0"):
        resolve_surge(4, surge, unavailable)
    with pytest.raises(ParameterError, match="may not be 0 when max_surge is 0"):
        run_cluster(max_surge=surge, max_unavailable=unavailable)


@pytest.mark.parametrize("text", [" 25%", "25% ", "25 %", "\u00b25%", "\u0662\u0665%", "+25%", "25.0%", "%", "25"])
def test_percent_strings_follow_kubernetes_syntax(text) -> None:
    with pytest.raises(ParameterError, match="max_surge must be a whole number or a percentage"):
        resolve_surge(4, text, 1)


def test_pods_pend_when_the_cluster_is_full() -> None:
    trace = run_cluster(replicas=12, scale_to=None, rollout_at_s=None, pod_cpu_m=500, duration_s=150)
    s = trace.series
    assert s["pending"][5] == 0 and s["pending"][-1] == 4  # two nodes of four pods each are left
    states = s["pod_state"][-1]
    assert np.count_nonzero(states == PodState.PENDING) == 4


def test_bad_parameters_are_explained() -> None:
    with pytest.raises(ParameterError, match="max_surge must be a whole number or a percentage"):
        run_cluster(max_surge="lots")
    with pytest.raises(ParameterError, match="kill_node must be at most 2"):
        run_cluster(kill_node=3)
def test_a_dead_node_is_handled_in_the_order_kubernetes_documents() -> None:
    """Ready becomes Unknown with the unreachable NoExecute taint; the EndpointSlice controller (in the
    controller manager) drops the node's pod from the Service, and only then does kube-proxy follow."""
    trace = run_cluster()
    at_70 = [(e.actor, e.kind) for e in trace.events if e.time_s == 70.0]
    assert at_70 == [("controller-manager", "mark-not-ready"), ("controller-manager", "update-endpoints"),
                     ("kube-proxy", "program-rules")]
    marked = trace.first("mark-not-ready")
    assert marked is not None
    assert marked.data == {"condition": "Ready=Unknown", "taint": "node.kubernetes.io/unreachable:NoExecute"}
    updates = trace.of_kind("update-endpoints")
    rules = trace.of_kind("program-rules")
    assert [(e.time_s, e.data["ready"]) for e in updates] == [(e.time_s, e.data["endpoints"]) for e in rules]
    assert {e.actor for e in updates} == {"controller-manager"}


# ---- the scheduler scores as kube-scheduler's default profile does -------------------------------------------

def _scores(on_node, mine, feasible=None, **requests):
    on_node, mine = np.array(on_node), np.array(mine)
    nodes = np.arange(len(on_node)) if feasible is None else np.array(feasible)
    size = {"node_cpu_m": 2000, "node_memory_mi": 4096, "pod_cpu_m": 250, "pod_memory_mi": 256, **requests}
    return score_nodes(nodes, on_node, mine, **size)


def test_scores_are_kube_schedulers_formulas_worked_by_hand() -> None:
    # an empty node, a 250m / 256Mi pod: LeastAllocated cpu (2000-250)*100//2000 = 87, memory
    # (4096-256)*100//4096 = 93, (87+93)//2 = 90; Balanced: fractions 0.125 and 0.0625, (1 - 0.03125)*100 -> 96;
    # spread: every node round(0*ln(5) + 2) = 2, so 100*(2+2-2)//2 = 100; total 90 + 96 + 2*100 = 386
    empty = _scores([0, 0, 0], [0, 0, 0])
    assert empty.fit.tolist() == [90] * 3 and empty.balanced.tolist() == [96] * 3
    assert empty.spread.tolist() == [100] * 3 and empty.total.tolist() == [386] * 3
    # one pod on node-1: cpu 75, memory 87 -> 81; fractions 0.25 and 0.125 -> 93; spread raw round(ln 5 + 2) = 4
    # against 2: 100*(4+2-4)//4 = 50 and 100*(4+2-2)//4 = 100
    one = _scores([0, 1, 0], [0, 1, 0])
    assert one.fit.tolist() == [90, 81, 90] and one.balanced.tolist() == [96, 93, 96]
    assert one.spread.tolist() == [100, 50, 100] and one.total.tolist() == [386, 274, 386]
    assert one.best.tolist() == [0, 2]
    # two feasible nodes of three (ln 4), node-0 with 2 pods of this ReplicaSet, node-2 with 1: raw 5 and 3
    two = _scores([2, 3, 1], [2, 0, 1], feasible=[0, 2])
    assert two.nodes.tolist() == [0, 2] and two.spread.tolist() == [60, 100]
    assert two.fit.tolist() == [71, 81] and two.balanced.tolist() == [90, 93] and two.total.tolist() == [281, 374]
    assert SCORE_WEIGHTS == {"NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1, "PodTopologySpread": 2}


def test_pods_of_another_replicaset_do_not_count_for_spreading() -> None:
    same = _scores([2, 0], [0, 0])
    assert same.spread.tolist() == [100, 100] and same.fit[0] < same.fit[1]


def test_a_pod_without_requests_is_scored_with_the_schedulers_defaults() -> None:
    # 100m and 200 MiB: cpu (2000-100)*100//2000 = 95, memory (4096-200)*100//4096 = 95; BalancedAllocation
    # skips a pod with no requests at all
    scores = _scores([0, 3], [0, 0], pod_cpu_m=0, pod_memory_mi=0)
    # with three pods there already: (2000 - 4*100)*100//2000 = 80 and (4096 - 4*200)*100//4096 = 80
    assert scores.fit.tolist() == [95, 80] and scores.balanced.tolist() == [0, 0]
    # a CPU request only: BalancedAllocation runs, with memory's real request of 0 (fractions 0.5 and 0)
    assert _scores([1], [0], pod_cpu_m=500, pod_memory_mi=0).balanced.tolist() == [75]


def test_requests_only_filter_when_set_and_the_pod_limit_always_does() -> None:
    # no requests: they fit anywhere, but a node takes node_max_pods pods at most
    trace = run_cluster(pod_cpu_m=0, pod_memory_mi=0, node_max_pods=5, replicas=16, kill_node=None, scale_to=None,
                        rollout_at_s=None, duration_s=30)
    assert trace.series["pending"][-1] == 1
    assert np.bincount(trace.series["pod_node"][-1][trace.series["pod_node"][-1] >= 0]).tolist() == [5, 5, 5]


def test_each_bind_goes_to_a_best_node_and_its_reasons_are_in_the_trace() -> None:
    trace = run_cluster()
    s = trace.series
    binds = trace.of_kind("bind")
    assert len(binds) == len(s["placement_node"]) == s["score_total"].shape[0]
    for row, event in enumerate(binds):
        totals = s["score_total"][row]
        node = int(s["placement_node"][row])
        assert event.data["node"] == f"node-{node}" and event.subject == s["pod_name"][s["placement_pod"][row]]
        assert totals[node] == totals.max() and s["placement_ties"][row] == np.count_nonzero(totals == totals.max())
        feasible = totals >= 0
        assert np.array_equal(totals[feasible], s["score_fit"][row][feasible] + s["score_balanced"][row][feasible]
                              + 2 * s["score_spread"][row][feasible])
    # after the node is marked not ready (70 s) it is never feasible
    late = s["placement_time_s"] >= 70
    assert (s["score_total"][late, 1] == -1).all()
    assert trace.computed["score_weights"] == SCORE_WEIGHTS


def test_ties_are_broken_at_random_from_the_seed() -> None:
    first = [int(run_cluster(seed=seed, duration_s=10, kill_node=None, scale_to=None, rollout_at_s=None).series["placement_node"][0])
             for seed in range(150)]
    assert np.bincount(first, minlength=3).min() >= 30  # three equal nodes: each about 50 times of 150
    assert run_cluster(seed=5).log() == run_cluster(seed=5).log()


def test_default_spreading_puts_a_deployment_evenly_over_the_nodes() -> None:
    trace = run_cluster(replicas=9, kill_node=None, scale_to=None, rollout_at_s=None, duration_s=20)
    assert np.bincount(trace.series["pod_node"][-1]).tolist() == [3, 3, 3]


def test_a_hundred_nodes_and_a_thousand_pods_kill_and_rolling_update() -> None:
    trace = run_cluster(nodes=100, replicas=1000, scale_to=None, node_cpu_m=4000, node_memory_mi=16384,
                        kill_node=7, rollout_at_s=120)
    s = trace.series
    assert s["ready_v2"][-1] == 1000 and s["pods"][-1] == 1000 and s["pending"].max() == 0
    on_node = np.bincount(s["pod_node"][-1][s["pod_node"][-1] >= 0], minlength=100)
    assert on_node[7] == 0 and on_node.max() - on_node[np.arange(100) != 7].min() <= 1  # spread evenly
    up, down = resolve_surge(1000, "25%", "25%")
    assert s["pods"][121:].max() <= 1000 + up and s["ready"][121:].min() >= 1000 - down
