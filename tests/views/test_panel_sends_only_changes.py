"""A live panel sends the browser only what changed, numbers as numpy arrays (binary typed arrays on the wire)."""

from __future__ import annotations

from typing import Any

import numpy as np
from plotly.basedatatypes import Undefined

from labsupport.views._scene import widget_safe
from labsupport.views.kubernetes import kubernetes_panel


def _updates(panel: Any) -> list[dict[str, Any]]:
    """Every Plotly.update message the panel's figure sends from now on."""
    sent: list[dict[str, Any]] = []
    panel.figure.observe(lambda change: change["new"] and sent.append(change["new"]), names="_py2js_update")
    return sent


def test_redrawing_the_same_step_sends_nothing() -> None:
    panel = kubernetes_panel()
    sent = _updates(panel)
    panel.show(panel.step)
    assert sent == []


def test_a_time_step_sends_only_the_traces_that_moved_as_arrays() -> None:
    panel = kubernetes_panel()
    sent = _updates(panel)
    panel.show(panel.step + 1)
    assert len(sent) == 1
    names = [panel.figure.data[i].name for i in sent[0]["style_traces"]]
    assert names == ["desired", "existing", "ready", "ready v2", "now"]  # the lines over time grow; nodes stay
    assert sorted(sent[0]["style_data"]) == ["x", "y"]
    sent_values = [v for values in sent[0]["style_data"].values() for v in values if v is not Undefined]
    assert len(sent_values) == 9  # the cursor's height did not change: left undefined, not sent
    assert all(isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in sent_values)
    assert list(sent[0]["layout_data"]) == ["title.text"]


def test_after_a_rerun_the_widget_still_shows_exactly_the_new_trace() -> None:
    panel = kubernetes_panel()
    panel.controls["replicas"].value = 7
    shown = panel.figure.data[panel.keys.index("existing")].y
    assert np.array_equal(shown, panel.trace.series["pods"][: panel.step + 1])
    panel.controls["replicas"].value = 4
    assert np.array_equal(panel.figure.data[panel.keys.index("existing")].y,
                          panel.trace.series["pods"][: panel.step + 1])


def test_integer_coordinates_go_as_floats_and_other_arrays_as_lists() -> None:
    safe = widget_safe({"x": np.arange(3), "text": np.array(["a", "b"], dtype=object),
                        "marker": {"symbol": np.array([1, 2]), "size": np.array([4, 5])}})
    assert safe["x"].dtype == float and safe["marker"]["size"].dtype == float
    assert safe["text"] == ["a", "b"] and safe["marker"]["symbol"] == [1, 2]
