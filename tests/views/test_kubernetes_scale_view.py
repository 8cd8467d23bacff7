"""Lesson 04 at a real cluster's scale: pods drawn one by one while readable, each node's pods in aggregate
beyond, and the live panel's row that says why the latest pod went where it went."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim.kubernetes import PodState, run_cluster
from labsupport.views.kubernetes import ClusterScene, kubernetes_panel, placement_scores_figure, single_pods
from tests.views.panels import assert_bad_setting_is_explained

AT_SCALE = dict(nodes=100, replicas=1000, scale_to=None, node_cpu_m=4000, node_memory_mi=16384, kill_node=7)


@pytest.mark.parametrize(("settings", "single"), [
    ({}, True),  # 3 nodes of 8 pods
    ({"nodes": 12, "node_cpu_m": 4000, "node_memory_mi": 16384, "replicas": 40}, True),  # 12 nodes of 16
    ({"nodes": 13, "replicas": 40, "kill_node": None}, False),  # a 13th node: boxes too narrow for four pods
    ({"nodes": 3, "node_cpu_m": 4250, "node_memory_mi": 16384}, False),  # 17 pods a node overflow the box
])
def test_pods_are_drawn_one_by_one_only_while_readable(settings, single) -> None:
    trace = run_cluster(**settings)
    assert single_pods(trace) is single
    frame = ClusterScene().frame(trace, 60)
    drawn = len(frame["pods"]["x"])
    columns = len(frame["aggregate ready v1"]["x"])
    assert (drawn > 0, columns) == ((True, 0) if single else (False, trace.params["nodes"]))


def test_each_column_holds_exactly_its_nodes_pods_by_state_and_version() -> None:
    trace = run_cluster(**AT_SCALE, rollout_at_s=60.0)
    scene, s = ClusterScene(), trace.series
    room = trace.computed["node_room_pods"]
    assert room == 16
    for k in (10, 62, 75, 100):  # steady, rolling update, node-7 NotReady, after the eviction
        frame = scene.frame(trace, k)
        states, where = s["pod_state"][k], s["pod_node"][k]
        heights = np.sum([frame[f"aggregate {name}"]["y"] for name in
                          ("ready v1", "ready v2", "starting", "on a lost node")], axis=0)
        on_node = np.bincount(where[(states != PodState.NONE) & (where >= 0)], minlength=100)
        assert np.allclose(heights * room / 2.6, on_node)  # a box is 2.6 high and holds room pods
        lost = frame["aggregate on a lost node"]["y"]
        assert np.flatnonzero(lost).tolist() == ([7] if 70 <= k < 90 else [])
        v2 = frame["aggregate ready v2"]["y"]
        assert (v2.sum() > 0) == bool(s["ready_v2"][k] > 0)
        bottoms = frame["aggregate ready v2"]["base"]
        assert np.allclose(bottoms, frame["aggregate ready v1"]["y"])  # stacked, v1 at the bottom
    names = scene.frame(trace, 75)["node names"]["text"]
    assert "node-7 NotReady" in names and len(names) == 11  # every tenth node, and the one that is down


def test_the_panels_score_row_is_the_latest_bind_with_each_plugins_weighted_score() -> None:
    trace = run_cluster()
    scene = ClusterScene(scores=True)
    s = trace.series
    for t in (0.0, 62.0, 95.0):
        frame = scene.frame(trace, int(t))
        row = int(np.flatnonzero(s["placement_time_s"] <= t)[-1])
        feasible = np.flatnonzero(s["score_total"][row] >= 0)
        bars = [frame[f"score: {p}"] for p in ("NodeResourcesFit", "NodeResourcesBalancedAllocation",
                                                "PodTopologySpread")]
        assert all(b["x"].tolist() == feasible.tolist() for b in bars)
        assert np.sum([b["y"] for b in bars], axis=0).tolist() == s["score_total"][row][feasible].tolist()
        assert frame["chosen node"]["x"].tolist() == [s["placement_node"][row]]
        static = placement_scores_figure(trace, row)  # the lesson's figure of the same bind says the same
        assert frame["why"]["text"] == [f"the latest bind: {static.layout.title.text}"]


def test_the_panel_reaches_a_hundred_nodes_and_a_thousand_replicas_and_explains_bad_settings() -> None:
    panel = kubernetes_panel()
    assert panel.controls["nodes"].max == 100 and panel.controls["replicas"].max == 1000
    for name, value in (("scale_to", None), ("node_size", (4000, 16384)), ("nodes", 100), ("replicas", 1000),
                        ("kill_node", 42)):
        panel.controls[name].value = value
    assert panel.status.value == ""
    p = panel.trace.params
    assert (p["nodes"], p["replicas"], p["node_cpu_m"], p["kill_node"]) == (100, 1000, 4000, 42)
    assert len(panel.figure.data[2].x) == 100  # one column a node, drawn in the widget
    said = " ".join(str(a.text) for a in panel.figure.layout.annotations)
    assert "100 nodes, a column per node" in said
    assert "vermillion on a lost node (its column shaded)" in said  # the colours drawn, named as drawn
    panel.controls["nodes"].value = 3
    assert "kill_node must be at most 2" in panel.status.value  # node-42 of three: said, not raised
    assert_bad_setting_is_explained(panel, "kill_node", 42, "kill_node must be at most 2", None)
