"""The live figure's browser side (``labsupport/views/_live_figure.js``) on an empty page, with a stand-in widget
model: where it takes plotly.js from, how it draws the kernel's messages, and that it sends nothing back.

The lessons' own live panels, in real JupyterLab and Voilà, are checked by ``test_lessons_in_lab.py`` and
``test_publish_offline.py``; this file pins the message handling that those only see through a slider.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from labsupport.views._figure_widget import ANSWER, ASK, _esm

pytestmark = pytest.mark.browser

#: A stand-in for anywidget's model (get, on, off, send) whose state the test sets, and the module, imported.
_SETUP = """async ([esm, state, hidden]) => {
  const handlers = {};
  const model = window.model = {
    state, sent: [],
    get: (key) => model.state[key],
    on: (event, f) => (handlers[event] ??= []).push(f),
    off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
    send: (message) => model.sent.push(message),
    set(key, value) { model.state[key] = value; (handlers['change:' + key] || []).forEach((f) => f()); },
    emit(event, ...args) { (handlers[event] || []).forEach((f) => f(...args)); },
  };
  const url = URL.createObjectURL(new Blob([esm], {type: 'text/javascript'}));
  const widget = (await import(url)).default();
  widget.initialize({model});
  const el = document.createElement('div');
  el.style.width = '600px';
  if (hidden) el.style.display = 'none';  // as a cell JupyterLab has not laid out: no width, no resize events
  document.body.appendChild(el);
  window.rendering = widget.render({model, el});
}"""
#: JupyterLab's plotly renderer as the page's module federation shows it, with ``Plotly`` counting its reacts.
_JUPYTERLAB = """(version) => {
  window.reacts = 0;
  const Plotly = window.Plotly && version === window.Plotly.version
    ? Object.assign(Object.create(window.Plotly), {react: (...args) => { window.reacts += 1; return window.Plotly.react(...args); }})
    : {version};
  window._JUPYTERLAB = {'jupyterlab-plotly': {get: async () => () => ({RenderedPlotly: {Plotly}})}};
}"""
_ARRAY = "(values) => ({dtype: 'float64', shape: [values.length], buffer: new DataView(new Float64Array(values).buffer)})"


def _state(version: str) -> dict[str, Any]:
    return {"_plotly_version": version, "_config": {"displayModeBar": False},
            "_widget_data": [{"type": "scatter", "mode": "lines", "uid": "a", "x": [0, 1, 2], "y": [1, 2, 3]},
                             {"type": "scatter", "mode": "markers", "uid": "b", "x": [0, 1, 2], "y": [3, 2, 1]}],
            "_widget_layout": {"height": 300, "title": {"text": "before"}}}


@pytest.fixture
def page(browser_only: Any, tmp_path: Path) -> Iterator[Any]:
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    page = browser_only.new_page(viewport={"width": 800, "height": 600})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(blank.as_uri())
    try:
        yield page
        assert not errors, errors
    finally:
        page.close()


def _drawn(page: Any, traces: int) -> None:
    page.wait_for_function("(n) => document.querySelectorAll('.labsupport-live-figure .trace').length === n",
                           arg=traces, timeout=30_000)


def test_it_draws_with_jupyterlabs_plotly_and_coalesces_the_kernels_messages(page: Any) -> None:
    page.add_script_tag(content=get_plotlyjs())
    page.evaluate(_JUPYTERLAB, get_plotlyjs_version())
    page.evaluate(_SETUP, [_esm(), _state(get_plotlyjs_version())])
    _drawn(page, 2)
    assert page.evaluate("globalThis.__labsupportPlotly.get(model.get('_plotly_version')).then((p) => p.source)") \
        == "jupyterlab-plotly"
    assert page.evaluate("window.reacts") == 1
    # three messages within one frame, as the kernel sends them (no null after a numbered message: see
    # _figure_widget.NUMBERED), and a null, as it still follows a move of traces, which changes nothing
    page.evaluate(f"""() => {{
      const array = {_ARRAY};
      model.set('_py2js_update', {{style_data: {{y: [array([5, 6, 7])]}}, style_traces: [1],
                                   layout_data: {{'title.text': 'after'}}, trace_edit_id: 1, layout_edit_id: 1}});
      model.set('_py2js_restyle', {{restyle_data: {{'line.width': 4}}, restyle_traces: null, trace_edit_id: 2}});
      model.set('_py2js_relayout', {{relayout_data: {{'xaxis.range': [0, 10], 'annotations[0].text': 'note'}},
                                     layout_edit_id: 3}});
      model.set('_py2js_moveTraces', null);
    }}""")
    page.wait_for_function("document.querySelector('.gtitle') && document.querySelector('.gtitle').textContent === 'after'",
                           timeout=10_000)
    page.wait_for_timeout(200)  # any further frame would have drawn by now
    gd = page.evaluate("""() => { const gd = document.querySelector('.labsupport-live-figure');
      return {y0: Array.from(gd.data[0].y), y1: Array.from(gd.data[1].y), widths: gd.data.map((t) => t.line.width),
              range: gd.layout.xaxis.range, note: gd.layout.annotations[0].text, height: gd._fullLayout.height}; }""")
    assert gd == {"y0": [1, 2, 3], "y1": [5, 6, 7], "widths": [4, 4], "range": [0, 10], "note": "note", "height": 300}
    assert page.evaluate("window.reacts") == 2  # the three messages became one redraw
    assert page.evaluate("model.sent") == []  # nothing goes back to the kernel


def test_it_asks_the_kernel_for_plotly_when_the_pages_is_another_version(page: Any) -> None:
    page.evaluate(_JUPYTERLAB, "0.0.1")  # JupyterLab's renderer has another plotly.js
    page.evaluate(_SETUP, [_esm(), _state(get_plotlyjs_version())])
    page.wait_for_function("model.sent.length === 1", timeout=10_000)
    assert page.evaluate("model.sent") == [{"type": ASK}]
    code = base64.b64encode(get_plotlyjs().encode()).decode()
    page.evaluate("""([answer, code]) => { const bytes = Uint8Array.from(atob(code), (c) => c.charCodeAt(0));
      model.emit('msg:custom', {type: 'something else'}, []);
      model.emit('msg:custom', {type: answer}, [new DataView(bytes.buffer)]); }""", [ANSWER, code])
    _drawn(page, 2)
    assert page.evaluate("globalThis.__labsupportPlotly.get(model.get('_plotly_version')).then((p) => p.source)") \
        == "kernel"
    assert page.evaluate("model.sent.length") == 1  # asked once; the answer is kept for the page's other figures


def test_an_animate_message_sets_each_named_trace_and_the_layout(page: Any) -> None:
    """``batch_animate``'s message holds one dict of changes per animated trace (no lesson sends one yet)."""
    page.add_script_tag(content=get_plotlyjs())
    page.evaluate(_JUPYTERLAB, get_plotlyjs_version())
    page.evaluate(_SETUP, [_esm(), _state(get_plotlyjs_version())])
    _drawn(page, 2)
    page.evaluate(f"""() => {{ const array = {_ARRAY};
      model.set('_py2js_animate', {{style_data: [{{y: array([9, 9, 9]), 'marker.size': 12}}], style_traces: [1],
                                    layout_data: {{'title.text': 'animated'}}, animation_opts: {{}}}});
      model.set('_py2js_animate', null); }}""")
    page.wait_for_function("document.querySelector('.gtitle').textContent === 'animated'", timeout=10_000)
    gd = page.evaluate("""() => { const gd = document.querySelector('.labsupport-live-figure');
      return {y0: Array.from(gd.data[0].y), y1: Array.from(gd.data[1].y), size: gd.data[1].marker.size}; }""")
    assert gd == {"y0": [1, 2, 3], "y1": [9, 9, 9], "size": 12}


def test_it_draws_before_its_element_has_a_width_and_refits_once_it_has_one(page: Any) -> None:
    """An output JupyterLab has not laid out yet (off the screen, say) has no width: the figure draws at once all the
    same, at plotly's default width, rather than staying blank until the learner scrolls to it."""
    page.add_script_tag(content=get_plotlyjs())
    page.evaluate(_JUPYTERLAB, get_plotlyjs_version())
    page.evaluate(_SETUP, [_esm(), _state(get_plotlyjs_version()), True])
    _drawn(page, 2)
    width = "document.querySelector('.labsupport-live-figure')._fullLayout.width"
    assert page.evaluate(width) == 700  # plotly's default width
    assert page.evaluate("window.reacts") == 1
    page.evaluate("document.querySelector('.labsupport-live-figure').parentElement.style.display = ''")
    page.wait_for_function(f"{width} === 600", timeout=10_000)
