// The browser side of a live figure (labsupport/views/_figure_widget.py): a plotly FigureWidget drawn with the
// plotly.js that the page already has.
//
// plotly's own widget code carries a second copy of plotly.js (5 MB) that every page had to parse and run
// again, and after every change it sent the kernel a "delta" of plotly's computed defaults. This module is
// small: it takes plotly.js from JupyterLab's plotly renderer (the jupyterlab-plotly extension, which draws
// the lesson's other figures) when that is the same version as the kernel's, and otherwise asks the kernel
// for its own copy, once per page. It draws the kernel's messages (_py2js_update, _restyle, _relayout, ...)
// the way plotly's widget does, but coalesced: all messages that arrive before the next frame is painted
// become one Plotly.react, and nothing is sent back.

const MIME = "application/vnd.plotly.v1+json";
const TYPES = {
  int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
  uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};
/** plotly.js by version, once per page: a promise of {Plotly, source}. */
const found = (globalThis.__labsupportPlotly ??= new Map());

/** The kernel's values with numpy arrays (sent as binary buffers) made typed arrays. */
function typed(value) {
  if (Array.isArray(value)) return value.map(typed);
  if (value === "_undefined_") return undefined;
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  const view = value.buffer ?? value.value;
  if (value.dtype in TYPES && Array.isArray(value.shape) && ArrayBuffer.isView(view)) {
    const Type = TYPES[value.dtype];
    const flat = view.byteOffset % Type.BYTES_PER_ELEMENT === 0
      ? new Type(view.buffer, view.byteOffset, view.byteLength / Type.BYTES_PER_ELEMENT)
      : new Type(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));  // a typed array must be aligned
    if (value.shape.length <= 1) return flat;
    const width = value.shape[value.shape.length - 1];
    return Array.from({ length: flat.length / width }, (_, row) => flat.subarray(row * width, (row + 1) * width));
  }
  const out = {};
  for (const key of Object.keys(value)) out[key] = typed(value[key]);
  return out;
}

/** "marker.color", "annotations[1].text" or "annotations.1.text" as a list of keys. */
const pathOf = (key) => String(key).split(/[.[\]]+/).filter((part) => part !== "").map((part) => (/^\d+$/.test(part) ? Number(part) : part));

/** A copy of ``object`` with ``path`` set to ``value`` (removed when null): the objects on the path are new,
 * everything else is shared, so Plotly.react sees exactly what changed. */
function withPath(object, path, value) {
  const [key, ...rest] = path;
  const copy = Array.isArray(object) ? object.slice() : { ...(object ?? {}) };
  if (rest.length) {
    copy[key] = withPath(copy[key] ?? (typeof rest[0] === "number" ? [] : {}), rest, value);
  } else if (value === null) {
    if (Array.isArray(copy)) copy[key] = undefined; else delete copy[key];
  } else if (value !== undefined) {
    copy[key] = value;
  }
  return copy;
}

function relayoutLike(layout, changes) {
  for (const [key, value] of Object.entries(changes ?? {})) layout = withPath(layout, pathOf(key), value);
  return layout;
}

/** The traces a message names: null for all of them, one index, or a list (as plotly's widget reads them). */
const traceIndexes = (traces, data) => (traces === null || traces === undefined ? data.map((_, i) => i) : [].concat(traces));

function restyleLike(data, changes, traces) {
  data = data.slice();
  const indexes = traceIndexes(traces, data);
  for (const [key, values] of Object.entries(changes ?? {})) {
    const list = Array.isArray(values) ? values : [values];
    indexes.forEach((index, i) => { data[index] = withPath(data[index], pathOf(key), list[i % list.length]); });
  }
  return data;
}

/** What each of the kernel's messages does to the figure {data, layout}. */
const APPLY = {
  _py2js_update: (f, m) => ({ data: restyleLike(f.data, m.style_data, m.style_traces),
                              layout: relayoutLike(f.layout, m.layout_data) }),
  _py2js_restyle: (f, m) => ({ ...f, data: restyleLike(f.data, m.restyle_data, m.restyle_traces) }),
  _py2js_relayout: (f, m) => ({ ...f, layout: relayoutLike(f.layout, m.relayout_data) }),
  _py2js_addTraces: (f, m) => ({ ...f, data: f.data.concat(m.trace_data) }),
  _py2js_deleteTraces: (f, m) => ({ ...f, data: f.data.filter((_, i) => !m.delete_inds.includes(i)) }),
  _py2js_moveTraces: (f, m) => {
    const moving = m.current_trace_inds.map((i) => f.data[i]);
    const rest = f.data.filter((_, i) => !m.current_trace_inds.includes(i));
    m.new_trace_inds.map((to, k) => [to, moving[k]]).sort((a, b) => a[0] - b[0])
      .forEach(([to, trace]) => rest.splice(to, 0, trace));
    return { ...f, data: rest };
  },
  // an animation's end state: one relayout-like dict of changes per animated trace
  _py2js_animate: (f, m) => {
    const data = f.data.slice();
    const indexes = traceIndexes(m.style_traces, data);
    (m.style_data ?? []).forEach((changes, i) => { data[indexes[i]] = relayoutLike(data[indexes[i]], changes); });
    return { data, layout: relayoutLike(f.layout, m.layout_data) };
  },
  _py2js_removeLayoutProps: (f, m) => ({ ...f, layout: m.remove_props.reduce((l, p) => withPath(l, [].concat(p).flatMap(pathOf), null), f.layout) }),
  _py2js_removeTraceProps: (f, m) => ({
    ...f, data: f.data.map((t, i) => (i !== m.remove_trace ? t : m.remove_props.reduce((u, p) => withPath(u, [].concat(p).flatMap(pathOf), null), t))),
  }),
};

