"""From a trace to pictures: an animation that plays with no kernel, and a live panel that reruns the model.

A :class:`Scene` knows how to draw one model's trace. Its contract:

* :meth:`Scene.figure` builds the traces and the part of the layout no setting changes (the subplot grid,
  styles, fixed axis titles);
* :meth:`Scene.layout` is a pure function of the trace: every part of the layout that depends on the trace or
  its parameters (axis ranges and ticks, titles that name a setting, labelled limit lines and other
  annotations and shapes). It returns the same keys for every trace of the scene, so that a rerun leaves
  nothing of the previous picture behind; its ``annotations`` and ``shapes`` replace the ones it drew before,
  while those :meth:`Scene.figure` made stay;
* :meth:`Scene.frame` gives, for time step ``k``, every trace's data that depends on the trace (a limit line
  whose height is a setting belongs here too, even though it does not move with time), keyed by the figure's
  trace it updates: that trace's ``uid`` if :meth:`Scene.figure` gave it one (where names repeat, say two "now"
  cursors), else its ``name``. The keys are exactly the figure's (:func:`trace_keys`); a legend-only trace gets
  an empty update. :func:`in_figure_order` turns a frame into updates in the figure's order, and is the only
  place that does;
* :meth:`Scene.layout_at` gives the layout of step ``k`` (a title with the time and what just happened).

The same methods feed both

* :func:`animate`, which stores every step as a plotly frame with play/pause buttons and a time slider, so it
  plays in a saved notebook, in static HTML and in slides; and
* :class:`LivePanel`, whose ipywidgets controls rerun the model and redraw a ``FigureWidget`` in place: the
  data, :meth:`Scene.layout` and :meth:`Scene.layout_at`, in one message to the browser. After any change the
  widget shows exactly what :meth:`Scene.still` draws for the new trace (a test checks this for every panel).

Scenes read traces only; they never simulate.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import html
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Generic

import numpy as np
import plotly.graph_objects as go
from typing_extensions import TypeVar  # a TypeVar with a default (typing has it from Python 3.13)

from labsupport.sim import Event, Result, Trace
from labsupport.views._figure_widget import live_figure

__all__ = ["Animation", "Drawn", "FrameKeyError", "LivePanel", "Scene", "animate", "apply_layout",
           "event_list_html", "in_figure_order", "packed", "publishing", "reveal", "step_events", "text_alternative",
           "trace_keys", "widget_safe"]

#: The name given to the annotations and shapes :meth:`Scene.layout` draws, so that a rerun replaces them.
LAYOUT_ITEM = "scene-layout"
#: How a figure is shown: the toolbar only while the pointer is over the figure (it would cover the title), and
#: the figure as wide as its cell.
CONFIG = {"displayModeBar": "hover", "responsive": True, "displaylogo": False}
#: Room under an animation's plot for the x axis' title, the play/pause buttons and the time slider (px).
_CONTROLS_PX = 175

#: Set by :func:`publishing`: live panels then show a recorded animation instead of widgets, and animations
#: carry their text alternative in the output's metadata.
_PUBLISHING = {"on": False}


#: What a scene draws: a :class:`~labsupport.sim.Trace` (steps in time), or a :class:`~labsupport.sim.Result`
#: (no time axis: one still picture). ``Scene`` alone means ``Scene[Trace]``.
Drawn = TypeVar("Drawn", Trace, Result, default=Trace)


class Scene(Generic[Drawn]):
    """Base class for a model's picture. Subclasses implement :meth:`figure` and :meth:`frame`."""

    title = ""

    def figure(self, trace: Drawn) -> go.Figure:
        """The figure's traces and the layout no setting changes (data may be empty: :meth:`frame` fills it)."""
        raise NotImplementedError

    def layout(self, trace: Drawn) -> dict[str, Any]:
        """Every part of the layout that depends on the trace: ranges, titles, labelled lines (see the module)."""
        return {}

    def frame(self, trace: Drawn, k: int) -> dict[str, dict[str, Any]]:
        """The data of every trace of :meth:`figure` at step ``k``, keyed by trace (see :func:`trace_keys`)."""
        raise NotImplementedError

    def caption(self, trace: Drawn, k: int) -> str:
        """A short HTML text for step ``k`` (what just happened)."""
        return ""

    def summary(self, trace: Drawn) -> str:
        """One line of HTML a live panel shows above its figure: what this run came to (the answer to the
        lesson's "Try these" questions). The animation never shows it, so it spoils no prediction."""
        return ""

    def times(self, trace: Drawn) -> np.ndarray:
        """The time of each step; a result without a time axis is one step at 0."""
        return np.asarray(trace.series["time_s"]) if isinstance(trace, Trace) else np.zeros(1)

    def layout_at(self, trace: Drawn, k: int) -> dict[str, Any]:
        """Layout changes for step ``k`` (for example a title that shows the time)."""
        return {}

    def still(self, trace: Drawn, k: int | None = None,
              prepare: Callable[[dict[str, Any]], dict[str, Any]] = lambda update: update) -> go.Figure:
        """One step as a static figure (the last step by default); ``prepare`` adapts each trace's data."""
        k = len(self.times(trace)) - 1 if k is None else k
        fig = self.figure(trace)
        apply_layout(fig, self.layout(trace))
        for target, update in zip(fig.data, in_figure_order(trace_keys(fig), self.frame(trace, k)), strict=True):
            target.update(prepare(update))
        fig.update_layout(self.layout_at(trace, k))
        return fig


