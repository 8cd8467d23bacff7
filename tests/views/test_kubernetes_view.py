"""Lesson 04 views: the animations play, the panels rerun quickly and explain bad settings."""

from __future__ import annotations

from labsupport.sim.kubernetes import run_canary, run_cluster
from labsupport.views import animate
from labsupport.views.kubernetes import CanaryScene, ClusterScene, canary_panel, kubernetes_panel
from tests.views.panels import assert_bad_setting_is_explained


def test_cluster_animation_frames_match_figure() -> None:
    trace = run_cluster()
    animation = animate(ClusterScene(), trace, every=2)
    assert len(animation.frames) == 91
    figure = animation.figure()
    assert len(figure.data) == len(animation.frames[0]["data"])
    dead = ClusterScene().frame(trace, 75)
    assert "node-1 — NotReady" in dead[2]["text"]
    assert "controller-manager" in ClusterScene().caption(trace, 70)


def test_canary_animation_shows_rollback() -> None:
    trace = run_canary()
    animation = animate(CanaryScene(), trace, every=2)
    assert "ROLLED BACK" in animation.frames[-1]["layout"]["title"]["text"]
    animation.figure()


def test_kubernetes_panel_reruns_and_explains() -> None:
    """How fast a control change reruns is measured in benchmarks/bench_04_kubernetes.py, not asserted here."""
    panel = kubernetes_panel()
    panel.controls["replicas"].value = 6
    assert panel.trace.params["replicas"] == 6
    panel.controls["max_surge"].value = "0"
    assert panel.trace.params["max_surge"] == 0
    assert_bad_setting_is_explained(panel, "replicas", 50, "replicas must be at most 40", 4)


def test_canary_panel_explains() -> None:
    panel = canary_panel()
    assert_bad_setting_is_explained(panel, "canary_error_rate", 1.5, "canary_error_rate must be at most 1", 0.02)
