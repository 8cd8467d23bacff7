"""Every live panel's tick labels and axis titles stay readable at every slider's two ends, drawn by plotly.js.

The course's axes draw with ``ticklabeloverflow="allow"`` (``views/_style.py``): plotly.js does not measure each
label at each redraw to hide the ones that would leave the figure, because the margins must keep them all in.
This checks that they do, and that no axis title lies over its axis' labels (the outlier panel's pool axis has a
fixed margin, not plotly's automargin), for each panel at both ends of each slider and at two figure widths
(plotly's default 700 px, as in a narrow JupyterLab, and 1100 px).
"""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as widgets
import pytest
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder

from tests.views.test_controls import PANELS

pytestmark = pytest.mark.browser

#: Draws a figure at a width; returns what lies outside the figure and which titles cover their labels.
_CHECK = """async ([figure, width]) => {
  document.body.innerHTML = '';
  const gd = document.body.appendChild(document.createElement('div'));
  gd.style.width = width + 'px';
  await Plotly.newPlot(gd, figure.data, figure.layout, {displayModeBar: false});
  const box = gd.querySelector('.main-svg').getBoundingClientRect();
  const labels = {}, outside = [], covered = [];
  for (const text of gd.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text')) {
    if (!text.textContent || getComputedStyle(text).display === 'none') continue;
    const r = text.getBoundingClientRect(), axis = text.parentNode.getAttribute('class').replace('tick', '');
    (labels[axis] ??= []).push(r);
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
      outside.push(`${axis} '${text.textContent}'`);
  }
  for (const title of gd.querySelectorAll('[class^="g-"][class$="title"] text')) {
    const axis = title.parentNode.getAttribute('class').slice(2, -5), t = title.getBoundingClientRect();
    const hits = (labels[axis] || []).filter((r) => r.left < t.right - 1 && t.left < r.right - 1
                                                   && r.top < t.bottom - 1 && t.top < r.bottom - 1);
    if (hits.length) covered.push(`${axis} title '${title.textContent}'`);
  }
  return {outside, covered, labels: Object.values(labels).flat().length};
}"""


def _figure(panel: Any) -> dict[str, Any]:
    return json.loads(json.dumps(panel.figure.to_plotly_json(), cls=PlotlyJSONEncoder))


@pytest.fixture(scope="module")
def plot_page(browser_only: Any) -> Any:
    page = browser_only.new_page(viewport={"width": 1300, "height": 1000})
    page.set_content("<!doctype html><html><body style='margin:0'></body></html>")
    page.add_script_tag(content=get_plotlyjs())
    yield page
    page.close()


@pytest.mark.parametrize("make", PANELS, ids=[make.__name__ for make in PANELS])
def test_tick_labels_stay_in_the_figure_and_clear_of_axis_titles(plot_page: Any, make: Any) -> None:
    panel = make()
    problems: list[str] = []
    checked = 0
    sliders = [(name, c) for name, c in panel.controls.items()
               if isinstance(c, widgets.IntSlider | widgets.FloatSlider | widgets.FloatLogSlider)]
    for name, control in [("default", None), *[(f"{n}={end}", (c, end)) for n, c in sliders for end in ("min", "max")]]:
        if control is not None:
            widget, end = control
            widget.value = widget.base ** getattr(widget, end) if hasattr(widget, "base") else getattr(widget, end)
        figure = _figure(panel)
        for width in (700, 1100):
            found = plot_page.evaluate(_CHECK, [figure, width])
            checked += found["labels"]
            problems += [f"{name} at {width} px: {what} leaves the figure" for what in found["outside"]]
            problems += [f"{name} at {width} px: the {what} covers its labels" for what in found["covered"]]
    assert checked > 0  # the panel's axes have labels, and they were found
    assert problems == []
