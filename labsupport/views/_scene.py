"""From a trace to pictures: an animation that plays with no kernel, and a live panel that reruns the model.

A :class:`Scene` knows how to draw one model's trace: :meth:`Scene.figure` lays out the traces once and
:meth:`Scene.frame` gives, for time step ``k``, the data of every trace. The same two methods feed both

* :func:`animate`, which stores every step as a plotly frame with play/pause buttons and a time slider, so it
  plays in a saved notebook, in static HTML and in slides; and
* :class:`LivePanel`, whose ipywidgets controls rerun the model and update a ``FigureWidget`` in place.

Scenes read traces only; they never simulate.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from labsupport.sim import Event, Trace

__all__ = ["Animation", "LivePanel", "Scene", "animate", "event_list_html", "packed", "publishing", "reveal",
           "text_alternative", "widget_safe"]

#: Set by :func:`publishing`: live panels then show a recorded animation instead of widgets, and animations
#: carry their text alternative in the output's metadata.
_PUBLISHING = {"on": False}


class Scene:
    """Base class for a model's picture. Subclasses implement :meth:`figure` and :meth:`frame`."""

    title = ""

    def figure(self, trace: Trace) -> go.Figure:
        """The figure's traces and layout (data may be empty: :meth:`frame` fills it)."""
        raise NotImplementedError

    def frame(self, trace: Trace, k: int) -> list[dict[str, Any]]:
        """The data of every trace of :meth:`figure` at step ``k`` (one dict per trace, same order)."""
        raise NotImplementedError

    def caption(self, trace: Trace, k: int) -> str:
        """A short HTML text for step ``k`` (what just happened)."""
        return ""

    def times(self, trace: Trace) -> np.ndarray:
        return np.asarray(trace.series["time_s"])

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        """Layout changes for step ``k`` (for example a title that shows the time)."""
        return {}

    def still(self, trace: Trace, k: int | None = None,
              prepare: Callable[[dict[str, Any]], dict[str, Any]] = lambda update: update) -> go.Figure:
        """One step as a static figure (the last step by default); ``prepare`` adapts each trace's data."""
        k = len(self.times(trace)) - 1 if k is None else k
        fig = self.figure(trace)
        for target, update in zip(fig.data, self.frame(trace, k), strict=True):
            target.update(prepare(update))
        fig.update_layout(self.layout_at(trace, k))
        return fig


class Animation:
    """A plotly animation kept as plain data: ``data``, ``layout`` and one entry per frame.

    It shows itself in JupyterLab through plotly's own MIME type, so it plays without a kernel and in a saved
    notebook, and it skips building a validated ``go.Frame`` per step, which costs about a second for a
    two-minute trace. :meth:`figure` returns the same animation as a validated ``go.Figure`` (for
    ``write_html``, slides and tests: a test checks that the two agree).
    """

    def __init__(self, spec: dict[str, Any], alt: str = "") -> None:
        self.spec = spec
        self.alt = alt  #: an HTML text alternative: what the animation shows, step by step

    @property
    def frames(self) -> list[dict[str, Any]]:
        return list(self.spec["frames"])

    def figure(self) -> go.Figure:
        return go.Figure(self.spec)

    def to_json(self) -> str:
        from plotly.io.json import to_json_plotly

        return str(to_json_plotly(_packed_spec(self.spec)))

    def write_html(self, path: str, **kwargs: Any) -> None:
        self.figure().write_html(path, **kwargs)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        import json

        payload = json.loads(self.to_json())
        title = self.spec["layout"].get("title", {}).get("text", "")
        data = {"application/vnd.plotly.v1+json": payload,
                "text/plain": f"<Animation {title!r}: {len(self.spec['frames'])} frames>"}
        if not _PUBLISHING["on"]:
            return data
        # for pages without a kernel: the text alternative travels in the output's metadata
        return data, {"application/vnd.plotly.v1+json": {"labsupport": {"alt": self.alt}}}  # type: ignore[return-value]

    def __repr__(self) -> str:
        title = self.spec["layout"].get("title", {}).get("text", "")
        return f"<Animation {title!r}: {len(self.spec['frames'])} frames>"


