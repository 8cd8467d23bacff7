"""What every scene and panel shares: the time slider in seconds, the step's events, no LaTeX by accident."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from labsupport.artifacts.dockerfile import build_steps, render_dockerfile
from labsupport.sim.choosing import compare, run_traffic_sweep
from labsupport.sim.containers import pack_containers, run_build, run_host
from labsupport.sim.kubernetes import run_cluster
from labsupport.sim.overview import OverviewParams, run_overview
from labsupport.sim.packaging import run_machine, run_placement
from labsupport.sim.serverless import run_cost_curve, run_serverless
from labsupport.sim.vm import run_packing, run_vm
from labsupport.views import animate
from labsupport.views._controls import live_panel, number
from labsupport.views._scene import CONFIG, step_events
from labsupport.views._style import TOOLBAR_PX, log_ticks, no_math
from labsupport.views.choosing import ComparisonScene, SweepScene
from labsupport.views.containers import BuildScene, HostScene, packing_figure
from labsupport.views.kubernetes import ClusterScene
from labsupport.views.overview import OverviewScene, overview_panel
from labsupport.views.packaging import MachineScene, placement_figure
from labsupport.views.serverless import ServerlessScene, cost_figure, latency_figure, serverless_panel
from labsupport.views.vm import PackingScene, VmScene, vm_panel
from tests.views.panels import unescaped_dollars


def test_time_slider_counts_seconds_and_play_moves_it() -> None:
    panel = serverless_panel()  # one step is 5 s
    assert panel.time.description == "time (s)" and panel.time.step == 5.0 and panel.time.max == 900.0
    panel.play.value = 20
    assert panel.time.value == 100.0 and panel.step == 20
    assert "t = 100 s" in panel.figure.layout.title.text
    panel.time.value = 450.0
    assert panel.play.value == 90 and panel.step == 90
    panel.controls["burst_size"].value = 100  # a rerun keeps the time the learner was looking at
    assert panel.time.value == 450.0 and "t = 450 s" in panel.figure.layout.title.text


def test_time_slider_follows_a_trace_of_another_length() -> None:
    panel = vm_panel()
    panel.time.value = 3600.0
    panel.controls["desired_capacity"].value = 6
    assert panel.time.max == float(panel.trace.series["time_s"][-1])
    assert panel.time.value <= panel.time.max and panel.play.max == len(panel.trace.series["time_s"]) - 1


def test_a_rerun_sends_the_figure_before_the_sliders_and_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = (number("duration_s", "run for", 60, 300, 10, unit="s"),)
    panel = live_panel(OverviewScene(), run_overview, OverviewParams, spec, {}, start_at_s=100, fixed={"seed": 0})
    sent: list[str] = []
    names = {id(panel.figure): "figure", id(panel.time): "time", id(panel.play): "play", id(panel.summary): "summary"}
    monkeypatch.setattr(widgets.Widget, "_send", lambda self, msg, buffers=None: sent.append(names.get(id(self), "")))
    panel.controls["duration_s"].value = 60  # a shorter run: both sliders get a new range, the time moves to 60 s
    assert [name for name in sent if name] == ["figure", "play", "time", "summary"]  # the figure first
    times = panel.trace.series["time_s"]
    assert panel.time.max == 60.0 and panel.time.value == float(times[panel.step]) == 60.0
    assert panel.play.value == panel.step == len(times) - 1
    assert panel.figure.layout.title.text == OverviewScene().layout_at(panel.trace, panel.step)["title"]["text"]


def test_step_events_name_every_event_of_the_step() -> None:
    trace = run_overview(seed=0)
    at_50 = step_events(trace, 50.0, 1.0)  # a failed check, the removal from the pool and the restart
    assert at_50.startswith("at 50 s:")
    for kind in ("health-check-failed instance-0", "remove-from-pool instance-0", "restart instance-0"):
        assert kind in at_50
    assert OverviewScene().layout_at(trace, 50)["title"]["text"].count("instance-0") == 3
    assert step_events(trace, 30.0, 1.0) == "latest, at 5 s: request routing — traffic-on restaurant-service"
    cluster = run_cluster(replicas=20)
    many = step_events(cluster, 90.0, 1.0)
    evicted = [e.subject for e in cluster.events if e.time_s == 90.0 and e.kind == "delete-pod"]
    assert len(evicted) > 3  # many evictions in one step, shown as one group
    assert f"delete-pod {evicted[0]}, {evicted[1]}, and {len(evicted) - 2} more" in many


def test_log_ticks_are_labelled_at_decades() -> None:
    assert log_ticks(0.01, 1.0) == {"tickvals": [0.01, 0.1, 1.0], "ticktext": ["0.01", "0.1", "1"]}
    assert log_ticks(0.4, 3) == {"tickvals": [0.1, 1.0, 10.0], "ticktext": ["0.1", "1", "10"]}
    fig = HostScene().still(run_host(seed=0))
    assert list(fig.layout.yaxis3.ticktext) == ["0.01", "0.1", "1"]


def test_dollars_never_become_latex() -> None:
    assert no_math("$0.19/h and $0.38/h") == "&#36;0.19/h and &#36;0.38/h"
    assert unescaped_dollars({"layout": {"title": {"text": "$1 to $2"}}}) == ["$1 to $2"]
    naive = build_steps(render_dockerfile(order="source-first"))
    figures = [
        animate(OverviewScene(), run_overview(seed=0), every=10).spec,
        animate(MachineScene(), run_machine(), every=10).spec,
        animate(VmScene(), run_vm(), every=30).spec,
        PackingScene().still(run_packing()),
        animate(BuildScene(), run_build(naive, ["labsupport/service/_app.py"]), every=10).spec,
        animate(HostScene(), run_host(seed=0), every=30).spec,
        animate(ClusterScene(), run_cluster(), every=30).spec,
        animate(ServerlessScene(), run_serverless(seed=0), every=30).spec,
        ComparisonScene().still(compare(max_monthly_usd=500)),
        animate(SweepScene(), run_traffic_sweep()).spec,
        packing_figure(pack_containers([512.0] * 6 + [1024.0] * 4)),
        placement_figure(run_placement([900.0, 1200.0, 700.0], capacity_mb=2048)),
        latency_figure(run_serverless(seed=0)), cost_figure(run_cost_curve()),
    ]
    for spec in figures:
        assert unescaped_dollars(spec.to_plotly_json() if hasattr(spec, "to_plotly_json") else spec) == []


def test_panel_and_animation_keep_the_toolbar_off_the_title() -> None:
    for panel in (overview_panel(), vm_panel()):
        assert panel.figure._config["displayModeBar"] == "hover" and panel.figure._config["responsive"] is True
        assert panel.figure.layout.title.yref == "container" and panel.figure.layout.title.pad.t == TOOLBAR_PX
    bundle = animate(OverviewScene(), run_overview(seed=0), every=20)._repr_mimebundle_()
    assert bundle["application/vnd.plotly.v1+json"]["config"] == CONFIG


def test_log_axes_of_the_sweep_are_labelled_at_decades() -> None:
    fig = SweepScene().figure(run_traffic_sweep())
    assert all(float(text) in (0.01, 0.1, 1, 10, 100, 1000, 10000, 100000) for text in fig.layout.xaxis.ticktext)
    assert list(fig.layout.xaxis2.ticktext) == ["0.1", "1", "10", "100"]


def test_animation_controls_sit_on_rows_of_their_own() -> None:
    spec = animate(OverviewScene(), run_overview(seed=0), every=20).spec["layout"]
    buttons, slider = spec["updatemenus"][0], spec["sliders"][0]
    assert slider["x"] == 0.0 and slider["len"] == 1.0  # the slider's scale spans the figure…
    assert slider["y"] < buttons["y"] < 0  # …on a row under the buttons, so they never cover it


def test_the_slider_is_a_scale_of_a_few_labels_and_each_frame_title_says_its_time() -> None:
    trace = run_overview(seed=0)
    animation = animate(OverviewScene(), trace, every=2)
    slider = animation.spec["layout"]["sliders"][0]
    labels = [step["label"] for step in slider["steps"]]
    shown = [label for label in labels if label]
    assert len(labels) == len(animation.frames) == 61 and len(shown) == 7  # plotly measures every label it draws
    assert labels[0] == "0 s" and labels[-1] == "120 s" and labels[30] == "60 s"  # first, last, evenly between
    assert slider["currentvalue"]["visible"] is False  # the title says the time instead:
    for frame, step in zip(animation.frames, slider["steps"], strict=True):
        t = float(trace.series["time_s"][int(frame["name"])])
        assert f"t = {t:.0f} s" in frame["layout"]["title"]["text"]
        assert step["args"][0] == [frame["name"]]
        assert step["value"] == f"{t:.0f} s"  # every step's time, read out by the static pages' controls


def test_scale_steps_are_evenly_spaced_from_first_to_last() -> None:
    from labsupport.views._scene import _scale_steps

    assert _scale_steps(1) == {0} and _scale_steps(5) == {0, 1, 2, 3, 4}
    for n in (8, 51, 61, 151, 1000):
        chosen = sorted(_scale_steps(n))
        gaps = {b - a for a, b in zip(chosen, chosen[1:], strict=False)}
        assert chosen[0] == 0 and chosen[-1] == n - 1 and len(chosen) == 7
        assert max(gaps) - min(gaps) <= 1
