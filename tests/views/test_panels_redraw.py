"""Every live panel, every control at its extremes: the picture is redrawn from the new trace, whole.

After each change the widget must show what a static figure of the new trace shows (nothing of the old
layout left: ranges, limit lines and their labels, titles), no trace's data may leave a fixed axis range, and
every label that names a setting states its current value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from labsupport.views.choosing import choosing_panel
from labsupport.views.containers import containers_panel
from labsupport.views.kubernetes import kubernetes_panel
from labsupport.views.mesh import outlier_panel, release_panel
from labsupport.views.overview import overview_panel
from labsupport.views.packaging import packaging_panel
from labsupport.views.serverless import serverless_panel
from labsupport.views.vm import packing_panel, vm_panel
from tests.views.panels import (
    assert_shows_the_still,
    data_outside_axes_at_every_step,
    figure_texts,
    settings,
)

Label = Callable[[Any, dict[str, Any]], str | None]


def _instances(prefix: str) -> Label:
    return lambda n, _values: f"{prefix}-{n - 1}"


#: For each panel (the lessons' panels; a new lesson's panel joins this list) and each control whose value a
#: label names: the text the figure or the panel's one-line summary must then hold (None: nothing to check).
PANELS: dict[str, tuple[Callable[[], Any], dict[str, Label]]] = {
    "00 overview": (overview_panel, {
        "alert_error_rate": lambda v, _: f"alert above {v:.0%}",
        "instances": _instances("instance"),
        "crash_at_s": lambda v, _: f"crash at {v:g} s",
    }),
    "01 packaging": (packaging_panel, {
        "instances": _instances("instance"),
        "shared_server": lambda v, _: "(one shared application server)" if v else None,
    }),
    "02 vm": (vm_panel, {
        "desired_capacity": lambda v, _: f"of {v} desired instances",
    }),
    "02 packing": (packing_panel, {
        "need_vcpu": lambda v, _: f"workload: {v:g} vCPU",
        "need_memory_gib": lambda v, _: f"vCPU, {v:g} GiB",
        "min_instances": lambda v, _: f"at least {v} instances",
    }),
    "03 containers": (containers_panel, {
        "containers": lambda v, _: f"{v} containers,",
        "memory_limit_mb": lambda v, values: f"memory limit {v:g} MB" if values["limits"] else None,
        "cpu_limit_cores": lambda v, values: f"and {v:g} CPU" if values["limits"] else None,
        "limits": lambda v, values: (f"memory limit {values['memory_limit_mb']:g} MB" if v
                                     else "no cgroup limits"),
    }),
    "04 kubernetes": (kubernetes_panel, {
        "kill_node": lambda v, values: "no node killed" if v is None else f"node-{v} down at {values['kill_at_s']:.0f} s",
        "kill_at_s": lambda v, values: None if values["kill_node"] is None else f"down at {v:.0f} s",
    }),
    "05 release": (release_panel, {
        "canary_error_rate": lambda v, _: f"v2: {v:.1%} errors",
        "canary_latency_ms": lambda v, _: f"median {v:g} ms",
        "step_weight": lambda v, _: f"stepWeight {v} ·",
        "interval_s": lambda v, _: f"interval {v:g} s",
        "threshold": lambda v, _: f"threshold {v} ·",
        "header_routing": lambda v, _: "testers by header" if v else "no testers' rule",
    }),
    "05 outlier": (outlier_panel, {
        "endpoints": lambda v, _: f"of {v} endpoints out",
        "max_ejection_percent": lambda v, _: f"maxEjectionPercent {v}",
        "always_eject_one_host": lambda v, _: "always eject one host" if v else None,
        "base_ejection_s": lambda v, _: f"baseEjectionTime {v:g} s",
        "interval_s": lambda v, _: f"interval {v:g} s",
        "failure": lambda v, _: {"500": "fails with HTTP 500", "503": "fails with HTTP 503",
                                 "connect-failure": "fails with refused connections"}[v],
        "retry_503": lambda v, _: "connect failures and 503" if v else "connect failures, not 503",
    }),
    "06 serverless": (serverless_panel, {
        "provisioned": lambda v, _: f"({v} provisioned)" if v else None,
    }),
    "07 choosing": (choosing_panel, {
        "memory_mb": lambda v, _: f"{v} MB",
        "isolation": lambda v, _: f"isolation: {v}",
        "peak_to_mean": lambda v, _: f"peak × {v:g}",
        "long_running": lambda v, _: "long-running" if v else None,
    }),
}


@pytest.mark.parametrize("name", sorted(PANELS))
def test_every_setting_redraws_the_whole_picture(name: str) -> None:
    make, labels = PANELS[name]
    panel = make()
    problems: list[str] = []
    for control, value in settings(panel):
        where = f"{name}, {control} = {value!r}"
        assert "Traceback" not in panel.status.value
        if panel.status.value:  # an extreme the model refuses: explained, the last picture kept
            continue
        assert_shows_the_still(panel)
        problems += [f"{where}: {problem}" for problem in data_outside_axes_at_every_step(panel, every=6)]
        expected = labels.get(control, lambda *_: None)(value, panel.values())
        if expected is not None:
            shown = figure_texts(panel.figure) + "\n" + panel.summary.value
            if expected not in shown:
                problems.append(f"{where}: no label says {expected!r}")
    assert not problems, "\n".join(problems)


def test_the_summary_answers_in_one_line() -> None:
    for name, (make, _labels) in PANELS.items():
        panel = make()
        if name in ("02 packing", "07 choosing"):  # a title and the caption already say it all
            continue
        assert panel.summary.value.startswith("<b>This run:</b>"), name
        assert "<br>" not in panel.summary.value and "\n" not in panel.summary.value, name
