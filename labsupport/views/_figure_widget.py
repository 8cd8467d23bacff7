"""A ``FigureWidget`` whose browser code is loaded once per page, not once per figure.

plotly's ``FigureWidget`` is an anywidget: its browser code (plotly.js and the widget, about 5 MB) travels in
every widget's state as the ``_esm`` text, and anywidget turns that text into a module with
``import(URL.createObjectURL(blob))``, a new URL each time, so the browser parses and runs the 5 MB again for
every live figure (about 0.5 s each here: a lesson with two live panels paid it twice before its last figure
showed). :func:`live_figure` makes the same widget with a small ``_esm`` that keeps the module, once loaded, on
the page (keyed by a digest of the code, so two plotly versions never mix) and hands each figure its own
instance of plotly's widget, exactly as plotly's own module would. The code still travels in each widget's
state (``_bundle``), so a figure restored alone (a reloaded page, a saved notebook, Voilà) draws as before.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import plotly.graph_objects as go

__all__ = ["live_figure"]

#: Loads plotly's widget module once per page (``globalThis``, keyed by the code's digest) and gives every
#: figure a fresh copy of plotly's widget lifecycle from it (plotly's default export makes one per call).
_SHARED_ESM = """
const loaded = (globalThis.__labsupportPlotlyWidget ??= new Map());
function plotlyWidget(model) {
  const key = model.get("_bundle_key");
  if (!loaded.has(key)) {
    const url = URL.createObjectURL(new Blob([model.get("_bundle")], { type: "text/javascript" }));
    const module = import(/* webpackIgnore: true */ url);
    module.finally(() => URL.revokeObjectURL(url));
    loaded.set(key, module.catch((error) => { loaded.delete(key); throw error; }));
  }
  return loaded.get(key);
}
export default () => {
  let figure = null;
  return {
    async initialize(context) {
      figure = (await plotlyWidget(context.model)).default();
      return figure.initialize?.(context);
    },
    render(context) {
      return figure.render(context);
    },
  };
};
"""


@functools.cache
def _bundle() -> tuple[str, str]:
    """plotly's widget code (what ``FigureWidget._esm`` holds) and its digest."""
    code = str(go.FigureWidget._esm)
    return code, hashlib.sha256(code.encode()).hexdigest()[:16]


@functools.cache
def _widget_class() -> type:
    import traitlets

    code, key = _bundle()

    class LiveFigure(go.FigureWidget):  # type: ignore[misc]  # plotly's classes have no annotations
        _esm = _SHARED_ESM
        _bundle = traitlets.Unicode(code).tag(sync=True)
        _bundle_key = traitlets.Unicode(key).tag(sync=True)

    return LiveFigure


def live_figure(figure: go.Figure | dict[str, Any]) -> go.FigureWidget:
    """A ``FigureWidget`` of ``figure`` that shares one copy of plotly's browser code with the page's others."""
    widget: go.FigureWidget = _widget_class()(figure)
    return widget
