"""A ``FigureWidget`` drawn with the plotly.js the page already has, and nothing sent back after a change.

plotly's ``FigureWidget`` is an anywidget whose browser code (``_esm``, about 5 MB) is plotly.js bundled with
the widget. Every page that showed a live figure received those 5 MB in the widget's state and parsed and ran
a second copy of plotly.js (JupyterLab's plotly renderer, which draws the lesson's other figures, holds the
first): about 0.6 s of the page's main thread, and 0.1 to 0.2 s more to receive and collect the message,
measured in CPU profiles of Run all (``python3 course.py bench browser``). After every change, plotly's widget
also merged plotly's computed defaults into a "delta" and sent it to the kernel.

:func:`live_figure` keeps plotly's Python side unchanged (the figure, ``batch_update``, the ``_py2js_*``
messages the kernel sends) and gives it a small browser side of its own (``_live_figure.js``): it takes
plotly.js from JupyterLab's renderer when that is the kernel's version, asks the kernel for the kernel's own
``plotly.min.js`` otherwise (once per page, as a binary message: another front end), coalesces the
messages that arrive within one frame into one ``Plotly.react``, refits the figure when its cell's width
changes, and sends nothing back. What the kernel's ``figure.data`` and ``figure.layout`` say is what is drawn;
plotly.js's computed defaults (an autorange's values, say) are not copied back into them.

It also sends each change as one message where plotly's widget sends four: plotly sets two edit counters
(``_last_trace_edit_id``, ``_last_layout_edit_id``), then the ``_py2js_*`` message, then ``None`` in its place, and
each assignment of a synced trait is a message of its own. The page side reads neither the counters nor the
``None``, so they are not sent (:data:`UNSENT`, :data:`NUMBERED`). Measured in lesson 01's first change in
JupyterLab, with the frames' times from Chromium's network log: the figure's message came about 3 ms after the
first counter's, and the ``None`` 1.5 to 2.5 ms after it, each one also decoded and applied by the page's widget
manager.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import plotly.graph_objects as go

__all__ = ["live_figure"]

#: What the browser sends to ask for the kernel's plotly.js, and the kernel's answer.
ASK, ANSWER = "plotly.js?", "plotly.js"

#: Synced traits that the page side never reads: plotly's edit counters (they are in each message too).
UNSENT = frozenset({"_last_trace_edit_id", "_last_layout_edit_id"})
#: The messages whose ``None`` (plotly's "sent") need not follow them: each carries an edit counter, so no two
#: are equal and the page sees every one as a change. A move or a removal of properties carries none, and two
#: equal ones in a row would look like no change without the ``None`` between them.
NUMBERED = frozenset({"_py2js_update", "_py2js_relayout", "_py2js_restyle", "_py2js_addTraces",
                      "_py2js_animate", "_py2js_deleteTraces"})


@functools.cache
def _esm() -> str:
    return resources.files("labsupport.views").joinpath("_live_figure.js").read_text(encoding="utf-8")


def _plotly_version() -> str:
    from plotly.offline import get_plotlyjs_version

    return str(get_plotlyjs_version())


@functools.cache
def _plotly_js() -> bytes:
    """The kernel's plotly.js (what ``plotly.offline`` embeds in HTML), read the first time a page asks."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).encode("utf-8")


def _answer(widget: Any, content: Any, buffers: Any) -> None:
    """Send the kernel's plotly.js to a page that asked for it (and ignore any other message)."""
    if isinstance(content, dict) and content.get("type") == ASK:
        widget.send({"type": ANSWER}, buffers=[_plotly_js()])


@functools.cache
def _widget_class() -> type:
    import traitlets

    class LiveFigure(go.FigureWidget):  # type: ignore[misc]  # plotly's classes have no annotations
        _esm = _esm()
        _plotly_version = traitlets.Unicode(_plotly_version()).tag(sync=True)

        def _should_send_property(self, key: str, value: Any) -> bool:
            if key in UNSENT or (value is None and key in NUMBERED):
                return False
            return bool(super()._should_send_property(key, value))

    return LiveFigure


def live_figure(figure: go.Figure | dict[str, Any]) -> go.FigureWidget:
    """A ``FigureWidget`` of ``figure``, drawn in the browser with the page's own plotly.js."""
    widget: go.FigureWidget = _widget_class()(figure)
    widget.on_msg(_answer)
    return widget
