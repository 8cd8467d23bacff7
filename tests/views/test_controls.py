"""Panels from parameters: a control spec becomes widgets with the parameter class's defaults, and a bad
override is explained in the panel (what was wrong, what would be valid), never raised."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pytest

from labsupport.sim import ParameterError, Trace
from labsupport.sim.overview import OverviewParams, run_overview
from labsupport.views._controls import (
    check_overrides,
    choice,
    integer,
    live_panel,
    log_number,
    make_widget,
    number,
    toggle,
)
from labsupport.views._scene import LivePanel
from labsupport.views.choosing import choosing_panel
from labsupport.views.containers import containers_panel
from labsupport.views.kubernetes import kubernetes_panel
from labsupport.views.mesh import outlier_panel, release_panel
from labsupport.views.overview import OverviewScene, overview_panel
from labsupport.views.packaging import packaging_panel
from labsupport.views.serverless import serverless_panel
from labsupport.views.vm import packing_panel, vm_panel

PANELS: list[Callable[..., LivePanel]] = [overview_panel, packaging_panel, vm_panel, packing_panel, containers_panel,
                                          kubernetes_panel, release_panel, outlier_panel, serverless_panel,
                                          choosing_panel]

SPEC = (number("crash_at_s", "crash at", 10, 110, 1, unit="s"),
        integer("instances", "instances", 1, 8),
        number("alert_error_rate", "alert above error rate", 0.01, 0.5, 0.01, readout=".0%"))


def _panel(**initial: Any) -> LivePanel:
    return live_panel(OverviewScene(), run_overview, OverviewParams, SPEC, initial, start_at_s=46, fixed={"seed": 0})


def test_each_kind_of_control_becomes_its_widget() -> None:
    made = [
        (integer("n", "pods", 0, 24, 2), 4, widgets.IntSlider, dict(min=0, max=24, step=2, description="pods")),
        (number("t", "boot", 5, 180, 5, unit="s", readout=".0f"), 60.0, widgets.FloatSlider,
         dict(min=5, max=180, step=5, description="boot (s)", readout_format=".0f")),
        (log_number("r", "req/s", -1, 2, 0.1), 1.0, widgets.FloatLogSlider, dict(base=10, min=-1, max=2)),
        (choice("c", "policy", ["no", "always"]), "always", widgets.Dropdown, dict(options=("no", "always"))),
        (choice("k", "kill", [("none", None), ("node-0", 0)]), 0, widgets.Dropdown, dict(label="node-0")),
        (toggle("b", "limits on", default=True), True, widgets.Checkbox, dict(description="limits on")),
    ]
    for control, value, kind, expected in made:
        widget = make_widget(control, value)
        assert type(widget) is kind and widget.value == value, control
        assert {name: getattr(widget, name) for name in expected} == expected, control


def test_defaults_come_from_the_parameter_class() -> None:
    panel = _panel()
    defaults = OverviewParams()
    assert panel.values() == {name: getattr(defaults, name) for name in ("crash_at_s", "instances", "alert_error_rate")}
    assert panel.controls["crash_at_s"].description == "crash at (s)"
    assert panel.status.value == "" and panel.time.value == 46.0
    for make in PANELS:  # every lesson's panel starts from its model's defaults
        panel = make()
        params = panel.trace.params
        for name, value in panel.values().items():
            if name in params and name != "memory_limit_mb":  # containers: limits on, so the limit is the value
                assert params[name] == value, (make.__name__, name)


def test_a_good_override_is_applied_and_starts_where_asked() -> None:
    panel = _panel(instances=5, seed=3, start_at_s=80)
    assert panel.controls["instances"].value == 5 and panel.trace.params["instances"] == 5
    assert panel.trace.seed == 3 and panel.step == 80 and panel.status.value == ""
    panel.controls["instances"].value = 2  # the seed stays with the reruns
    assert panel.trace.seed == 3 and panel.trace.params["instances"] == 2


@pytest.mark.parametrize("initial, message", [
    (dict(instance=5), "this panel has no setting 'instance'; its settings are crash_at_s, instances, "
                       "alert_error_rate, seed, start_at_s"),
    (dict(instances=20), "instances must be a whole number from 1 to 8, not 20"),
    (dict(instances=2.5), "instances must be a whole number from 1 to 8, not 2.5"),
    (dict(crash_at_s="soon"), "crash_at_s must be a number from 10 to 110, not 'soon'"),
    (dict(start_at_s=None), "start_at_s must be a time in seconds, not None"),
])
def test_a_bad_override_is_explained_not_raised(initial: dict[str, Any], message: str) -> None:
    panel = _panel(**initial)
    assert message.replace("'", "&#x27;") in panel.status.value, panel.status.value
    assert "Traceback" not in panel.status.value
    assert panel.values() == _panel().values()  # that setting left at its default


def test_only_the_bad_overrides_are_dropped() -> None:
    panel = _panel(instances=3, alert_error_rate=7)
    assert panel.controls["instances"].value == 3
    assert panel.controls["alert_error_rate"].value == OverviewParams().alert_error_rate
    assert "alert_error_rate must be a number from 0.01 to 0.5, not 7" in panel.status.value
    panel.controls["instances"].value = 4  # a good rerun clears the message
    assert panel.status.value == ""


def test_a_combination_the_model_refuses_starts_from_the_defaults() -> None:
    panel = kubernetes_panel(max_surge=0, max_unavailable=0)
    assert panel.values()["max_surge"] == panel.values()["max_unavailable"] == "25%"
    assert "max_surge=0, max_unavailable=0: max_unavailable may not be 0 when max_surge is 0" in panel.status.value


def test_choices_list_what_is_valid() -> None:
    spec = (choice("restart_policy", "restart policy", ["no", "on-failure", "always"]), toggle("limits", "limits"))
    problems = check_overrides(spec, {}, {"restart_policy": "sometimes", "limits": "yes"})
    assert problems == {"restart_policy": "restart_policy must be one of 'no', 'on-failure', 'always', not 'sometimes'",
                        "limits": "limits must be True or False, not 'yes'"}


@pytest.mark.parametrize("make", PANELS, ids=lambda make: make.__name__)
def test_every_panel_explains_an_unknown_setting(make: Callable[..., LivePanel]) -> None:
    panel = make(no_such_setting=1)
    assert "this panel has no setting &#x27;no_such_setting&#x27;; its settings are " in panel.status.value
    for name in panel.controls:
        assert name in panel.status.value
    assert panel.values() == make().values()


@dataclasses.dataclass(frozen=True)
class _Params:
    size: int = 3
    limit_mb: float | None = None


def _run(**values: Any) -> Trace:
    raise ParameterError("never run")


def test_a_spec_that_does_not_fit_the_parameter_class_is_a_bug_found_at_once() -> None:
    scene = OverviewScene()
    with pytest.raises(TypeError, match="'colour' is not a field of _Params: give the control a default"):
        live_panel(scene, _run, _Params, (choice("colour", "colour", ["red"]),), {})
    with pytest.raises(TypeError, match="the default of 'limit_mb', None, is not a number from 1 to 9"):
        live_panel(scene, _run, _Params, (number("limit_mb", "limit", 1, 9, 1),), {})
    with pytest.raises(TypeError, match="the default of 'size', 3, is not one of 1, 2"):
        live_panel(scene, _run, _Params, (choice("size", "size", [1, 2]),), {})
