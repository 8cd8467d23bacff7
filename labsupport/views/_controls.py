"""Live panels from a model's parameters: a short spec per control, its default from the parameter class.

Each lesson's panel factory says which of its model's parameters get a control, and how::

    def vm_panel(**initial: Any) -> LivePanel:
        controls = (integer("desired_capacity", "desired instances", 1, 6),
                    number("crash_at_s", "crash at", 600, 3000, 10, unit="s"),
                    choice("health_check_type", "ASG health check", ["ELB", "EC2"]))
        return live_panel(VmScene(), run_vm, VmParams, controls, initial, start_at_s=1330, fixed={"seed": 0})

:func:`live_panel` builds the widgets with the parameter class's defaults, applies the learner's ``**initial``
overrides (a control's value, a setting in ``fixed``, ``start_at_s``) after checking each one, and returns a
:class:`~labsupport.views._scene.LivePanel`. A bad override never raises: the panel starts from the defaults
for that setting and its status line says what was wrong and what would be valid.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from labsupport.views._scene import Drawn, LivePanel, Scene

__all__ = ["Control", "check_overrides", "choice", "integer", "live_panel", "log_number",
           "make_widget", "number", "toggle"]

Kind = Literal["integer", "number", "log", "choice", "toggle"]
_FROM_PARAMS: Any = object()  # a control's default comes from the parameter class


@dataclasses.dataclass(frozen=True)
class Control:
    """One control of a live panel: the run argument it sets, its widget and the widget's range.

    ``low``/``high``/``step`` are a slider's range (for ``log``, powers of ``base``); ``options`` are a choice's
    values or ``(label, value)`` pairs. ``default`` is for a control that is not a field of the parameter class
    (or whose field's default is ``None``, say "no limit", where the slider needs a number).
    """

    name: str
    label: str
    kind: Kind
    low: float = 0.0
    high: float = 0.0
    step: float = 1.0
    options: tuple[Any, ...] = ()
    unit: str = ""
    readout: str | None = None
    base: float = 10.0
    default: Any = _FROM_PARAMS

    @property
    def description(self) -> str:
        """The widget's label: "crash at (s)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def values(self) -> list[Any]:
        """A choice's values (without their labels)."""
        return [option[1] if isinstance(option, tuple) else option for option in self.options]

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this control, or ``None`` if the control accepts it."""
        if self.kind == "choice":
            return None if value in self.values else f"one of {', '.join(map(repr, self.values))}"
        if self.kind == "toggle":
            return None if isinstance(value, bool) else "True or False"
        low, high = (self.base ** self.low, self.base ** self.high) if self.kind == "log" else (self.low, self.high)
        whole = self.kind == "integer"
        wanted = f"{'a whole number' if whole else 'a number'} from {low:g} to {high:g}"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return wanted
        if (whole and not float(value).is_integer()) or not low - 1e-9 <= value <= high + 1e-9:
            return wanted
        return None


def integer(name: str, label: str, low: int, high: int, step: int = 1, *, unit: str = "",
            default: Any = _FROM_PARAMS) -> Control:
    """An integer slider from ``low`` to ``high``."""
    return Control(name, label, "integer", low, high, step, unit=unit, default=default)


def number(name: str, label: str, low: float, high: float, step: float, *, unit: str = "", readout: str | None = None,
           default: Any = _FROM_PARAMS) -> Control:
    """A slider of real numbers from ``low`` to ``high`` in ``step``s; ``readout`` formats its value (".0%")."""
    return Control(name, label, "number", low, high, step, unit=unit, readout=readout, default=default)


def log_number(name: str, label: str, low_power: float, high_power: float, step: float, *, base: float = 10.0,
               unit: str = "") -> Control:
    """A logarithmic slider from ``base ** low_power`` to ``base ** high_power``, ``step`` in powers."""
    return Control(name, label, "log", low_power, high_power, step, unit=unit, base=base)


def choice(name: str, label: str, options: Sequence[Any], *, unit: str = "") -> Control:
    """A drop-down of ``options`` (values, or ``(label, value)`` pairs)."""
    return Control(name, label, "choice", options=tuple(options), unit=unit)


def toggle(name: str, label: str, *, default: Any = _FROM_PARAMS) -> Control:
    """A checkbox."""
    return Control(name, label, "toggle", default=default)


def make_widget(control: Control, value: Any) -> Any:
    """The ipywidget for ``control``, showing ``value``."""
    import ipywidgets as widgets  # imported here: building figures must not need ipywidgets

    common: dict[str, Any] = dict(description=control.description, style={"description_width": "initial"})
    if control.readout is not None:
        common["readout_format"] = control.readout
    if control.kind == "integer":
        return widgets.IntSlider(value=int(value), min=int(control.low), max=int(control.high), step=int(control.step),
                                 **common)
    if control.kind == "number":
        return widgets.FloatSlider(value=float(value), min=control.low, max=control.high, step=control.step, **common)
    if control.kind == "log":
        return widgets.FloatLogSlider(value=float(value), base=control.base, min=control.low, max=control.high,
                                      step=control.step, **common)
    if control.kind == "choice":
        return widgets.Dropdown(options=list(control.options), value=value, **common)
    return widgets.Checkbox(value=bool(value), **common)


def _defaults(params: type, spec: Sequence[Control]) -> dict[str, Any]:
    """Each control's default: its own, else its field's in ``params`` (a spec that names neither is a bug)."""
    fields = {field.name for field in dataclasses.fields(params)}
    defaults = params()
    out = {}
    for control in spec:
        if control.default is not _FROM_PARAMS:
            out[control.name] = control.default
        elif control.name in fields:
            out[control.name] = getattr(defaults, control.name)
        else:
            raise TypeError(f"{control.name!r} is not a field of {params.__name__}: give the control a default")
        problem = control.problem(out[control.name])
        if problem is not None:
            raise TypeError(f"the default of {control.name!r}, {out[control.name]!r}, is not {problem}")
    return out


def check_overrides(spec: Sequence[Control], fixed: Mapping[str, Any], initial: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with each of ``initial``'s overrides that is not valid, one sentence each, by name."""
    controls = {control.name: control for control in spec}
    valid = [*controls, *fixed, "start_at_s"]
    problems = {}
    for name, value in initial.items():
        if name == "start_at_s":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                problems[name] = f"start_at_s must be a time in seconds, not {value!r}"
        elif name in controls:
            wanted = controls[name].problem(value)
            if wanted is not None:
                problems[name] = f"{name} must be {wanted}, not {value!r}"
        elif name not in fixed:
            problems[name] = f"this panel has no setting {name!r}; its settings are {', '.join(valid)}"
    return problems


def live_panel(scene: Scene[Drawn], run: Callable[..., Drawn], params: type, spec: Sequence[Control],
               initial: Mapping[str, Any], *, start_at_s: float = 0.0, fixed: Mapping[str, Any] | None = None,
               play_ms: int = 200, timeless: bool = False) -> LivePanel[Drawn]:
    """A live panel whose controls (``spec``) rerun ``run``, with defaults from the parameter class ``params``.

    ``run`` receives every control's value and every ``fixed`` setting as keyword arguments. ``initial``
    overrides a control's value, a ``fixed`` setting (settings a caller may change that have no control, such as
    ``seed``), or ``start_at_s``, the time the panel first shows. Overrides that are not valid, or a combination
    the model refuses, are left out: the panel starts from the defaults and its status line says why.
    ``timeless`` hides the time slider and play button (a model with one result and no time axis).
    """
    fixed = dict(fixed or {})
    defaults = {**_defaults(params, spec), **fixed, "start_at_s": start_at_s}
    found = check_overrides(spec, fixed, initial)
    problems = list(found.values())
    chosen = {name: value for name, value in initial.items() if name not in found}
    try:
        panel = _build(scene, run, spec, {**defaults, **chosen}, fixed, play_ms)
    except (ValueError, TypeError) as error:  # a combination the model refuses
        problems.append(f"{', '.join(f'{k}={v!r}' for k, v in chosen.items())}: {error}")
        panel = _build(scene, run, spec, defaults, fixed, play_ms)
    if problems:
        panel.status.value = ("<span style='color:#D55E00'><b>Not applied, the defaults kept instead:</b> "
                              f"{html.escape('; '.join(problems))}.</span>")
    if timeless:
        panel.play.layout.display = panel.time.layout.display = "none"
    return panel


def _build(scene: Scene[Drawn], run: Callable[..., Drawn], spec: Sequence[Control], values: Mapping[str, Any],
           fixed: Mapping[str, Any], play_ms: int) -> LivePanel[Drawn]:
    controls = {control.name: make_widget(control, values[control.name]) for control in spec}
    settings = {name: values[name] for name in fixed}

    def rerun(**chosen: Any) -> Drawn:
        return run(**settings, **chosen)

    return LivePanel(scene, rerun, controls, play_ms=play_ms, start_at_s=float(values["start_at_s"]))