class FrameKeyError(LookupError):
    """A scene's frame does not name exactly its figure's traces (a scene's bug, never a learner's)."""


def trace_keys(fig: go.Figure) -> tuple[str, ...]:
    """Each trace's key, in the figure's order: its ``uid`` if it has one, else its ``name``; all distinct."""
    keys = tuple(str(t.uid) if t.uid else (t.name or "") for t in fig.data)
    unnamed = [i for i, key in enumerate(keys) if not key]
    if unnamed:
        raise FrameKeyError(f"traces {unnamed} have neither a uid nor a name: give each a name (or a uid)")
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise FrameKeyError(f"several traces are called {repeated}: give each a uid of its own")
    # plotly.js names a legend's pattern fill after the trace's uid and looks it up with a CSS selector, unescaped:
    # a space, a colon or a quote there stops the page's script (seen in a static page, which keeps the uids)
    unsafe = [str(t.uid) for t in fig.data if t.uid and _patterned(t) and not re.fullmatch(r"[\w-]+", str(t.uid))]
    if unsafe:
        raise FrameKeyError(f"uids {unsafe} of traces filled with a pattern must be letters, digits, _ and - only")
    return keys


def selector_safe_uids(keys: Sequence[str]) -> list[str]:
    """The traces' uids for a figure the page keeps (an animation): each key (:func:`trace_keys`) with every run of
    characters other than letters, digits, ``_`` and ``-`` made one ``-``, still all distinct.

    plotly.js looks a trace's colour bar up with the CSS selector ``'.cb' + uid``, unescaped, when it removes a
    figure (as JupyterLab's renderer does after copying each figure into a PNG): a key such as ``now: error rate``
    is not a valid selector there, and the page's script stops with an error. A live panel's figure needs none of
    this: the widget gives each of its traces a random uid of its own.
    """
    uids: list[str] = []
    for i, key in enumerate(keys):
        uid = re.sub(r"[^\w-]+", "-", key).strip("-") or f"trace-{i}"
        while uid in uids:
            uid = f"{uid}-{i}"
        uids.append(uid)
    return uids


def _patterned(trace: Any) -> bool:
    """Is ``trace`` filled with a pattern (``marker.pattern.shape``, one shape or one per point)?"""
    pattern = getattr(getattr(trace, "marker", None), "pattern", None)
    shape = None if pattern is None else pattern.shape
    if shape is None or isinstance(shape, str):
        return bool(shape)
    return any(bool(s) for s in shape)


