"""Lesson 04 views: the animations play, the panels rerun quickly and explain bad settings."""

from __future__ import annotations

from labsupport.sim.kubernetes import run_cluster
from labsupport.views import animate
from labsupport.views.kubernetes import ClusterScene, kubernetes_panel
from tests.views.panels import assert_bad_setting_is_explained


def test_cluster_animation_frames_match_figure() -> None:
    trace = run_cluster()
    animation = animate(ClusterScene(), trace, every=2)
    assert len(animation.frames) == 91
    figure = animation.figure()
    assert len(figure.data) == len(animation.frames[0]["data"])
    dead = ClusterScene().frame(trace, 75)
    assert "node-1 — NotReady (Ready: Unknown)" in dead["node names"]["text"]
    caption = ClusterScene().caption(trace, 70)
    assert caption.index("mark-not-ready") < caption.index("update-endpoints") < caption.index("program-rules")


def test_kubernetes_panel_reruns_and_explains() -> None:
    panel = kubernetes_panel()  # how fast it reruns: benchmarks/bench_04_kubernetes.py (no wall clock in tests)
    panel.controls["replicas"].value = 6
    assert panel.trace.params["replicas"] == 6
    panel.controls["max_surge"].value = 0
    assert panel.trace.params["max_surge"] == 0
    assert_bad_setting_is_explained(panel, "max_unavailable", 0, "may not be 0 when max_surge is 0", 1)
    assert_bad_setting_is_explained(panel, "replicas", 1001, "replicas must be at most 1000", 4)

