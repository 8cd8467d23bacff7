"""Lesson 05 views: the animations play, the layout is a function of the trace, the panels rerun and explain."""

from __future__ import annotations

import json

import numpy as np

from labsupport.sim.mesh import Sample, run_outlier, run_release
from labsupport.views._scene import widget_safe
from labsupport.views.mesh import OutlierScene, ReleaseScene, mesh_animate, outlier_panel, release_panel
from tests.views.panels import assert_bad_setting_is_explained


def _texts(spec: dict) -> list[str]:
    """Every string plotly draws in a figure's JSON."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(spec)
    return found


def test_release_animation_frames_match_the_figure() -> None:
    trace = run_release()
    animation = mesh_animate(ReleaseScene(), trace, every=2)
    assert len(animation.frames) == 151  # 300 steps of 1 s, every other one, and the last
    figure = animation.figure()
    assert len(figure.data) == len(animation.frames[0]["data"])
    last = animation.frames[-1]["layout"]["title"]["text"]
    assert "PROMOTED" in last and "t = 299.0 s" in last
    # Play/Pause sit on a row of their own, above the slider and its readout
    layout = animation.spec["layout"]
    assert layout["updatemenus"][0]["y"] > layout["sliders"][0]["y"] and layout["sliders"][0]["x"] == 0.0
    labels = [step["label"] for step in layout["sliders"][0]["steps"]]
    assert labels[0] == "0.0 s" and labels[25] == "50.0 s" and labels[-1] == "299.0 s"  # tenths of a second
    assert not [t for t in _texts(json.loads(animation.to_json())) if "$" in t]


def test_requests_hop_through_the_sidecars_coloured_by_version() -> None:
    trace = run_release()
    scene = ReleaseScene()
    k = 150  # canary at 40 %
    dots = scene.frame(trace, k)["requests"]
    xs = sorted(set(np.round(dots["x"], 2)))
    assert len(xs) == 4  # caller, caller's sidecar, server's sidecar, server
    kinds = {Sample(int(v)) for v in trace.series["sample"][k - 3:k + 1].ravel()} - {Sample.NONE}
    colours = set(dots["marker"]["color"])
    assert ("#0072B2" in colours) == bool(kinds & {Sample.USER_CANARY, Sample.TESTER_CANARY})
    bad = run_release(canary_error_rate=0.1)
    after = int(np.searchsorted(bad.series["time_s"], bad.first("rollback").time_s)) + 5
    assert "#0072B2" not in scene.frame(bad, after)["requests"]["marker"]["color"]  # no v2 after the rollback
    assert "ROLLED BACK" in scene.layout_at(bad, after)["title"]["text"]


def test_layout_is_computed_from_the_trace() -> None:
    scene = ReleaseScene()
    slow = run_release(canary_latency_ms=900, max_latency_ms=1200, min_success_rate=90, header_routing=False)
    fig = scene.still(slow)
    assert fig.layout.yaxis4.range[1] >= 1.25 * 1200
    assert fig.layout.yaxis3.range[0] <= 89 and fig.layout.xaxis2.range[1] == float(slow.series["time_s"][-1] + 1)
    assert list(fig.data[12].y) == [50, 50]  # maxWeight
    assert list(fig.data[15].y) == [90, 90] and list(fig.data[18].y) == [1200, 1200]
    labels = [a.text for a in fig.layout.annotations]
    assert {"maxWeight 50 %", "minimum 90 %", "P99 limit 1200 ms"} <= set(labels)
    short = run_release(interval_s=2.5, step_weight=50, max_weight=50)
    assert scene.still(short).layout.xaxis2.range[1] < 20
    assert "stepWeight 50" in scene.layout_at(short, 0)["title"]["text"]
    assert "push-config" in scene.caption(short, int(np.searchsorted(short.series["time_s"], 5.0)))


def test_outlier_animation_shows_ejection_and_return() -> None:
    trace = run_outlier()
    animation = mesh_animate(OutlierScene(), trace)
    assert len(animation.frames) == 181
    scene = OutlierScene()
    during = scene.frame(trace, 40)["endpoints"]
    assert during["marker"]["symbol"][3] == "x" and during["text"][3].endswith("out")
    assert scene.frame(trace, 65)["endpoints"]["marker"]["symbol"][3] == "x"  # ejected again after returning at 60 s
    assert scene.frame(trace, 140)["endpoints"]["marker"]["symbol"][3] == "square"
    assert "1 of 10 endpoints out" in scene.layout_at(trace, 40)["title"]["text"]
    refused = run_outlier(endpoints=5)
    assert scene.frame(refused, 60)["refused (max share)"]["x"][0] is not None  # the refused ejection is marked
    assert "eject-refused" in scene.caption(refused, 21)


def test_release_panel_reruns_and_explains() -> None:
    panel = release_panel()
    panel.controls["step_weight"].value = 25
    assert panel.trace.params["step_weight"] == 25
    assert "stepWeight 25" in panel.figure.layout.title.text
    panel.controls["interval_s"].value = 2.5
    assert panel.trace.first("promote").time_s == 10.0
    panel.controls["header_routing"].value = False
    assert panel.trace.first("route-testers") is None
    assert_bad_setting_is_explained(panel, "step_weight", 60, "step_weight (60) must be at most max_weight (50)", 10)


def test_outlier_panel_reruns_and_explains() -> None:
    panel = outlier_panel()
    panel.controls["endpoints"].value = 3  # the failing endpoint stays in the smaller pool
    assert panel.trace.params["bad_endpoint"] == 2 and panel.trace.of_kind("eject-refused")
    panel.controls["always_eject_one_host"].value = True
    assert panel.trace.of_kind("eject")
    assert_bad_setting_is_explained(panel, "max_ejection_percent", 120, "max_ejection_percent must be at most 100", 10)


def _nan_in_lists(value: object) -> bool:
    if isinstance(value, dict):
        return any(_nan_in_lists(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(isinstance(x, float) and x != x or _nan_in_lists(x) for x in value)
    return False


def test_panels_send_no_nan_as_json() -> None:
    """Line breaks (NaN) go to the browser as float arrays: a list holding NaN is not JSON, and Jupyter warns in
    the learner's cell when it must send one."""
    for make in (release_panel, outlier_panel):
        panel = make()
        fig = panel.figure
        assert not _nan_in_lists([widget_safe(trace.to_plotly_json()) for trace in fig.data]), make.__name__
        for k in range(0, len(panel.scene.times(panel.trace)), 5):
            assert not _nan_in_lists([widget_safe(u) for u in panel.scene.frame(panel.trace, k).values()]), (make.__name__, k)