def animate(scene: Scene, trace: Trace, *, every: int = 1, frame_ms: int = 150,
            label: Callable[[float], str] = lambda t: f"{t:.0f} s") -> Animation:
    """The whole trace as a plotly animation with play/pause and a time slider; needs no kernel to play.

    The first step is built as a validated figure; the other steps reuse its structure as plain data.
    """
    times = scene.times(trace)
    steps = list(range(0, len(times), max(1, every)))
    if steps[-1] != len(times) - 1:
        steps.append(len(times) - 1)
    first = scene.still(trace, steps[0])
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0),
                fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    first.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=-0.13, xanchor="left", yanchor="top",
            pad=dict(r=10, t=10), showactive=False,
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=0.2, y=-0.13, len=0.8, xanchor="left", yanchor="top", pad=dict(t=10, b=10),
            currentvalue=dict(prefix="time: ", visible=True, xanchor="left", font=dict(color="#222222")),
            font=dict(color="rgba(0,0,0,0)"),  # one label per frame is unreadable; the current value shows
            steps=[dict(method="animate", label=label(float(times[k])),
                        args=[[str(k)], dict(pause, frame=dict(duration=0, redraw=True))]) for k in steps],
        )],
        margin=dict(b=140),
    )
    spec = first.to_plotly_json()
    spec["frames"] = [dict(data=scene.frame(trace, k), layout=scene.layout_at(trace, k), name=str(k))
                      for k in steps]
    return Animation(spec, alt=text_alternative(scene, trace, [float(times[k]) for k in steps], label))


def text_alternative(scene: Scene, trace: Trace, times: Sequence[float],
                     label: Callable[[float], str] = lambda t: f"{t:.0f} s", *, limit: int = 40) -> str:
    """What an animation of ``trace`` shows, step by step, as HTML text: every event in time order.

    A trace with no events (a sweep, say) is told by its scene's caption at the first and the last step.
    """
    title = html.escape(scene.title or trace.model)
    span = f"from {html.escape(label(times[0]))} to {html.escape(label(times[-1]))}" if times else ""
    if trace.events:
        steps = event_list_html(trace.events, limit=limit, when=lambda e: f"{e.time_s:.1f}".removesuffix(".0") + " s")
        return f"<p>{title}, {len(times)} steps {span}. What happens, in order:</p>{steps}"
    n = len(scene.times(trace))
    first, last = scene.caption(trace, 0), scene.caption(trace, n - 1)
    told = "".join(f"<li>{text}</li>" for text in (first, last) if text)
    return f"<p>{title}, {len(times)} steps {span}.</p>" + (f"<ul>{told}</ul>" if told else "")


def publishing(on: bool = True) -> None:
    """Display for pages without a kernel (the static site, slides), from now on in this process.

    Every :class:`LivePanel` then shows a recorded animation of its current run (the same scene and trace,
    played by plotly frames) with a note that the notebook lets you change it: no widget is displayed, so no
    widget state can be saved. Every :class:`Animation` carries its text alternative in the output metadata.
    """
    _PUBLISHING["on"] = on


