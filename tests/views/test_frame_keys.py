"""The scene contract: a frame updates the figure's traces by key (uid, else name), never by position.

Every scene's frame names exactly its figure's traces, at every step of its default trace and, for every live
panel, with each control at each of its extremes; a frame that misses a trace or names an unknown one is an
error, in a still, in an animation and in a live panel alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from labsupport.artifacts.dockerfile import build_steps
from labsupport.scenarios import NAIVE_DOCKERFILE, SOURCE_FILE
from labsupport.sim import Trace
from labsupport.sim.choosing import run_traffic_sweep
from labsupport.sim.containers import run_build
from labsupport.sim.overview import run_overview
from labsupport.views._scene import FrameKeyError, LivePanel, Scene, animate, in_figure_order, trace_keys
from labsupport.views.choosing import SweepScene, choosing_panel
from labsupport.views.containers import BuildScene, containers_panel
from labsupport.views.kubernetes import kubernetes_panel
from labsupport.views.mesh import outlier_panel, release_panel
from labsupport.views.overview import OverviewScene, overview_panel
from labsupport.views.packaging import packaging_panel
from labsupport.views.serverless import serverless_panel
from labsupport.views.vm import packing_panel, vm_panel
from tests.views.panels import settings

PANELS: list[Callable[[], LivePanel]] = [overview_panel, packaging_panel, vm_panel, packing_panel, containers_panel,
                                         kubernetes_panel, release_panel, outlier_panel, serverless_panel,
                                         choosing_panel]


def _assert_keys_match(scene: Scene, trace: Trace, every: int = 1) -> None:
    keys = trace_keys(scene.figure(trace))
    n = len(scene.times(trace))
    for k in sorted({*range(0, n, every), n - 1}):
        frame = scene.frame(trace, k)
        assert list(frame) and set(frame) == set(keys), (type(scene).__name__, k, set(frame) ^ set(keys))
        assert all(isinstance(update, dict) for update in frame.values())


@pytest.mark.parametrize("make", PANELS, ids=lambda make: make.__name__)
def test_every_frame_names_exactly_the_figures_traces(make: Callable[[], LivePanel]) -> None:
    panel = make()
    _assert_keys_match(panel.scene, panel.trace)  # the default trace, every step
    for _name, _value in settings(panel):  # each control at each extreme, about every tenth step
        _assert_keys_match(panel.scene, panel.trace, every=10)


@pytest.mark.parametrize("scene, trace", [
    (BuildScene(), run_build(build_steps(NAIVE_DOCKERFILE), [SOURCE_FILE])),
    (SweepScene(), run_traffic_sweep(peak_to_mean=1, isolation="none", max_monthly_usd=300)),
], ids=["build", "sweep"])
def test_scenes_without_a_panel_name_their_traces_too(scene: Scene, trace: Trace) -> None:
    _assert_keys_match(scene, trace)


def test_a_trace_is_keyed_by_its_uid_else_its_name() -> None:
    fig = go.Figure([go.Scatter(name="now", uid="now: left"), go.Scatter(name="now", uid="now: right"),
                     go.Scatter(name="line")])
    assert trace_keys(fig) == ("now: left", "now: right", "line")
    assert in_figure_order(trace_keys(fig), {"line": {"y": [1]}, "now: right": {}, "now: left": {"x": [0]}}) == [
        {"x": [0]}, {}, {"y": [1]}]


@pytest.mark.parametrize("traces, message", [
    ([go.Scatter(name="now"), go.Scatter(name="now")], "several traces are called ['now']"),
    ([go.Scatter(name="line"), go.Scatter()], "traces [1] have neither a uid nor a name"),
])
def test_a_figure_whose_traces_cannot_be_told_apart_is_refused(traces: list[Any], message: str) -> None:
    with pytest.raises(FrameKeyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        trace_keys(go.Figure(traces))


class _Missing(OverviewScene):
    """A scene whose frame forgets one trace and names one the figure does not have."""

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        updates = dict(super().frame(trace, k))
        del updates["error rate"]
        updates["error-rate"] = {}
        return updates


def test_a_frame_that_misses_or_invents_a_trace_is_an_error_everywhere() -> None:
    scene, trace = _Missing(), run_overview()
    expected = r"missing \['error rate'\], unknown \['error-rate'\]"
    with pytest.raises(FrameKeyError, match=expected):
        scene.still(trace)
    with pytest.raises(FrameKeyError, match=expected):
        animate(scene, trace)
    with pytest.raises(FrameKeyError, match=expected):
        LivePanel(scene, run_overview, {})


def test_a_live_panel_updates_each_trace_by_its_key() -> None:
    panel = overview_panel()
    panel.show(100)
    index = panel.keys.index("now: p95 latency")  # the second of two traces named "now"
    np.testing.assert_allclose(panel.figure.data[index].x, [100.0, 100.0])
    assert panel.figure.data[index].name == "now" and panel.figure.data[index].xaxis == "x3"


def test_a_patterned_trace_needs_a_uid_that_plotly_can_select() -> None:
    """plotly.js looks a legend's pattern fill up by a CSS selector made of the trace's uid, unescaped: a static page
    stopped with "is not a valid selector" for the uid "vcpu: used by each VM's OS"."""
    import plotly.graph_objects as go

    from labsupport.views._scene import FrameKeyError, trace_keys

    def figure(uid: str, shape: object) -> go.Figure:
        return go.Figure([go.Bar(x=[1], y=["a"], name="n", uid=uid, marker=dict(pattern_shape=shape))])

    assert trace_keys(figure("vcpu-used", "/")) == ("vcpu-used",)
    assert trace_keys(figure("vcpu: used", "")) == ("vcpu: used",)  # no pattern: any uid
    for uid, shape in (("vcpu: used", "/"), ("a'b", ["", "x"])):
        with pytest.raises(FrameKeyError, match="letters, digits"):
            trace_keys(figure(uid, shape))


@pytest.mark.parametrize("make", PANELS, ids=lambda make: make.__name__)
def test_an_animation_keeps_no_uid_that_plotly_cannot_select(make: Callable[[], LivePanel]) -> None:
    """plotly.js removes a figure's colour bars by the selector ``'.cb' + uid``, unescaped (JupyterLab's renderer
    removes the copy it makes for each output's PNG): a scene key such as "now: error rate" stopped the page's
    script there. An animation's uids are its keys made selector-safe, still distinct and in the figure's order."""
    import re

    panel = make()
    spec = animate(panel.scene, panel.trace, every=50).spec
    uids = [trace["uid"] for trace in spec["data"]]
    assert all(re.fullmatch(r"[\w-]+", uid) for uid in uids), uids
    assert len(set(uids)) == len(uids)
    keys = trace_keys(panel.scene.figure(panel.trace))
    assert [re.sub(r"[^\w-]+", "-", key).strip("-") for key in keys] == uids


def test_selector_safe_uids_stay_distinct() -> None:
    from labsupport.views._scene import selector_safe_uids

    assert selector_safe_uids(["now: error rate", "now-error-rate", "memory now", ": ", "vcpu-used"]) == [
        "now-error-rate", "now-error-rate-1", "memory-now", "trace-3", "vcpu-used"]
