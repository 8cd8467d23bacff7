"""Lesson 02's views, built with no browser: the data they plot, frames, and the live panels."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.sim.vm import Phase, run_packing, run_vm
from labsupport.views import animate
from labsupport.views.vm import PHASE_STYLE, PackingScene, VmScene, packing_panel, vm_panel
from tests.views.panels import assert_bad_setting_is_explained


@pytest.fixture(scope="module")
def trace():
    return run_vm(seed=0)


def test_each_frame_updates_every_trace(trace) -> None:
    scene = VmScene()
    fig = scene.figure(trace)
    for k in (0, 60, 200, 360):
        assert len(scene.frame(trace, k)) == len(fig.data)
    assert [d.name for d in fig.data[: len(Phase)]] == [PHASE_STYLE[p][0] for p in Phase]


def test_bars_grow_with_time_and_show_the_crash(trace) -> None:
    scene = VmScene()
    early = scene.still(trace, 30)  # 5:00: only the pipeline has started
    healthy = early.data[Phase.HEALTHY]
    assert len(healthy.x) == 0
    assert np.nanmax(np.asarray(early.data[Phase.BAKE].x, dtype=float)) == 300.0
    after = scene.still(trace, 122)  # 20:20: i-01 crashed at 20:00, still "healthy" to the load balancer
    failing = np.asarray(after.data[Phase.FAILING].x, dtype=float)
    assert failing[0] == 1200.0 and failing[1] == 1220.0
    y_i01 = len(trace.series["row_label"]) - 2  # rows are drawn top-down; i-01 is the second row
    assert after.data[Phase.FAILING].y[0] == y_i01
    assert "1 of them crashed" in after.layout.title.text
    assert list(after.layout.yaxis.ticktext) == list(trace.series["row_label"])


def test_healthy_lines_and_desired(trace) -> None:
    fig = VmScene().still(trace, 150)
    np.testing.assert_array_equal(fig.data[len(Phase) + 1].y, trace.series["healthy"][:151])
    np.testing.assert_array_equal(fig.data[len(Phase) + 2].y, trace.series["healthy_v2"][:151])
    assert tuple(fig.data[len(Phase) + 4].y) == (3.0, 3.0)


def test_animation_is_valid_plotly_and_plays(trace) -> None:
    animation = animate(VmScene(), trace, every=3)
    fig = animation.figure()  # validates every frame
    assert isinstance(fig, go.Figure)
    assert len(fig.frames) == 121
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["▶ Play", "❚❚ Pause"]
    assert "frames" in animation._repr_mimebundle_()["application/vnd.plotly.v1+json"]


def test_caption_lists_recent_events(trace) -> None:
    caption = VmScene().caption(trace, 124)  # 20:40: the crash was detected at 20:35
    assert "marked-unhealthy" in caption and "launch" in caption and "i-04" in caption
    assert "nothing changes" in VmScene().caption(trace, 100)


def test_packing_figure() -> None:
    result = run_packing()
    fig = PackingScene().still(result)
    labels = list(fig.data[6].text)
    assert labels[0] == "3 × m5.large · &#36;0.288/h"  # the $ escaped: no LaTeX
    assert list(fig.data[0].y) == list(result.values["type"])
    assert "cheapest: 3 × m5.large" in fig.layout.title.text
    assert "4% of its vCPUs idle" in fig.layout.title.text


def test_vm_panel_reruns_and_updates_in_place() -> None:
    panel = vm_panel()
    figure = panel.figure
    assert panel.time.value == 1330.0 and panel.step == 133  # seconds, step 10 s
    assert "i-11" not in list(figure.layout.yaxis.ticktext)
    panel.controls["desired_capacity"].value = 5
    assert panel.figure is figure
    assert "i-11" in list(figure.layout.yaxis.ticktext)
    panel.controls["grace_period_s"].value = 0
    panel.controls["boot_s"].value = 80
    assert panel.trace.of_kind("marked-unhealthy")
    panel.controls["health_check_type"].value = "EC2"
    assert panel.trace.params["health_check_type"] == "EC2"


def test_vm_panel_bad_settings_show_a_message() -> None:
    assert_bad_setting_is_explained(vm_panel(), "health_check_interval_s", 4,
                                    "health_check_interval_s must be at least 5", 30)


def test_packing_panel_hides_time_and_updates_labels() -> None:
    panel = packing_panel()
    assert panel.time.layout.display == "none" and panel.play.layout.display == "none"
    assert not any(t.startswith("6 ×") for t in panel.figure.data[6].text)
    panel.controls["min_instances"].value = 6
    assert "6 × c5.large · &#36;0.510/h" in list(panel.figure.data[6].text)
    assert list(panel.figure.layout.yaxis.categoryarray[:2]) == ["c5.large", "m5.large"]  # re-sorted by cost


def test_many_replacements_get_thin_bars_and_sparse_labels() -> None:
    trace = run_vm(grace_period_s=0.0, boot_s=80.0)
    scene = VmScene()
    n = len(trace.series["row_label"])
    assert n > 60
    fig = scene.still(trace, 200)
    assert fig.data[Phase.BOOTING].line.width < 13
    assert 10 <= len(fig.layout.yaxis.ticktext) <= 25
    assert "0 of 3 desired instances healthy" in fig.layout.title.text