class LivePanel:
    """Controls that rerun a model, a time slider with a play button, a ``FigureWidget`` updated in place.

    ``run`` receives the controls' values as keyword arguments and returns a trace. A bad combination of
    values never raises: the panel shows the model's message and keeps the last good picture.
    """

    def __init__(self, scene: Scene, run: Callable[..., Trace], controls: Mapping[str, Any], *,
                 play_ms: int = 200, start_step: int = 0) -> None:
        import ipywidgets as widgets  # imported here: building figures must not need ipywidgets

        self.scene = scene
        self._run = run
        self.controls = dict(controls)
        self.trace = run(**self.values())
        n = len(scene.times(self.trace))
        start = int(min(max(start_step, 0), n - 1))
        self.time = widgets.IntSlider(value=start, min=0, max=n - 1, description="time step",
                                      continuous_update=True, layout=widgets.Layout(width="60%"))
        self.play = widgets.Play(value=start, min=0, max=n - 1, interval=play_ms, description="play")
        widgets.jslink((self.play, "value"), (self.time, "value"))
        self.status = widgets.HTML()
        self.caption = widgets.HTML()
        # Drawn at the start step from the beginning, with browser-safe data: plotly copies a FigureWidget's data
        # into the widget only when the figure itself is displayed, so changes made before a VBox holding it is
        # shown can be lost (seen: marker traces and a bar trace's categorical y went missing).
        self.figure = go.FigureWidget(scene.still(self.trace, start, prepare=widget_safe))
        self.caption.value = scene.caption(self.trace, start)
        self.time.observe(self._on_time, names="value")
        for control in self.controls.values():
            control.observe(self._on_control, names="value")
        controls_box = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([controls_box, self.status, widgets.HBox([self.play, self.time]),
                                    self.caption, self.figure])

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def rerun(self) -> bool:
        """Run the model with the controls' values; on bad values show why and keep the last trace."""
        try:
            trace = self._run(**self.values())
        except (ValueError, TypeError) as error:
            self.status.value = (f"<span style='color:#D55E00'><b>Cannot run these settings:</b> "
                                 f"{html.escape(str(error))}</span>")
            return False
        self.status.value = ""
        self.trace = trace
        n = len(self.scene.times(trace))
        self.time.max = self.play.max = n - 1
        return True

    def show(self, k: int) -> None:
        """Draw step ``k`` of the current trace into the figure, in one message to the browser."""
        k = int(min(max(k, 0), len(self.scene.times(self.trace)) - 1))
        updates = [widget_safe(update) for update in self.scene.frame(self.trace, k)]
        with self.figure.batch_update():
            for target, update in zip(self.figure.data, updates, strict=True):
                target.update(update)
            self.figure.update_layout(self.scene.layout_at(self.trace, k))
        self.caption.value = self.scene.caption(self.trace, k)

    def _on_time(self, change: Mapping[str, Any]) -> None:
        self.show(change["new"])

    def _on_control(self, _change: Mapping[str, Any]) -> None:
        if self.rerun():
            self.show(self.time.value)

    def recording(self, max_frames: int = 80) -> Animation:
        """The current run as an animation (about ``max_frames`` steps), for pages without a kernel."""
        n = len(self.scene.times(self.trace))
        return animate(self.scene, self.trace, every=max(1, -(-n // max_frames)))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if not _PUBLISHING["on"]:
            display(self.widget)
            return
        recording = self.recording()
        names = ", ".join(html.escape(str(getattr(c, "description", name))) for name, c in self.controls.items())
        note = (f"A recording of the live panel's default run. In the notebook the panel is live: change "
                f"{names} and the model reruns.")
        data, metadata = recording._repr_mimebundle_()  # type: ignore[misc]
        metadata["application/vnd.plotly.v1+json"]["labsupport"]["live_panel"] = note
        display(data, metadata=metadata, raw=True)


def event_list_html(events: Sequence[Event], colors: Mapping[str, str] | None = None, *, limit: int | None = None,
                    when: Callable[[Event], str] | None = None) -> str:
    """An HTML list of ``events``: who acted (coloured when ``colors`` names the actor), what, on what.

    ``limit`` shortens a long list with "… and N more"; ``when`` adds a small time after each event.
    """
    shown = events if limit is None else events[:limit]
    items = []
    for e in shown:
        actor = f"<b>{html.escape(e.actor)}</b>"
        if colors is not None:
            actor = f"<span style='color:{colors.get(e.actor, '#222')}'>{actor}</span>"
        stamp = f" <small>at {when(e)}</small>" if when is not None else ""
        items.append(f"<li>{actor}: {html.escape(e.kind)} {html.escape(e.subject)}{stamp}</li>")
    if limit is not None and len(events) > limit:
        items.append(f"<li>… and {len(events) - limit} more</li>")
    return "<ul>" + "".join(items) + "</ul>"


#: The trace attributes that :func:`packed` turns into typed arrays: plotly.js reads a typed array in each
#: (they are data arrays), unlike a layout's ranges or a pie's domain.
PACKED_KEYS = frozenset({"x", "y", "z", "base", "width", "size", "opacity", "customdata"})


def packed(value: Any, key: str = "") -> Any:
    """A trace's data with its numeric arrays as plotly.js typed arrays (``{"dtype": "f4", "bdata": base64}``).

    About 5 characters a number instead of up to 18 as JSON text, and one line in a saved notebook instead of
    one line a number: what keeps a lesson saved after "Run all" under 2 MB. float32 keeps 7 significant
    digits, more than a figure can show. Only the attributes in :data:`PACKED_KEYS` are packed.
    """
    if isinstance(value, dict):
        return {name: packed(item, name) for name, item in value.items()}
    if key not in PACKED_KEYS:
        if isinstance(value, list | tuple):
            return [packed(item) for item in value]
        return value
    if isinstance(value, list | tuple) and len(value) >= 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        value = np.asarray(value, dtype=float)
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size:
        if value.dtype.kind == "f":
            array, dtype = value.astype("<f4"), "f4"
        elif value.dtype.kind in "iu" and value.min() >= -2**31 and value.max() < 2**31:
            array, dtype = value.astype("<i4"), "i4"
        else:
            return value
        return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}
    return value


def _uniform_x(traces: Sequence[Mapping[str, Any] | None]) -> tuple[float, float] | None:
    """``(x0, dx)`` when every given ``x`` of one trace is ``x0, x0 + dx, x0 + 2 dx, ...`` (a line over time)."""
    x0 = dx = None
    for trace in traces:
        if trace is None or "x" not in trace:
            continue
        x = trace["x"]
        if isinstance(x, Mapping) and "bdata" in x and "shape" not in x:  # a typed array from a validated figure
            try:
                x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(str(x["dtype"])).newbyteorder("<"))
            except (TypeError, ValueError):
                return None
        if not isinstance(x, np.ndarray | list | tuple) or len(x) == 0:
            return None
        try:
            values = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            return None
        if values.ndim != 1 or not np.all(np.isfinite(values)):
            return None
        x0 = float(values[0]) if x0 is None else x0
        if len(values) > 1:
            dx = float(values[1] - values[0]) if dx is None else dx
        if values[0] != x0 or (len(values) > 1 and not np.allclose(
                values, x0 + (dx or 0.0) * np.arange(len(values)), rtol=0, atol=1e-9 * max(1.0, abs(dx or 0.0)))):
            return None
    return (x0, dx) if x0 is not None and dx else None


def _packed_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as plotly JSON wants it, small: typed arrays, and a line over evenly spaced x as ``x0``/``dx``.

    A line that grows as an animation plays repeats its x values in every frame; when they are evenly spaced in
    the figure and in every frame, plotly.js computes them from ``x0`` and ``dx`` and the frames carry y only.
    """
    data = [dict(trace) for trace in spec.get("data", [])]
    frames = [dict(frame, data=[dict(trace) for trace in frame.get("data", [])]) for frame in spec.get("frames", [])]
    for i, trace in enumerate(data):
        if trace.get("type", "scatter") != "scatter":
            continue
        in_frames = [frame["data"][i] if i < len(frame["data"]) else None for frame in frames]
        if not any(t is not None and "x" in t for t in in_frames):
            continue
        found = _uniform_x([trace, *in_frames])
        if found is None:
            continue
        trace.pop("x", None)
        trace["x0"], trace["dx"] = found
        for t in in_frames:
            if t is not None:
                t.pop("x", None)
    out = dict(spec, data=[packed(trace) for trace in data])
    if "frames" in spec:
        out["frames"] = [dict(frame, data=[packed(trace) for trace in frame["data"]]) for frame in frames]
    return out


def widget_safe(value: Any) -> Any:
    """``value`` ready for a ``FigureWidget``: float arrays stay numpy (fast to send), other arrays become lists.

    The widget sends numpy arrays to the browser as typed arrays; plotly.js has no typed array for object
    (string) or 64-bit integer data and silently drops a trace that holds one, so those go as lists.
    """
    if isinstance(value, dict):
        return {key: widget_safe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return value
        return value.tolist()
    return value


def reveal(values: Sequence[float] | np.ndarray, k: int) -> np.ndarray:
    """The first ``k + 1`` values: a line that grows as the animation plays."""
    return np.asarray(values)[: k + 1]
