"""Lesson 06's views, built with no browser: the data they plot, frames, and the live panel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.sim.serverless import InstanceState, latency_percentiles, run_cost_curve, run_serverless
from labsupport.views import animate
from labsupport.views.serverless import (
    STATE_STYLE,
    ServerlessScene,
    cost_figure,
    latency_bins,
    latency_figure,
    serverless_panel,
)
from tests.views.panels import assert_bad_setting_is_explained


@pytest.fixture(scope="module")
def trace():
    return run_serverless(seed=0)


def test_each_frame_updates_every_trace(trace) -> None:
    scene = ServerlessScene()
    fig = scene.figure(trace)
    for k in (0, 13, 60, 180):
        assert len(scene.frame(trace, k)) == len(fig.data)


def test_instances_are_drawn_by_state_with_colour_and_symbol(trace) -> None:
    scene = ServerlessScene()
    k = 13  # 65 s: just after the first burst
    fig = scene.still(trace, k)
    states = trace.series["instance_state"][k]
    for i, state in enumerate(STATE_STYLE):
        assert len(fig.data[i].x) == 1 + int(np.count_nonzero(states == int(state)))  # + the legend's point
        assert fig.data[i].x[0] == -99.0 and fig.data[i].name == STATE_STYLE[state][0]
    cold = fig.data[list(STATE_STYLE).index(InstanceState.COLD)]
    assert cold.marker.symbol == "star" and cold.marker.color == "#D55E00"
    assert fig.data[list(STATE_STYLE).index(InstanceState.WARM)].marker.symbol == "circle"
    symbols = {STATE_STYLE[s][2] for s in STATE_STYLE}
    assert len(symbols) == len(STATE_STYLE)  # nothing depends on colour alone
    assert "cold starts" in fig.layout.title.text


def test_histogram_grows_with_time_and_splits_cold_from_warm(trace) -> None:
    scene = ServerlessScene()
    s = trace.series
    early = scene.frame(trace, 6)
    late = scene.frame(trace, len(s["time_s"]) - 1)
    assert early["warm requests"]["y"].sum() < late["warm requests"]["y"].sum()
    assert late["warm requests"]["y"].sum() == int((~s["request_cold"] & ~s["request_throttled"]).sum())
    assert late["cold-start requests"]["y"].sum() == int(s["request_cold"].sum())
    bins = latency_bins(trace)
    assert bins[-1] >= np.nanmax(s["request_latency_s"]) * 1000
    np.testing.assert_array_equal(late["requests per step"]["y"], s["requests"])
    np.testing.assert_array_equal(late["instances alive"]["y"], s["instances"])


def test_animation_is_valid_plotly_and_plays(trace) -> None:
    animation = animate(ServerlessScene(), trace, every=2)
    fig = animation.figure()  # validates every frame
    assert isinstance(fig, go.Figure) and len(fig.frames) == 91
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]


def test_latency_figure_marks_the_percentiles(trace) -> None:
    fig = latency_figure(trace)
    marks = latency_percentiles(trace)
    assert f"p99 {marks['p99'] * 1000:.0f} ms" in fig.layout.title.text
    names = [d.name for d in fig.data]
    assert names[:2] == ["warm", "cold start"] and any(n.startswith("p99") for n in names)
    assert sum(fig.data[1].y) == trace.series["request_cold"].sum()


def test_cost_figure_lines_and_break_even() -> None:
    small, big = run_cost_curve(), run_cost_curve(memory_mb=1024)
    fig = cost_figure(small, big)
    np.testing.assert_array_equal(fig.data[0].y, small.series["vm_usd"])
    np.testing.assert_array_equal(fig.data[1].y, small.series["lambda_usd"])
    markers = [d for d in fig.data if d.mode == "markers+text"]
    assert [m.text[0] for m in markers] == ["61.5 req/s", "34.8 req/s"]


def test_caption_counts_recent_events(trace) -> None:
    scene = ServerlessScene()
    assert "cold-start × 2" in scene.caption(trace, 13) or "cold-start ×" in scene.caption(trace, 13)
    assert "nothing starts or stops" in scene.caption(trace, 40)


def test_panel_reruns_and_updates_in_place() -> None:
    panel = serverless_panel()
    figure = panel.figure
    assert panel.time.value == 65.0 and panel.step == 13  # seconds, step 5 s
    assert "provisioned" not in figure.layout.title.text.split("<br>")[1]
    panel.controls["provisioned"].value = 5
    assert panel.figure is figure
    assert "5 provisioned" in figure.layout.title.text
    assert panel.trace.params["provisioned"] == 5
    purple = figure.data[list(STATE_STYLE).index(InstanceState.PROVISIONED_IDLE)]
    assert len(purple.x) + len(figure.data[list(STATE_STYLE).index(InstanceState.WARM)].x) >= 5 + 2
    panel.controls["burst_size"].value = 200
    assert panel.trace.params["burst_size"] == 200


def test_panel_bad_settings_show_a_message() -> None:
    panel = serverless_panel()
    panel.controls["concurrency_limit"].value = 2
    assert_bad_setting_is_explained(panel, "provisioned", 10, "provisioned must be at most 2", 0)
