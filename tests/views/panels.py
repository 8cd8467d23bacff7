"""What every live panel must do: explain a bad setting, and redraw the whole picture truthfully on a rerun.

:func:`settings` drives each control of a panel to its extremes (the ends of a slider, every option of a
dropdown, both states of a checkbox); :func:`assert_shows_the_still` checks that the widget then shows exactly
what a static figure of the new trace shows (data and layout: nothing of the old picture left behind);
:func:`data_outside_axes` lists every trace whose data leaves a fixed axis range.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
from plotly.io.json import to_json_plotly

from labsupport.views._scene import widget_safe


def assert_bad_setting_is_explained(panel: Any, control: str, bad: Any, message: str, good: Any) -> None:
    """Set ``control`` to ``bad`` (widening the widget's range if needed), expect ``message``, then recover."""
    widget = panel.controls[control]
    if hasattr(widget, "max") and bad > widget.max:
        widget.max = bad
    if hasattr(widget, "min") and bad < widget.min:
        widget.min = bad
    last_good = panel.trace
    widget.value = bad
    assert message in panel.status.value, panel.status.value
    assert "Traceback" not in panel.status.value
    assert panel.trace is last_good
    widget.value = good
    assert panel.status.value == ""
    assert panel.trace is not last_good


def extremes(widget: Any) -> list[Any]:
    """The values to try for one control: a slider's two ends, every option of a choice, both checkbox states."""
    options = getattr(widget, "options", None)
    if options is not None:
        return [option[1] if isinstance(option, tuple) else option for option in options]
    if isinstance(widget.value, bool):
        return [not widget.value, widget.value]
    if hasattr(widget, "base"):  # a log slider: min and max are exponents
        return [widget.base ** widget.min, widget.base ** widget.max]
    return [widget.min, widget.max]


def settings(panel: Any) -> Iterator[tuple[str, Any]]:
    """Set each control of ``panel`` to each of its extremes in turn, yielding (control, value) once set.

    The control goes back to where it was before the next one moves, so each setting is one change away from
    the panel's defaults (the way a learner tries a "Try these" bullet).
    """
    for name, widget in panel.controls.items():
        start = widget.value
        for value in extremes(widget):
            widget.value = value
            yield name, value
        widget.value = start


def _plain(value: Any) -> Any:
    plain = json.loads(to_json_plotly(value))
    layout = plain.get("layout", {}) if isinstance(plain, dict) else {}
    for key in ("annotations", "shapes"):
        if layout.get(key) == []:
            del layout[key]  # none drawn: the widget keeps an empty list, a new figure has none
    return plain


def assert_shows_the_still(panel: Any) -> None:
    """The widget shows what :meth:`Scene.still` draws for the panel's trace at the current step."""
    k = panel.step
    still = panel.scene.still(panel.trace, k, prepare=widget_safe)
    shown = _plain(panel.figure.to_plotly_json())
    expected = _plain(still.to_plotly_json())
    for i, (got, want) in enumerate(zip(shown["data"], expected["data"], strict=True)):
        got.pop("uid", None)  # the widget gives each trace a random id of its own, in place of the scene's
        want.pop("uid", None)
        assert got == want, f"trace {i} ({want.get('name')}) is not redrawn: {_diff(got, want)}"
    assert shown["layout"] == expected["layout"], f"the layout is not redrawn: {_diff(shown['layout'], expected['layout'])}"


def _diff(got: Any, want: Any, path: str = "") -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                return _diff(got.get(key), want.get(key), f"{path}.{key}")
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            if a != b:
                return _diff(a, b, f"{path}[{i}]")
    return f"{path}: shows {str(got)[:160]}, expected {str(want)[:160]}"


def _numbers(values: Any) -> np.ndarray | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None  # categories
    return array[np.isfinite(array)].ravel()


def _axis(fig: Any, ref: str, letter: str) -> Any:
    return fig.layout[f"{letter}axis{ref[1:]}"]


def data_outside_axes(fig: Any) -> list[str]:
    """Each trace of ``fig`` with data beyond a fixed range of its (visible, numeric) axes, and where."""
    problems = []
    for i, trace in enumerate(fig.data):
        if trace.visible is False:
            continue
        horizontal = getattr(trace, "orientation", None) == "h"
        for letter in "xy":
            axis = _axis(fig, getattr(trace, f"{letter}axis") or letter, letter)
            if axis.visible is False or axis.range is None or axis.autorange is True or axis.type == "category":
                continue
            values = _numbers(trace[letter])
            if values is None or not len(values):
                continue
            if trace.type == "bar" and (letter == "x") == horizontal and trace.base is not None:
                base = np.broadcast_to(np.asarray(trace.base, dtype=float), np.shape(trace[letter])).ravel()
                values = np.concatenate([values, base[np.isfinite(base)], (np.asarray(trace[letter], dtype=float)
                                                                           + base)[np.isfinite(base)]])
            low, high = sorted(axis.range)
            if axis.type == "log":
                values = values[values > 0]
                if not len(values):
                    continue
                values = np.log10(values)
            lowest, highest = float(values.min()), float(values.max())
            slack = (high - low) * 1e-6
            if lowest < low - slack or highest > high + slack:
                problems.append(f"trace {i} ({trace.name}): {letter} from {_fmt(lowest, axis)} to "
                                f"{_fmt(highest, axis)}, axis {_fmt(low, axis)}–{_fmt(high, axis)}")
    return problems


def _fmt(value: float, axis: Any) -> str:
    return f"{10 ** value:.3g}" if axis.type == "log" else f"{value:.3g}"


def data_outside_axes_at_every_step(panel: Any, every: int = 12) -> list[str]:
    """:func:`data_outside_axes` for the panel's figure at about ``every`` steps and the last one, drawn by the
    panel itself; the panel goes back to its step."""
    n = len(panel.scene.times(panel.trace))
    back = panel.step
    problems = []
    for k in sorted({*range(0, n, max(1, n // every)), n - 1}):
        panel.show(k)
        problems += [f"at step {k}: {problem}" for problem in data_outside_axes(panel.figure)]
    panel.show(back)
    return problems


def figure_texts(fig: Any) -> str:
    """Every text the figure draws: titles, axis titles, annotations, legend names, trace texts."""
    parts: list[str] = []

    def walk(value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v, key)
        elif isinstance(value, str) and key in ("text", "name", "hovertext", "label", "ticktext", "prefix"):
            parts.append(value)

    walk(_plain(fig.to_plotly_json()))
    return "\n".join(parts)


def unescaped_dollars(spec: Any) -> list[str]:
    """Every text in a figure's JSON (data, layout, frames) holding two ``$``: plotly would draw it as LaTeX."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, str) and value.count("$") >= 2:
            found.append(value)

    walk(_plain(spec))
    return found
