"""Lesson 07's views, built with no browser: the comparison, the sweep animation and the live panel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.sim.choosing import LABELS, PATTERNS, compare, run_traffic_sweep
from labsupport.views import animate
from labsupport.views.choosing import MEASURES, ComparisonScene, SweepScene, choosing_panel, comparison_figure
from tests.views.panels import assert_bad_setting_is_explained


@pytest.fixture(scope="module")
def sweep():
    return run_traffic_sweep(peak_to_mean=1, isolation="none", max_monthly_usd=300)


def test_comparison_shows_every_measure_and_highlights_the_pick() -> None:
    trace = compare()
    fig = comparison_figure(trace)
    assert len(fig.data) == len(MEASURES)
    for bar, (name, _title, _fmt) in zip(fig.data, MEASURES, strict=True):
        np.testing.assert_allclose(bar.x, trace.series[name])
        assert list(bar.y) == ["serverless", "containers", "VMs", "language packages"]
    colours = fig.data[0].marker.color
    assert colours[0] == "#009E73" and colours[1] == "#56B4E9" and colours[3] == "#E8E8E8"
    assert list(fig.data[0].marker.pattern.shape) == ["", "", "", "/"]  # ruled out: hatched, not colour alone
    assert "use serverless" in fig.layout.title.text


def test_caption_gives_each_patterns_reason() -> None:
    caption = ComparisonScene().caption(compare(long_running=True), 0)
    assert "long-running process" in caption and caption.count("<li>") == len(PATTERNS)


def test_sweep_frames_and_animation(sweep) -> None:
    scene = SweepScene()
    fig = scene.figure(sweep)
    for k in (0, 5, 9):
        assert len(scene.frame(sweep, k)) == len(fig.data) == 1 + len(PATTERNS)
    last = scene.frame(sweep, 9)
    np.testing.assert_allclose(last[LABELS[PATTERNS[0]]]["y"], sweep.series["monthly_usd"][:, 0])
    assert "use language packages" in scene.layout_at(sweep, 9)["title.text"]
    assert "use serverless" in scene.layout_at(sweep, 0)["title.text"]
    animation = animate(scene, sweep)
    assert isinstance(animation.figure(), go.Figure) and len(animation.frames) == 10


def test_panel_reruns_and_updates_in_place() -> None:
    panel = choosing_panel()
    figure = panel.figure
    assert "use serverless" in figure.layout.title.text
    panel.controls["long_running"].value = True
    assert panel.figure is figure
    assert "use containers" in figure.layout.title.text
    panel.controls["isolation"].value = "own-kernel"
    assert "use VMs" in figure.layout.title.text
    assert "long-running process" in panel.caption.value


def test_panel_bad_settings_show_a_message() -> None:
    panel = choosing_panel()
    panel.controls["rate_per_s"].value = 50
    assert_bad_setting_is_explained(panel, "peak_to_mean", 60, "must stay under 2,000 requests per second", 10)
