"""Lesson 03's views, built with no browser: the data they plot, frames, and the live panel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.artifacts.dockerfile import build_steps, render_dockerfile
from labsupport.sim.containers import pack_containers, run_build, run_host
from labsupport.views import animate
from labsupport.views.containers import (
    MAX_CONTAINERS,
    BuildScene,
    HostScene,
    containers_panel,
    packing_figure,
    rebuild_figure,
)


@pytest.fixture(scope="module")
def build():
    return run_build(build_steps(render_dockerfile(order="source-first")), ["labsupport/service/_app.py"])


@pytest.fixture(scope="module")
def host():
    return run_host(seed=0)


def test_build_bars_light_up_as_reused_or_rebuilt(build) -> None:
    scene = BuildScene()
    fig = scene.figure(build)
    assert len(scene.frame(build, 0)) == len(fig.data)
    end = scene.still(build)  # the last step: every bar drawn in full
    bars = end.data[1]
    assert list(bars.marker.color[:4]) == ["#009E73"] * 4 and list(bars.marker.color[4:]) == ["#E69F00"] * 6
    assert list(bars.text[:4]) == ["reused ✔"] * 4
    assert bars.text[5] == "ran 25.0 s, +40 MB"  # the dependency install, run again
    assert bars.y[0].startswith(" 1 FROM python:3.12-slim")
    middle = scene.still(build, 20)  # about 8.6 s in: the install is running
    assert middle.data[1].text[5].startswith("running…") and middle.data[1].text[6] == "waits"
    assert "6 of 10 steps run again" in end.layout.title.text and "42 MB" in end.layout.title.text
    # until the build is over, the title counts the steps done and does not give the prediction away
    first = scene.still(build, 0)
    assert "0 of 10 steps done" in first.layout.title.text
    # nor do the steps still waiting show how long they will run or where they will start
    assert list(first.data[0].x[1:]) == [0.0] * 9 and list(first.data[1].base[1:]) == [0.0] * 9
    assert all(h.endswith(": waits") for h in first.data[1].hovertext[1:])
    assert middle.data[0].x[5] == end.data[0].x[5] > 20  # the install has started: its length shows
    assert "run again" not in middle.layout.title.text and "steps done" in middle.layout.title.text


def test_build_animation_is_valid_plotly(build) -> None:
    animation = animate(BuildScene(), build)
    fig = animation.figure()
    assert isinstance(fig, go.Figure) and len(fig.frames) == 61


def test_rebuild_figure_groups_orders_and_changes() -> None:
    naive = build_steps(render_dockerfile(order="source-first"))
    good = build_steps(render_dockerfile())
    traces = {(order, change): run_build(steps, files) for order, steps in (("naive", naive), ("good", good))
              for change, files in (("nothing", ()), ("source", ["labsupport/service/_app.py"]))}
    fig = rebuild_figure(traces)
    assert [d.name for d in fig.data] == ["naive", "good"]
    assert list(fig.data[0].x) == ["nothing", "source"]
    assert fig.data[0].y[1] == pytest.approx(traces[("naive", "source")].computed["total_s"])
    assert fig.data[1].text[1] == "0.8 s"


def test_host_scene_plots_memory_kills_and_states(host) -> None:
    scene = HostScene()
    fig = scene.figure(host)
    assert len(scene.frame(host, 0)) == len(fig.data) == 1 + MAX_CONTAINERS + 2 + MAX_CONTAINERS + 2
    k = int(np.searchsorted(host.series["time_s"], 52.0))  # the first OOM kill
    at_kill = scene.still(host, k)
    now = at_kill.data[0]
    assert now.text[0].startswith("✘ killed") and "OOM-killed 1×" in now.text[0] and now.y[0] == "container-0"
    assert now.text[1].startswith("✔ serving") and now.hovertext[1].startswith("container-1: ✔ serving")
    marks = at_kill.data[1 + MAX_CONTAINERS + 1]
    assert list(marks.x) == [52.0] and marks.y[0] == pytest.approx(514.2, abs=0.1)
    np.testing.assert_array_equal(at_kill.data[2].y, host.series["memory_mb"][: k + 1, 1])
    assert tuple(at_kill.data[1 + MAX_CONTAINERS].y) == (512.0, 512.0)  # the limit line
    assert "at 52 s: kernel — oom-kill container-0" in at_kill.layout.title.text
    assert "oom-kill" in scene.caption(host, k) and "no new event" in scene.caption(host, 3)
    assert len(animate(scene, host, every=2).figure().frames) == 121


def test_host_scene_without_limits_says_so() -> None:
    trace = run_host(memory_limit_mb=None, cpu_limit_cores=None)
    fig = HostScene().still(trace)
    assert "no cgroup limits" in fig.layout.title.text
    assert fig.data[1 + MAX_CONTAINERS].y[0] == trace.computed["usable_memory_mb"]


def test_packing_figure_reuses_lesson_01s_picture() -> None:
    fig = packing_figure(pack_containers([512.0] * 6 + [1024.0] * 4 + [256.0] * 4))
    assert "14 containers on m5.large VMs" in fig.layout.title.text and "&#36;0.192/h" in fig.layout.title.text  # no LaTeX
    assert fig.layout.annotations[1].text == "the best packing (exact search): 2 machines"


def test_panel_reruns_updates_in_place_and_reports_bad_settings() -> None:
    panel = containers_panel()
    figure = panel.figure
    assert panel.time.value == 60.0 and panel.step == 120 and panel.status.value == ""  # seconds, step 0.5 s
    assert "container-5" not in str(list(figure.data[0].y))
    panel.controls["containers"].value = 6
    assert panel.figure is figure and "container-5" in list(figure.data[0].y)
    panel.controls["limits"].value = False
    assert "no cgroup limits" in figure.layout.title.text
    panel.controls["limits"].value = True
    panel.controls["restart_policy"].value = "no"
    assert not panel.trace.of_kind("restart")
    panel.controls["containers"].value = 1  # the leaky container is container-0: fine
    assert panel.status.value == ""
    before = panel.trace
    panel._run = lambda **values: run_host(leaky_container=5, **{k: v for k, v in values.items()  # noqa: SLF001
                                                                   if k not in ("limits",)})
    panel.controls["containers"].value = 2
    assert "Cannot run these settings" in panel.status.value and "leaky_container" in panel.status.value
    assert panel.trace is before  # the last good picture stays
