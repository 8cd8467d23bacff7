"""The live figure: plotly's FigureWidget with its browser code loaded once per page (views/_figure_widget.py).

The page side (one module however many live figures a lesson shows) is checked in real JupyterLab by
tests/browser/test_lessons_in_lab.py; here, what the kernel sends.
"""

from __future__ import annotations

import hashlib

import plotly.graph_objects as go

from labsupport.views._figure_widget import live_figure


def _figure() -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[3, 1, 2], name="requests"), layout={"title": {"text": "a"}})


def test_a_live_figure_is_a_figure_widget_of_the_figure() -> None:
    widget = live_figure(_figure())
    assert isinstance(widget, go.FigureWidget)
    assert list(widget.data[0].y) == [3, 1, 2]
    assert widget.layout.title.text == "a"
    widget.data[0].y = [1, 1, 1]  # updates go through plotly's own machinery, unchanged
    assert list(widget.data[0].y) == [1, 1, 1]


def test_its_state_carries_plotlys_code_once_and_a_small_loader() -> None:
    state = live_figure(_figure()).get_state()
    plotly_code = str(go.FigureWidget._esm)
    assert len(plotly_code) > 1_000_000  # plotly.js and the widget
    assert state["_bundle"] == plotly_code  # a figure restored alone can still load it
    assert state["_bundle_key"] == hashlib.sha256(plotly_code.encode()).hexdigest()[:16]
    assert len(state["_esm"]) < 3_000
    assert "globalThis.__labsupportPlotlyWidget" in state["_esm"] and "_bundle_key" in state["_esm"]
    assert plotly_code not in state["_esm"]


def test_every_live_figure_names_the_same_module() -> None:
    first, second = live_figure(_figure()).get_state(), live_figure(go.Figure()).get_state()
    assert first["_bundle_key"] == second["_bundle_key"]
    assert first["_esm"] == second["_esm"]
