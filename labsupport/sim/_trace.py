"""The event/trace contract that every model in :mod:`labsupport.sim` follows.

A model takes parameters and a seed and returns a :class:`Trace`: a frozen, ordered log of
:class:`Event` objects plus derived numeric series. Views read traces and nothing else.

Determinism rules:

* time is seconds as a ``float`` (names end in ``_s``);
* events are ordered by ``(time_s, priority, sequence)``, so two events at the same instant
  always come out in the same order (the idea is SimPy's event heap);
* randomness only comes from :func:`generator`, made from the seed (the Kubernetes scheduler's tie-break alone
  keeps Python's ``random.Random(seed)``, as its traces were frozen with it).
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Event", "EventQueue", "Result", "Schema", "Series", "Trace", "generator"]


def freeze(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``mapping`` (events and traces never change once made)."""
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a model at ``time_s``.

    ``kind`` says what happened (``"crash"``), ``subject`` to what (``"instance-2"``),
    ``actor`` which part of the system made it happen (``"runtime-management"``), and
    ``data`` holds any further facts (read-only).
    """

    time_s: float
    kind: str
    subject: str = ""
    actor: str = ""
    data: Mapping[str, Any] = field(default_factory=freeze)

    def __post_init__(self) -> None:
        if not isinstance(self.data, MappingProxyType):
            object.__setattr__(self, "data", freeze(self.data))

    def describe(self) -> str:
        """A one-line, human-readable account of the event."""
        who = f"{self.actor}: " if self.actor else ""
        what = f"{self.kind} {self.subject}".strip()
        extra = ", ".join(f"{k}={v}" for k, v in self.data.items())
        return f"t={self.time_s:7.2f}s  {who}{what}" + (f" ({extra})" if extra else "")


_new_event = object.__new__
_set_time, _set_kind, _set_subject, _set_actor, _set_data = (
    getattr(Event, name).__set__ for name in ("time_s", "kind", "subject", "actor", "data"))


def make_event(time_s: float, kind: str, subject: str, actor: str, data: MappingProxyType[str, Any]) -> Event:
    """``Event(time_s, kind, subject, actor, data)`` for data that is already read-only, at half the cost.

    The frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` and then runs
    ``__post_init__``; this sets the slots directly. :meth:`Simulation.record` makes one per logged event.
    """
    event: Event = _new_event(Event)
    _set_time(event, time_s)
    _set_kind(event, kind)
    _set_subject(event, subject)
    _set_actor(event, actor)
    _set_data(event, data)
    return event


class EventQueue:
    """A future-event list ordered by ``(time_s, priority, sequence)``.

    ``sequence`` is the insertion order, so equal times and priorities pop first-in first-out and a
    rerun with the same seed pops the same events in the same order.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Any]] = []
        self._sequence = itertools.count()

    def push(self, time_s: float, item: Any, priority: int = 0) -> None:
        if not math.isfinite(time_s):  # math, not numpy: this runs once per event and numpy's costs 1 µs
            raise ValueError(f"event time must be finite, got {time_s!r}")
        heapq.heappush(self._heap, (float(time_s), priority, next(self._sequence), item))

    def pop(self) -> tuple[float, Any]:
        time_s, _priority, _seq, item = heapq.heappop(self._heap)
        return time_s, item

    def peek_time(self) -> float:
        return self._heap[0][0] if self._heap else float("inf")

    def __len__(self) -> int:
        return len(self._heap)

    def __bool__(self) -> bool:
        return bool(self._heap)


def generator(seed: int) -> np.random.Generator:
    """The source of randomness a model may use (a model reaches it as ``Simulation.random``)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    return np.random.default_rng(seed)


def _readonly(values: Any) -> np.ndarray:
    array = np.array(values)  # a copy: the model cannot change it afterwards
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Trace:
    """What a model run produced: parameters, seed, ordered events, derived series.

    ``params`` holds the run's inputs only (every field of its parameter class); ``computed`` the figures the
    model derived from them that a view or a check reads (a batch size, the room on a node, a build's total
    time). ``series`` maps a name to a read-only numpy array; arrays that share a time axis share its length
    (by convention the axis is the series ``"time_s"``).
    """

    model: str
    params: Mapping[str, Any]
    seed: int
    events: tuple[Event, ...]
    series: Mapping[str, np.ndarray]
    computed: Mapping[str, Any] = field(default_factory=freeze)
    schema: Schema | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Converted first, then checked: the check reads each array's shape (np.shape on a list would convert it
        # a second time). A trace is made once per run, so this is on every model's path.
        series = {k: _readonly(v) for k, v in self.series.items()}
        if self.schema is not None:
            self.schema.check(series, where=f"the {self.model} trace")
        object.__setattr__(self, "params", freeze(self.params))
        object.__setattr__(self, "computed", freeze(self.computed))
        events = self.events if type(self.events) is tuple else tuple(self.events)
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "series", MappingProxyType(series))
        times = [e.time_s for e in events]
        if any(map(operator.gt, times, times[1:])):  # an earlier event after a later one (in C: no generator)
            raise ValueError("trace events must be in time order")

    def of_kind(self, *kinds: str) -> tuple[Event, ...]:
        return tuple(e for e in self.events if e.kind in kinds)

    def between(self, start_s: float, end_s: float) -> tuple[Event, ...]:
        """The events with ``start_s < time_s <= end_s`` (what happened during one step of an animation)."""
        return tuple(e for e in self.events if start_s < e.time_s <= end_s)

    def first(self, kind: str, subject: str | None = None) -> Event | None:
        for event in self.events:
            if event.kind == kind and (subject is None or event.subject == subject):
                return event
        return None

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def log(self, limit: int | None = None) -> str:
        """The event log as text, one event per line."""
        events = self.events if limit is None else self.events[:limit]
        return "\n".join(e.describe() for e in events)


@dataclass(frozen=True, slots=True)
class Series:
    """One series a model records: its ``name``, ``unit`` (``"s"``, ``"MB"``, ``"cores"``, ``"share"`` for 0..1,
    ``"count"``, ``"USD"``, ``""`` for a flag or a label) and ``axes``, the name of each dimension (``("time",)``,
    ``("time", "instance")``). Series that name the same axis have the same length along it."""

    name: str
    unit: str
    axes: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """What a model declares it records, in one place (as Mesa's DataCollector declares what it gathers).

    Views and tests read ``schema.series`` for names, units and shapes; :meth:`check` makes a run that records
    anything else, or leaves a declared series out, fail where it is made rather than in a view.
    """

    model: str
    series: tuple[Series, ...]
    #: The declared names, as a tuple and as a set, worked out once: :meth:`check` runs on every trace.
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _name_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(s.name for s in self.series)
        if len(set(names)) != len(names):
            raise ValueError(f"{self.model}: a series is declared twice: {list(names)}")
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_name_set", frozenset(names))

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, name: str) -> Series:
        for s in self.series:
            if s.name == name:
                return s
        raise KeyError(f"{self.model} declares no series {name!r}; it declares {', '.join(self.names)}")

    def check(self, values: Mapping[str, Any], *, where: str = "") -> None:
        where = where or f"the {self.model} run"
        if values.keys() != self._name_set:
            missing = [n for n in self._names if n not in values]
            extra = sorted(set(values) - self._name_set)
            raise ValueError(f"{where} must record exactly its declared series: "
                             f"missing {missing or 'none'}, undeclared {extra or 'none'}")
        lengths: dict[str, tuple[int, str]] = {}
        for s in self.series:
            value = values[s.name]
            shape = value.shape if type(value) is np.ndarray else np.shape(value)
            if len(shape) != len(s.axes):
                raise ValueError(f"{where}: series {s.name!r} has shape {shape}, declared axes {s.axes}")
            for axis, n in zip(s.axes, shape, strict=True):
                seen = lengths.setdefault(axis, (n, s.name))
                if seen[0] != n:
                    raise ValueError(f"{where}: axis {axis!r} is {n} long in {s.name!r} but {seen[0]} in {seen[1]!r}")

    def trace(self, *, params: Mapping[str, Any], seed: int, events: Any, series: Mapping[str, Any],
              computed: Mapping[str, Any] | None = None) -> Trace:
        return Trace(model=self.model, params=params, seed=seed, events=tuple(events), series=series,
                     computed=computed or {}, schema=self)

    def result(self, *, params: Mapping[str, Any], seed: int, values: Mapping[str, Any],
               computed: Mapping[str, Any] | None = None) -> Result:
        return Result(model=self.model, params=params, seed=seed, values=values, computed=computed or {},
                      schema=self)


@dataclass(frozen=True)
class Result:
    """What a model with no time axis produced: a comparison, a packing, a cost curve.

    ``params`` holds the inputs only; ``values`` the declared arrays (read-only); ``computed`` what the model
    concluded from them (a recommendation, a break-even rate).
    """

    model: str
    params: Mapping[str, Any]
    seed: int
    values: Mapping[str, np.ndarray]
    computed: Mapping[str, Any] = field(default_factory=freeze)
    schema: Schema | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        values = {k: _readonly(v) for k, v in self.values.items()}
        if self.schema is not None:
            self.schema.check(values, where=f"the {self.model} result")
        object.__setattr__(self, "params", freeze(self.params))
        object.__setattr__(self, "values", MappingProxyType(values))
        object.__setattr__(self, "computed", freeze(self.computed))
