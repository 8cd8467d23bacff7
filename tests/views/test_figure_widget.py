"""The live figure: plotly's FigureWidget with a small browser side of the course's own (views/_figure_widget.py).

Its page side is checked in a browser: on an empty page with a stand-in model (tests/browser/test_live_figure_page.py)
and in every lesson in real JupyterLab (tests/browser/test_lessons_in_lab.py). Here, what the kernel sends.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from labsupport.views._figure_widget import ANSWER, ASK, NUMBERED, UNSENT, live_figure


def _figure() -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[3, 1, 2], name="requests"), layout={"title": {"text": "a"}})


def _messages(widget: go.FigureWidget) -> list[dict[str, object]]:
    """The state each message the widget sends from now on carries ({trait: value})."""
    sent: list[dict[str, object]] = []
    widget._send = lambda msg, buffers=None: sent.append(msg.get("state", {}))  # type: ignore[method-assign]
    return sent


def _changes(widget: go.FigureWidget) -> None:
    """One data change, one batch of data and layout, one layout change, one move of traces."""
    widget.data[0].y = [1, 1, 1]
    with widget.batch_update():
        widget.data[0].x = [5, 6, 7]
        widget.layout.title.text = "b"
    widget.layout.height = 300
    widget.add_trace(go.Scatter(x=[0], y=[0], name="second"))
    widget.data = widget.data[::-1]


def test_each_change_is_one_message_without_plotlys_edit_counters_or_its_null() -> None:
    widget = live_figure(_figure())
    sent = _messages(widget)
    _changes(widget)
    assert [list(state) for state in sent] == [["_py2js_restyle"], ["_py2js_update"], ["_py2js_relayout"],
                                               ["_py2js_addTraces"], ["_py2js_moveTraces"], ["_py2js_moveTraces"]]
    assert sent[1]["_py2js_update"]["layout_data"] == {"title.text": "b"}  # type: ignore[index]
    # each numbered message carries its own counters, so no two are equal and the page sees each as a change
    ids = [(state[key].get("trace_edit_id"), state[key].get("layout_edit_id"))  # type: ignore[attr-defined]
           for state in sent[:4] for key in state]
    assert len(set(ids)) == 4
    assert sent[-1] == {"_py2js_moveTraces": None}  # a move carries no counter: its null still follows it
    assert list(widget.data[0].y) == [0] and widget.layout.height == 300  # the figure itself is unchanged


def test_plotlys_own_widget_sends_four_messages_for_the_same_changes() -> None:
    widget = go.FigureWidget(_figure())
    sent = _messages(widget)
    _changes(widget)
    keys = [key for state in sent for key in state]
    assert set(UNSENT) <= set(keys) and any(state.get(k, 0) is None for state in sent for k in NUMBERED)
    assert len(sent) > 6


def test_a_live_figure_is_a_figure_widget_of_the_figure() -> None:
    widget = live_figure(_figure())
    assert isinstance(widget, go.FigureWidget)
    assert list(widget.data[0].y) == [3, 1, 2]
    assert widget.layout.title.text == "a"
    widget.data[0].y = [1, 1, 1]  # updates go through plotly's own machinery, unchanged
    assert list(widget.data[0].y) == [1, 1, 1]


def test_its_state_carries_no_plotly_js_only_its_version() -> None:
    state = live_figure(_figure()).get_state()
    assert state["_plotly_version"] == get_plotlyjs_version()
    assert len(state["_esm"]) < 20_000  # plotly's own widget code is about 5 MB
    assert "globalThis.__labsupportPlotly" in state["_esm"] and '"jupyterlab-plotly"' in state["_esm"]
    assert len(str(go.FigureWidget._esm)) > 1_000_000 and state["_esm"] != str(go.FigureWidget._esm)


def test_the_kernel_sends_its_plotly_js_when_the_page_asks_and_only_then() -> None:
    widget = live_figure(_figure())
    sent: list[tuple[object, object]] = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    for message in ({"type": "something else"}, ["not", "a", "dict"], None):
        widget._handle_custom_msg(message, [])
    assert sent == []
    widget._handle_custom_msg({"type": ASK}, [])
    assert len(sent) == 1
    content, buffers = sent[0]
    assert content == {"type": ANSWER}
    assert isinstance(buffers, list) and len(buffers) == 1 and bytes(buffers[0]) == get_plotlyjs().encode()
