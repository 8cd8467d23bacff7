"""Lesson 04 views: the animations play, the panels rerun quickly and explain bad settings."""

from __future__ import annotations

import time

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
    assert "node-1 — NotReady" in dead[2]["text"]
    assert "controller-manager" in ClusterScene().caption(trace, 70)


def test_kubernetes_panel_reruns_fast_and_explains() -> None:
    panel = kubernetes_panel()
    start = time.perf_counter()
    panel.controls["replicas"].value = 6
    assert (time.perf_counter() - start) < 0.5
    assert panel.trace.params["replicas"] == 6
    panel.controls["max_surge"].value = "0"
    assert panel.trace.params["max_surge"] == 0
    assert_bad_setting_is_explained(panel, "replicas", 50, "replicas must be at most 40", 4)