/** JupyterLab's plotly.js (the renderer of the lesson's other figures), loaded by drawing an empty figure off
 * the page if no figure has loaded it yet; null when the page has no such renderer. */
async function fromJupyterLab() {
  const container = globalThis._JUPYTERLAB?.["jupyterlab-plotly"];
  if (!container) return null;
  const Renderer = (await container.get("./mimeExtension"))().RenderedPlotly;
  if (!Renderer) return null;
  if (!Renderer.Plotly) {
    const renderer = new Renderer({ mimeType: MIME });
    const host = document.createElement("div");  // no size: JupyterLab's renderer makes no PNG copy of it
    host.style.cssText = "position:fixed;left:-10000px;top:0;width:0;height:0;overflow:hidden";
    document.body.appendChild(host);
    host.appendChild(renderer.node);
    try {
      await renderer.renderModel({ data: { [MIME]: { data: [], layout: {} } }, metadata: {}, trusted: true, setData() {} });
    } finally {
      renderer.dispose?.();
      host.remove();
    }
  }
  return Renderer.Plotly ?? null;
}

/** The kernel's own plotly.js, sent once on request. */
function fromKernel(model) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { model.off("msg:custom", answer); reject(new Error("the kernel did not send plotly.js")); }, 120000);
    function answer(message, buffers) {
      if (message?.type !== "plotly.js") return;
      clearTimeout(timer);
      model.off("msg:custom", answer);
      const module = { exports: {} };
      new Function("module", "exports", "define", new TextDecoder().decode(buffers[0]))(module, module.exports, undefined);
      resolve(module.exports);
    }
    model.on("msg:custom", answer);
    model.send({ type: "plotly.js?" });
  });
}

function plotly(model) {
  const version = model.get("_plotly_version");
  if (!found.has(version)) {
    const loading = (async () => {
      let page = null;
      try { page = await fromJupyterLab(); } catch (error) { console.warn("labsupport: JupyterLab's plotly.js", error); }
      if (page?.version === version) return { Plotly: page, source: "jupyterlab-plotly" };
      return { Plotly: await fromKernel(model), source: "kernel" };
    })();
    found.set(version, loading.catch((error) => { found.delete(version); throw error; }));
  }
  return found.get(version);
}

export default () => {
  let figure = null;  // the figure as the kernel last described it: {data, layout}, shared by every view
  const views = new Set();
  return {
    initialize({ model }) {
      // the figure's data and layout come in the widget's state or, from plotly's constructor, just after it
      const whole = () => {
        figure = { data: typed(model.get("_widget_data")) ?? [], layout: typed(model.get("_widget_layout")) ?? {} };
        for (const view of views) view.request();
      };
      whole();
      model.on("change:_widget_data", whole);
      model.on("change:_widget_layout", whole);
      for (const name of Object.keys(APPLY)) {
        model.on(`change:${name}`, () => {
          const message = model.get(name);
          if (!message) return;  // the kernel sends each message, then null
          figure = APPLY[name](figure, typed(message));
          for (const view of views) view.request();
        });
      }
    },
    async render({ model, el }) {
      const div = document.createElement("div");
      div.className = "labsupport-live-figure";
      el.appendChild(div);
      // not plotly's "responsive", which refits on the window's resize only: the observer below refits on the cell's
      const config = { ...(model.get("_config") ?? {}), responsive: false, editSelection: false };
      let Plotly = null, frame = 0, drawing = Promise.resolve(), width = 0, drawn = false;
      const draw = () => {
        frame = 0;
        drawn = true;
        const layout = { height: 360, uirevision: "labsupport", ...figure.layout };
        drawing = drawing.then(() => Plotly.react(div, figure.data, layout, config)).catch((error) => console.error(error));
      };
      const view = { request() { if (Plotly && !frame) frame = requestAnimationFrame(draw); } };
      // plotly sizes an autosized figure from its element when it draws: refit it when the element's width changes
      // (a refit that fails, say while the cell is hidden, must not hold back the next drawing)
      const seen = new ResizeObserver(([entry]) => {
        const now = Math.round(entry.contentRect.width);
        if (!now || now === width) return;
        width = now;
        if (drawn) drawing = drawing.then(() => Plotly.Plots.resize(div)).catch(() => {});
      });
      try {
        ({ Plotly } = await plotly(model));
      } catch (error) {
        div.textContent = `This live figure could not load plotly.js (${error.message}); rerun the cell with the kernel running.`;
        return () => {};
      }
      views.add(view);
      // drawn now, even when the cell is off the screen or not laid out yet: JupyterLab may not lay out, nor report
      // the size of, what is off the screen until it is scrolled to, and a figure waiting for a width would stay
      // blank. Without a width plotly draws at its default one; the observer refits it once the width is known.
      width = Math.round(el.getBoundingClientRect().width);
      view.request();
      seen.observe(el);
      return () => { views.delete(view); seen.disconnect(); if (frame) cancelAnimationFrame(frame); Plotly.purge(div); };
    },
  };
};
