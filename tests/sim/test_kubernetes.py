"""Lesson 04 models: the cluster's exact story and its invariants."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.kubernetes import ACTORS, PodState, resolve_surge, run_cluster


def _story(trace):
    return [(e.time_s, e.actor, e.kind, e.subject) for e in trace.events
            if e.kind in ("node-down", "mark-not-ready", "delete-pod", "scale")]


def test_default_story_exactly() -> None:
    trace = run_cluster()
    assert _story(trace)[:4] == [
        (20.0, "fault", "node-down", "node-1"),
        (70.0, "controller-manager", "mark-not-ready", "node-1"),
        (90.0, "controller-manager", "delete-pod", "web-v1-1"),
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