def in_figure_order(keys: Sequence[str], frame: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A frame's updates in the order of the figure whose trace keys are ``keys`` (from :func:`trace_keys`)."""
    if len(frame) != len(keys) or any(key not in frame for key in keys):
        missing = [key for key in keys if key not in frame]
        unknown = [key for key in frame if key not in set(keys)]
        raise FrameKeyError(f"the frame does not match the figure's traces: missing {missing}, unknown {unknown}")
    return [frame[key] for key in keys]


def apply_layout(fig: go.Figure, layout: Mapping[str, Any]) -> None:
    """Update ``fig``'s layout with ``layout`` (from :meth:`Scene.layout`); its ``annotations`` and ``shapes``
    replace the ones an earlier call drew and keep the others (the subplot titles, for example)."""
    update = dict(layout)
    for key in ("annotations", "shapes"):
        if key in update:
            kept = [item for item in fig.layout[key] if item.name != LAYOUT_ITEM]
            fig.layout[key] = [*kept, *(dict(item, name=LAYOUT_ITEM) for item in update.pop(key))]
    if update:
        fig.update_layout(nested(update))


def nested(layout: Mapping[str, Any]) -> dict[str, Any]:
    """``{"xaxis2.range": r}`` as ``{"xaxis2": {"range": r}}``: plotly checks a nested update about twice as
    fast as one with dotted paths (it validates each path on its own)."""
    out: dict[str, Any] = {}
    for key, value in layout.items():
        *path, last = key.split(".")
        here = out
        for part in path:
            here = here.setdefault(part, {})
        if isinstance(value, Mapping) and isinstance(here.get(last), dict):
            here[last].update(value)
        else:
            here[last] = value
    return out


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
        kwargs.setdefault("config", CONFIG)
        self.figure().write_html(path, **kwargs)

    def _repr_mimebundle_(self, include: Any = None,
                          exclude: Any = None) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        import json

        payload = json.loads(self.to_json())
        payload["config"] = CONFIG
        title = self.spec["layout"].get("title", {}).get("text", "")
        data = {"application/vnd.plotly.v1+json": payload,
                "text/plain": f"<Animation {title!r}: {len(self.spec['frames'])} frames>"}
        if not _PUBLISHING["on"]:
            return data
        # for pages without a kernel: the text alternative travels in the output's metadata
        return data, {"application/vnd.plotly.v1+json": {"labsupport": {"alt": self.alt}}}

    def __repr__(self) -> str:
        title = self.spec["layout"].get("title", {}).get("text", "")
        return f"<Animation {title!r}: {len(self.spec['frames'])} frames>"


def animate(scene: Scene[Drawn], trace: Drawn, *, every: int = 1, frame_ms: int = 150,
            label: Callable[[float], str] = lambda t: f"{t:.0f} s") -> Animation:
    """The whole trace as a plotly animation with play/pause and a time slider; needs no kernel to play.

    The first step is built as a validated figure; the other steps reuse its structure as plain data.
    """
    times = scene.times(trace)
    steps = list(range(0, len(times), max(1, every)))
    if steps[-1] != len(times) - 1:
        steps.append(len(times) - 1)
    first = scene.still(trace, steps[0])
    labelled = _scale_steps(len(steps))
    play = dict(frame=dict(duration=frame_ms, redraw=True), transition=dict(duration=0),
                fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    # The buttons on a row of their own under the x axis' title, the slider and its time readout on the next:
    # placed in pixels below the plot area (plotly places them in fractions of it).
    height = float(first.layout.height or 560)
    top = float(first.layout.margin.t if first.layout.margin.t is not None else 70)
    plot_px = max(height - top - _CONTROLS_PX, 100.0)
    first.update_layout(
        updatemenus=[dict(
            type="buttons", direction="left", x=0.0, y=-52 / plot_px, xanchor="left", yanchor="top",
            pad=dict(r=10, t=0), showactive=False,
            buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                     dict(label="❚❚ Pause", method="animate", args=[[None], pause])],
        )],
        sliders=[dict(
            active=0, x=0.0, y=-92 / plot_px, len=1.0, xanchor="left", yanchor="top", pad=dict(t=0, b=10),
            # The title says each frame's time; the slider is a scale under it, a few steps labelled. plotly.js
            # measures every label it draws, each time the figure draws (three times in JupyterLab: drawn,
            # redrawn, and copied for the output's PNG): a label on each of 60 steps was 40 % of a figure's draw.
            currentvalue=dict(visible=False), font=dict(color="#444444", size=11),
            # every step's time as its value (not drawn), which the course's static pages read out
            steps=[dict(method="animate", label=label(float(times[k])) if i in labelled else "",
                        value=label(float(times[k])), args=[[str(k)], dict(pause, frame=dict(duration=0, redraw=True))])
                   for i, k in enumerate(steps)],
        )],
        margin=dict(b=_CONTROLS_PX),
    )
    spec = first.to_plotly_json()
    keys = trace_keys(first)
    for data, uid in zip(spec["data"], selector_safe_uids(keys), strict=True):
        data["uid"] = uid
    spec["frames"] = [dict(data=in_figure_order(keys, scene.frame(trace, k)), layout=scene.layout_at(trace, k),
                           name=str(k)) for k in steps]
    return Animation(spec, alt=text_alternative(scene, trace, [float(times[k]) for k in steps], label))


def _scale_steps(n: int, most: int = 7) -> set[int]:
    """Which of an animation slider's ``n`` steps carry a label: ``most`` evenly spaced ones from the first to the
    last (all of them when there are no more); closer labels would run into each other."""
    if n <= most:
        return set(range(n))
    return {round(i * (n - 1) / (most - 1)) for i in range(most)}


def text_alternative(scene: Scene[Drawn], trace: Drawn, times: Sequence[float],
                     label: Callable[[float], str] = lambda t: f"{t:.0f} s", *, limit: int = 40) -> str:
    """What an animation of ``trace`` shows, step by step, as HTML text: every event in time order.

    A trace with no events (a sweep, say) is told by its scene's caption at the first and the last step.
    """
    title = html.escape(scene.title or trace.model)
    span = f"from {html.escape(label(times[0]))} to {html.escape(label(times[-1]))}" if times else ""
    events = trace.events if isinstance(trace, Trace) else ()
    if events:
        steps = event_list_html(events, limit=limit, when=lambda e: f"{e.time_s:.1f}".removesuffix(".0") + " s")
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


class LivePanel(Generic[Drawn]):
    """Controls that rerun a model, a time slider in seconds with a play button, a ``FigureWidget`` redrawn in
    place. It first shows the step nearest ``start_at_s`` seconds.

    ``run`` receives the controls' values as keyword arguments and returns a trace. A bad combination of
    values never raises: the panel shows the model's message and keeps the last good picture. A good one
    redraws everything the new trace changes (data, axis ranges, labelled lines, titles) in one update.
    """

    def __init__(self, scene: Scene[Drawn], run: Callable[..., Drawn], controls: Mapping[str, Any], *,
                 play_ms: int = 200, start_at_s: float = 0.0) -> None:
        import ipywidgets as widgets  # imported here: building figures must not need ipywidgets

        self.scene: Scene[Drawn] = scene
        self._run: Callable[..., Drawn] = run
        self.controls = dict(controls)
        self.trace: Drawn = run(**self.values())
        times = scene.times(self.trace)
        start = int(np.argmin(np.abs(np.asarray(times, dtype=float) - float(start_at_s))))  # the nearest step
        self.step = start
        self._moving = False
        #: How a change from the browser is put off (``None``: onto the running event loop's ``call_soon``):
        #: see :meth:`_request`. Tests give a callable that keeps the callbacks, to run them when they choose.
        self.schedule: Callable[[Callable[[], None]], object] | None = None
        self._wanted: set[str] = set()  # "rerun" and/or "time": what the put-off callback will do
        self._changes = 0  # changes from the browser so far: the put-off callback waits until they stop
        step_s = _step_s(times)
        self.time = widgets.FloatSlider(value=float(times[start]), min=float(times[0]), max=float(times[-1]),
                                        step=step_s, description="time (s)", continuous_update=True,
                                        readout_format=_seconds_format(step_s), layout=widgets.Layout(width="60%"))
        self.play = widgets.Play(value=start, min=0, max=len(times) - 1, interval=play_ms, description="play")
        self.status = widgets.HTML()
        self.summary = widgets.HTML(scene.summary(self.trace))
        self.caption = widgets.HTML()
        # Drawn at the start step from the beginning, with browser-safe data: plotly copies a FigureWidget's data
        # into the widget only when the figure itself is displayed, so changes made before a VBox holding it is
        # shown can be lost (seen: marker traces and a bar trace's categorical y went missing).
        still = scene.still(self.trace, start, prepare=widget_safe)
        #: the figure's trace keys in its order (:func:`trace_keys`), read before the widget gives every trace a
        #: random uid of its own
        self.keys = trace_keys(still)
        #: each trace's data as the widget shows it, so that a redraw assigns only what changed
        self._shown = [widget_safe(update) for update in in_figure_order(self.keys, scene.frame(self.trace, start))]
        self.figure = live_figure(still)
        self.figure._config = dict(self.figure._config or {}, **CONFIG)
        self.caption.value = scene.caption(self.trace, start)
        self.time.observe(self._on_time, names="value")
        self.play.observe(self._on_play, names="value")
        for control in self.controls.values():
            control.observe(self._on_control, names="value")
        controls_box = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))
        # The figure right under the controls, so both fit one screen; what just happened under the figure.
        self.widget = widgets.VBox([controls_box, self.status, self.summary,
                                    widgets.HBox([self.play, self.time]), self.figure, self.caption])

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def rerun(self) -> bool:
        """Run the model with the controls' values and redraw; on bad values show why and keep the last trace."""
        try:
            trace = self._run(**self.values())
        except (ValueError, TypeError) as error:
            self.status.value = (f"<span style='color:#D55E00'><b>Cannot run these settings:</b> "
                                 f"{html.escape(str(error))}</span>")
            return False
        self.trace = trace
        times = self.scene.times(trace)
        # the figure first, what the learner waits for: its message leaves before the sliders' (measured in
        # lesson 01 in JupyterLab, sending the sliders first held the figure's message back by about 15 ms)
        step = self._nearest(self.time.value)  # the new run's step nearest the time shown
        self._draw(step, relayout=True)
        self._moving = True  # the slider's new range may move its value: the figure is drawn already
        try:
            with self.time.hold_sync(), self.play.hold_sync():  # each widget's changes in one message
                self.play.max = len(times) - 1
                self.time.step = _step_s(times)
                low, high = float(times[0]), float(times[-1])
                if low > self.time.max:
                    self.time.max, self.time.min = high, low
                else:
                    self.time.min, self.time.max = low, high
                self.time.value = float(times[step])
                self.play.value = step
        finally:
            self._moving = False
        self.status.value = ""
        self.summary.value = self.scene.summary(trace)
        return True

    def show(self, k: int) -> None:
        """Draw step ``k`` of the current trace into the figure, in one message to the browser."""
        self._draw(k, relayout=False)

    def _draw(self, k: int, *, relayout: bool) -> None:
        """Draw step ``k``: only what differs from what the widget already shows is assigned (and so sent)."""
        k = int(min(max(k, 0), len(self.scene.times(self.trace)) - 1))
        self.step = k
        updates = [widget_safe(update) for update in in_figure_order(self.keys, self.scene.frame(self.trace, k))]
        with self.figure.batch_update():
            for i, (target, update) in enumerate(zip(self.figure.data, updates, strict=True)):
                changed = {key: value for key, value in update.items() if not _same(value, self._shown[i].get(key))}
                if changed:
                    target.update(changed)
                    self._shown[i].update(changed)
            if relayout:
                apply_layout(self.figure, self.scene.layout(self.trace))
            self.figure.update_layout(nested(self.scene.layout_at(self.trace, k)))
        self.caption.value = self.scene.caption(self.trace, k)

    def _nearest(self, seconds: float) -> int:
        times = self.scene.times(self.trace)
        return int(np.argmin(np.abs(np.asarray(times, dtype=float) - float(seconds))))

    def _on_time(self, change: Mapping[str, Any]) -> None:
        if self._moving or self._request("time", change):
            return
        self._show_time()

    def _show_time(self) -> None:
        k = self._nearest(self.time.value)
        self._moving = True
        try:
            self.play.value = k
        finally:
            self._moving = False
        self.show(k)

    def _on_play(self, change: Mapping[str, Any]) -> None:
        if not self._moving:
            self.time.value = float(self.scene.times(self.trace)[int(change["new"])])

    def _on_control(self, change: Mapping[str, Any]) -> None:
        if not self._request("rerun", change):
            self.rerun()

    def _request(self, what: str, change: Mapping[str, Any]) -> bool:
        """Put off a change that came from the browser, so that changes waiting behind it collapse into one.

        ipykernel handles the browser's messages one at a time, each to its end, on one asyncio loop (ipykernel
        7's ``Kernel.shell_main`` holds a lock per message; ipykernel 6's ``dispatch_queue`` awaits each), so a
        learner's three quick key presses would be three reruns in a row, two of them stale. Instead the change
        only notes what it needs (``what``: a rerun, or a new time) and schedules one callback on the loop; the
        callback lets the loop run until no newer change has arrived for a few turns (messages already waiting
        are handled in those turns), then reruns once, reading the controls' values as they are then.

        A change made in Python (a cell setting ``control.value``), or with no event loop running, is not put
        off: the caller acts at once (returns False), so the cell's next line sees the new trace.
        """
        owner = change.get("owner")
        from_browser = change.get("name") in getattr(owner, "_property_lock", {})
        schedule = self.schedule or _running_loop_call_soon()
        if not from_browser or schedule is None:
            return False
        self._changes += 1
        if not self._wanted:
            schedule(functools.partial(self._settle, schedule, self._changes, 0))
        self._wanted.add(what)
        return True

    def _settle(self, schedule: Callable[[Callable[[], None]], object], seen: int, quiet: int) -> None:
        if self._changes != seen or quiet < _QUIET_TURNS:
            quiet = 0 if self._changes != seen else quiet + 1
            schedule(functools.partial(self._settle, schedule, self._changes, quiet))
            return
        wanted, self._wanted = self._wanted, set()
        if "rerun" in wanted:
            self.rerun()  # it draws the time the slider shows now
        elif "time" in wanted:
            self._show_time()

    def recording(self, max_frames: int = 80) -> Animation:
        """The current run as an animation (about ``max_frames`` steps), for pages without a kernel."""
        n = len(self.scene.times(self.trace))
        return animate(self.scene, self.trace, every=max(1, -(-n // max_frames)))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if not _PUBLISHING["on"]:
            display(self.widget)  # type: ignore[no-untyped-call]  # IPython's display() has no annotations
            return
        recording = self.recording()
        names = ", ".join(html.escape(str(getattr(c, "description", name))) for name, c in self.controls.items())
        note = (f"A recording of the live panel's default run. In the notebook the panel is live: change "
                f"{names} and the model reruns.")
        bundle = recording._repr_mimebundle_()  # publishing: the data and the metadata with the text alternative
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        metadata.setdefault("application/vnd.plotly.v1+json", {}).setdefault("labsupport", {})["live_panel"] = note
        display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]  # as above


#: Turns of the event loop with no newer change before a put-off rerun runs (each turn is a few microseconds
#: when nothing waits; a message waiting on the kernel's socket is read and handled within two or three).
_QUIET_TURNS = 8


def _same(a: Any, b: Any) -> bool:
    """Whether two trace attribute values are equal (numpy arrays, lists and dicts of them included)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _running_loop_call_soon() -> Callable[[Callable[[], None]], object] | None:
    """The running event loop's ``call_soon`` (in a kernel, handling a message), or None outside any loop."""
    try:
        return asyncio.get_running_loop().call_soon
    except RuntimeError:
        return None


def _step_s(times: np.ndarray) -> float:
    """A trace's time step, for the time slider and the scenes (one second for a trace with a single time)."""
    return float(np.min(np.diff(times))) if len(times) > 1 else 1.0


def _seconds_format(step_s: float) -> str:
    return ".0f" if step_s >= 1 and float(step_s).is_integer() else ".1f"


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


def step_events(trace: Trace, t: float, step_s: float, *, ignore: Collection[str] = (), per_line: int = 2,
                when: Callable[[float], str] = lambda t: f"{t:.0f} s") -> str:
    """A subtitle naming every event of the step ending at ``t`` (or, in a quiet step, every event at the last
    moment anything happened), one actor's kind of event after another, a few per line:
    "at 50 s: runtime service management — health-check-failed instance-0 · request routing — …"."""
    shown = [e for e in trace.between(t - step_s, t) if e.kind not in ignore]
    label = f"at {when(t)}" if shown else ""
    if not shown:
        before = [e for e in trace.events if e.time_s <= t and e.kind not in ignore]
        if not before:
            return ""
        shown = [e for e in before if e.time_s == before[-1].time_s]
        label = f"latest, at {when(before[-1].time_s)}"
    groups: dict[tuple[str, str], list[str]] = {}
    for e in shown:
        groups.setdefault((e.actor, e.kind), []).append(e.subject)
    words = []
    for (actor, kind), subjects in groups.items():
        named = subjects if len(subjects) <= 3 else [*subjects[:2], f"and {len(subjects) - 2} more"]
        who = f"{actor.replace('-', ' ')} — " if actor else ""
        words.append(html.escape(f"{who}{kind} {', '.join(s for s in named if s)}".strip()))
    lines = [" · ".join(words[i:i + per_line]) for i in range(0, len(words), per_line)]
    return f"{label}: " + "<br>".join(lines)


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


def widget_safe(value: Any, key: str = "") -> Any:
    """``value`` ready for a ``FigureWidget``: numeric arrays go as numpy (sent as binary typed arrays), others
    as lists.

    The widget sends a 1-D numpy array of floats or of integers up to 32 bits to the browser as a typed array;
    plotly.js has no typed array for object (string) or 64-bit integer data and silently drops a trace that
    holds one. So integer data arrays and lists of numbers (in the attributes of :data:`PACKED_KEYS`:
    coordinates, sizes) become float arrays, sent as binary too, and any other array that is not floats becomes
    a list.
    """
    if isinstance(value, dict):
        return {name: widget_safe(item, name) for name, item in value.items()}
    if key in PACKED_KEYS and isinstance(value, list | tuple) and len(value) >= 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return np.asarray(value, dtype=float)  # a list of numbers: binary too
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return value
        if value.dtype.kind in "iu" and key in PACKED_KEYS and value.ndim == 1:
            return value.astype(float)
        return value.tolist()
    return value


def reveal(values: Sequence[float] | np.ndarray, k: int) -> np.ndarray:
    """The first ``k + 1`` values: a line that grows as the animation plays."""
    return np.asarray(values)[: k + 1]
