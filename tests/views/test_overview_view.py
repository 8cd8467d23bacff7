"""Lesson 00's views, built with no browser: the data they plot, frames, and the live panel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.sim.overview import InstanceState, run_overview
from labsupport.views import COLORS, animate
from labsupport.views.overview import STATE_STYLE, OverviewScene, overview_panel
from tests.views.panels import assert_bad_setting_is_explained


@pytest.fixture(scope="module")
def trace():
    return run_overview(seed=0)


def test_each_frame_updates_every_trace(trace) -> None:
    scene = OverviewScene()
    fig = scene.figure(trace)
    for k in (0, 44, 120):
        assert len(scene.frame(trace, k)) == len(fig.data)


def test_instances_are_drawn_in_their_state(trace) -> None:
    scene = OverviewScene()
    fig = scene.still(trace, 46)  # instance-0 crashed at 42 and is still in the pool
    instances = fig.data[3]
    assert list(instances.marker.color) == [STATE_STYLE[InstanceState.CRASHED][1]] + [COLORS["green"]] * 2
    assert list(instances.marker.symbol) == ["x", "circle", "circle"]
    assert "instance-0: crashed" in instances.text[0]
    fig = scene.still(trace, 53)  # removed from the pool and restarting
    assert list(fig.data[3].marker.symbol)[0] == "diamond"
    edges_x = np.asarray(fig.data[0].x, dtype=float)
    assert np.isnan(edges_x[0]) and not np.isnan(edges_x[3])  # no edge to instance-0, an edge to instance-1


def test_signal_lines_grow_with_time_and_alert_shows(trace) -> None:
    scene = OverviewScene()
    fig = scene.still(trace, 44)
    np.testing.assert_array_equal(fig.data[4].x, trace.series["time_s"][:45])
    np.testing.assert_array_equal(fig.data[4].y, trace.series["window_error_rate"][:45])
    assert fig.data[5].y == (0.05, 0.05)
    assert "ALERT FIRING" in fig.layout.title.text
    assert "ALERT FIRING" not in scene.still(trace, 30).layout.title.text
    monitoring = list(fig.data[2].text).index(next(t for t in fig.data[2].text if t.startswith("Monitoring")))
    assert fig.data[2].marker.symbol[monitoring] == "star"


def test_animation_has_frames_play_pause_and_slider(trace) -> None:
    animation = animate(OverviewScene(), trace)
    fig = animation.figure()  # validates every frame: the fast plain-data frames are valid plotly
    assert isinstance(fig, go.Figure)
    assert len(fig.frames) == len(trace.series["time_s"])
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    assert fig.frames[50].name == "50"
    every = animate(OverviewScene(), trace, every=7)
    assert every.frames[-1]["name"] == str(len(trace.series["time_s"]) - 1)
    assert len(every.frames) == 19


def test_animation_displays_as_plotly_json_and_matches_the_still(trace) -> None:
    scene = OverviewScene()
    animation = animate(scene, trace)
    bundle = animation._repr_mimebundle_()
    payload = bundle["application/vnd.plotly.v1+json"]
    assert len(payload["frames"]) == len(trace.series["time_s"])
    assert "121 frames" in bundle["text/plain"]
    still = scene.still(trace, 50)
    frame = animation.figure().frames[50]
    assert len(frame.data) == len(still.data)
    np.testing.assert_array_equal(frame.data[4].y, still.data[4].y)
    assert list(frame.data[3].marker.color) == list(still.data[3].marker.color)


def test_caption_tells_what_just_happened(trace) -> None:
    caption = OverviewScene().caption(trace, 50)
    assert "remove-from-pool" in caption and "restart" in caption
    assert "no new event" in OverviewScene().caption(trace, 30)


def test_live_panel_reruns_model_and_updates_figure_in_place() -> None:
    panel = overview_panel()
    figure = panel.figure
    panel.time.value = 60
    before = list(figure.data[3].marker.symbol)
    panel.controls["instances"].value = 5
    assert len(figure.data[3].x) == 5
    assert panel.trace.params["instances"] == 5
    assert panel.figure is figure  # updated in place, not replaced
    panel.controls["crash_at_s"].value = 58
    panel.time.value = 60
    assert list(figure.data[3].marker.symbol)[0] == "x" and before[0] != "x"


def test_live_panel_shows_a_message_for_bad_settings_and_keeps_the_picture() -> None:
    assert_bad_setting_is_explained(overview_panel(), "crash_at_s", 400, "crash_at_s must be at most 120", 30)


def _arrays(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(item, f"{path}.{key}")
    elif isinstance(value, np.ndarray):
        yield path, value


def test_live_figure_sends_only_float_arrays_to_the_browser() -> None:
    """plotly.js drops a trace holding an object or int64 typed array: those must reach the widget as lists."""
    panel = overview_panel()
    panel.controls["instances"].value = 4
    for index, trace_data in enumerate(panel.figure._data):
        for path, array in _arrays(trace_data):
            assert array.dtype.kind == "f", f"trace {index}{path} is a {array.dtype} array"
