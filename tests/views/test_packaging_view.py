"""Lesson 01's views, built with no browser: what they plot, frames, the placement figure and the live panel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.sim.packaging import MAX_INSTANCES, run_machine, run_placement
from labsupport.views import animate
from labsupport.views.packaging import INSTANCE_COLORS, MachineScene, packaging_panel, placement_figure
from tests.views.panels import assert_bad_setting_is_explained

LATENCY, FAILED = 3, 3 + MAX_INSTANCES


@pytest.fixture(scope="module")
def trace():
    return run_machine(seed=0)


def test_each_frame_updates_every_trace(trace) -> None:
    scene = MachineScene()
    fig = scene.figure(trace)
    for k in (0, 50, 120):
        assert len(scene.frame(trace, k)) == len(fig.data)


def test_bars_split_the_machine_between_instances(trace) -> None:
    fig = MachineScene().still(trace, 100)
    cpu, memory, processes = fig.data[0], fig.data[1], fig.data[2]
    s = trace.series
    np.testing.assert_allclose(np.sum(cpu.x), 100 * s["cpu_used_cores"][100].sum() / 4)
    np.testing.assert_allclose(np.sum(memory.x), 100 * s["memory_used_mb"][100] / 8192)
    np.testing.assert_allclose(np.asarray(memory.base, dtype=float)[1:], np.cumsum(memory.x)[:-1])  # stacked end to end
    assert list(memory.marker.color) == INSTANCE_COLORS[:4]
    assert list(processes.text) == [f"instance-{i} ✔" for i in range(4)]
    after = MachineScene().still(trace, 106)
    assert after.data[2].text[0] == "instance-0 ✘ OOM-killed"
    assert after.data[1].x[0] == 0  # its memory is freed


def test_lines_grow_with_time_and_unused_slots_stay_empty(trace) -> None:
    fig = MachineScene().still(trace, 40)
    np.testing.assert_array_equal(fig.data[LATENCY + 2].y, trace.series["latency_s"][:41, 2])
    np.testing.assert_array_equal(fig.data[FAILED + 1].y, trace.series["failed_share"][:41, 1])
    assert len(fig.data[LATENCY + 5].x) == 0 and fig.data[LATENCY + 5].showlegend is False
    assert "CPU" in fig.layout.title.text and "t = 40 s" in fig.layout.title.text


def test_shared_server_is_named_and_everyone_goes_down() -> None:
    shared = run_machine(seed=0, shared_server=True)
    fig = MachineScene().still(shared, 110)
    assert "one shared application server" in fig.layout.title.text
    assert all(text.endswith("✘ server down") for text in fig.data[2].text)


def test_animation_has_frames_and_validates(trace) -> None:
    animation = animate(MachineScene(), trace, every=4)
    fig = animation.figure()  # validates every frame: the plain-data frames are valid plotly
    assert isinstance(fig, go.Figure) and len(fig.frames) == 31
    assert fig.frames[-1].name == "120"


def test_caption_lists_what_just_happened(trace) -> None:
    assert "oom-kill" in MachineScene().caption(trace, 105)
    assert "no new event" in MachineScene().caption(trace, 50)


def test_placement_figure_shows_both_rules() -> None:
    example = run_placement([4608, 1536, 1536, 2560, 2560, 2048, 2560, 4096, 2560], capacity_mb=8192)
    fig = placement_figure(example)
    titles = [a.text for a in fig.layout.annotations]
    assert "first-fit, in the given order: 4 machines" in titles
    assert "the best packing (exact search): 3 machines" in titles
    assert len(fig.data) == 2 * 9


def test_live_panel_reruns_the_model_and_updates_in_place() -> None:
    panel = packaging_panel()
    figure = panel.figure
    assert panel.time.value == 100
    panel.controls["instances"].value = 6
    assert len(figure.data[2].text) == 6 and "instance-5 ✔" in figure.data[2].text
    assert figure.data[LATENCY + 5].showlegend is True
    assert panel.figure is figure
    panel.controls["shared_server"].value = True
    assert "one shared application server" in figure.layout.title.text


def test_live_panel_shows_a_message_for_bad_settings() -> None:
    panel = packaging_panel()
    assert_bad_setting_is_explained(panel, "instances", 12, "instances must be at most 8", 3)
    assert len(panel.figure.data[2].text) == 3
