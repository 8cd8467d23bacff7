"""plotly.js's own share of a control change: ``python3 course.py bench draw [00 04 ...]``.

For each lesson's live panel, the update the kernel sends for one step of the panel's first slider (the step the
browser benchmark presses) is captured in Python, as plotly's ``FigureWidget`` would send it, and replayed with
``Plotly.update``, the call plotly's widget makes with it, in headless Chromium on an empty page: no JupyterLab,
no kernel, no messages. A data change makes plotly.js redraw the whole figure (its ``restyle`` turns a ``calc``
edit into a full replot), so this is the floor under the browser benchmark's "first change": what is left of
its 100 ms goal for the kernel, the messages and JupyterLab. Both directions of the step are replayed in turn;
the median and the fastest of 20 are printed, with the first draw (``Plotly.newPlot``) of the same figure.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import Row  # noqa: E402

EXPLICIT = True  # bench.py runs it only when named: it starts Chromium

#: Replays the captured updates on a fresh plot: [newPlot ms, median update ms, fastest update ms].
_REPLAY = """async ([figure, forth, back, rounds]) => {
  const restore = (v) => v === '_undefined_' ? undefined : Array.isArray(v) ? v.map(restore)
    : (v && typeof v === 'object') ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, restore(x)])) : v;
  document.body.innerHTML = '';
  const plot = document.body.appendChild(document.createElement('div'));
  let start = performance.now();
  await Plotly.newPlot(plot, restore(figure.data), restore(figure.layout), {displaylogo: false});
  const first = performance.now() - start, times = [];
  for (let i = 0; i < rounds; i++) {
    for (const update of [forth, back]) {
      start = performance.now();
      await Plotly.update(plot, restore(update.style), restore(update.layout), update.traces);
      times.push(performance.now() - start);
    }
  }
  times.sort((a, b) => a - b);
  return [first, times[Math.floor(times.length / 2)], times[0]];
}"""


def _panels() -> dict[str, Any]:
    from labsupport.views.choosing import choosing_panel
    from labsupport.views.containers import containers_panel
    from labsupport.views.kubernetes import kubernetes_panel
    from labsupport.views.mesh import outlier_panel
    from labsupport.views.overview import overview_panel
    from labsupport.views.packaging import packaging_panel
    from labsupport.views.serverless import serverless_panel
    from labsupport.views.vm import packing_panel

    # each lesson's last live panel: the one the browser benchmark presses
    return {"00": overview_panel, "01": packaging_panel, "02": packing_panel, "03": containers_panel,
            "04": kubernetes_panel, "05": outlier_panel, "06": serverless_panel, "07": choosing_panel}


def _browser_safe(value: Any) -> Any:
    """plotly's ``Undefined`` (leave as is) as the marker the page turns back into ``undefined``."""
    if isinstance(value, dict):
        return {k: _browser_safe(v) for k, v in value.items() if type(v) is not object}
    if isinstance(value, (list, tuple)):
        return ["_undefined_" if type(v) is object else _browser_safe(v) for v in value]
    return value


def _one_step(widget: Any) -> tuple[Any, Any]:
    """The first slider's value now and one keyboard step away, towards the end with more room."""
    if hasattr(widget, "base"):  # a log slider steps its exponent
        exponent = math.log(widget.value, widget.base)
        step = widget.step if widget.max - exponent >= exponent - widget.min else -widget.step
        return widget.value, widget.base ** (exponent + step)
    step = widget.step if widget.max - widget.value >= widget.value - widget.min else -widget.step
    return widget.value, widget.value + step


def capture(factory: Any) -> dict[str, Any]:
    """The panel's figure and the updates it sends for one step of its first slider, there and back."""
    from plotly.utils import PlotlyJSONEncoder

    panel = factory()
    figure = panel.figure
    sent: list[dict[str, Any]] = []

    def keep(restyle_data: Any, relayout_data: Any, trace_indexes: Any = None, source_view_id: Any = None) -> None:
        sent.append({"style": restyle_data, "layout": relayout_data, "traces": trace_indexes})

    shown = json.loads(json.dumps(_browser_safe({"data": figure._data, "layout": figure._layout}), cls=PlotlyJSONEncoder))
    figure._send_update_msg = keep
    name, widget = next((n, c) for n, c in panel.controls.items() if type(c).__name__.endswith("Slider"))
    now, other = _one_step(widget)
    widget.value = other
    widget.value = now
    if len(sent) != 2:
        raise RuntimeError(f"{name}: expected one update each way, the panel sent {len(sent)}")
    forth, back = (json.loads(json.dumps(_browser_safe(u), cls=PlotlyJSONEncoder)) for u in sent)
    return {"figure": shown, "forth": forth, "back": back, "control": getattr(widget, "description", name)}


def rows(lessons: list[str] | None = None) -> list[Row]:
    import plotly

    from tests.browser.lab import chromium, missing

    reason = missing()
    if reason:
        print(f"draw benchmark skipped: {reason}")
        return []
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    out: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-draw-") as profile, chromium(Path(profile)) as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_content("<!doctype html><html><body></body></html>")
        page.add_script_tag(path=str(plotly_js))
        for lesson, factory in _panels().items():
            if lessons and lesson not in lessons:
                continue
            case = capture(factory)
            first, median, fastest = page.evaluate(_REPLAY, [case["figure"], case["forth"], case["back"], 10])
            out.append(Row(f"{lesson} {factory.__name__}, one '{case['control']}' step", median, "ms",
                           f"fastest {fastest:.1f}; first draw {first:.0f} ms"))
    return out


def main(argv: list[str]) -> int:
    print(f"{'measure':58} {'median':>10} unit")
    for row in rows(argv):
        print(row.line(), flush=True)
    return 0
