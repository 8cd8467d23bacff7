"""The one small engine every model runs on: a future-event list, handlers by kind, declared series.

A model is a subclass of :class:`Simulation` with one method per kind of event, as SimPy's processes and
Mesa's agents structure theirs::

    class Machine(Simulation):
        SCHEMA = Schema("machine", (Series("memory_mb", "MB", ("time", "instance")), ...))

        def on_tick(self, step: int) -> None:      # handles the "tick" events
            ...
            self.schedule(self.now + 1.0, "tick", step=step + 1)

        def on_oom_kill(self, victim: str) -> None:  # "oom-kill": the dash becomes an underscore
            self.record("oom-kill", victim, "kernel", rss_mb=...)

    sim = Machine(params, seed)
    sim.schedule(0.0, "tick", step=0)
    sim.run(until_s=params.duration_s)
    return sim.trace(params=params_dict(params), series={...})

Time only advances by popping the next event (``(time_s, priority, sequence)`` order, so same-time events
come out first-in first-out and a rerun pops them in the same order). A model that advances in fixed steps
schedules a ``tick`` per step; work that is the same for every step (numpy over all steps at once) belongs
after :meth:`Simulation.run`. What a model *records* (:meth:`Simulation.record`) is the trace's event log; what
it *schedules* is its own business.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from labsupport.sim._trace import Event, EventQueue, Result, Schema, Trace, generator, make_event

__all__ = ["Simulation"]


class Simulation:
    """Base class of a model: schedule events, handle them in ``on_<kind>`` methods, record what happened.

    ``SCHEMA`` declares the model's name and the series its trace holds (see :class:`~labsupport.sim.Schema`);
    :meth:`trace` checks the series against it.
    """

    SCHEMA: ClassVar[Schema]

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._random: np.random.Generator | None = None
        self.now = 0.0
        self.events: list[Event] = []
        self._queue = EventQueue()
        self._handlers: dict[str, Any] = {}  # kind -> bound method, looked up once per kind

    @property
    def random(self) -> np.random.Generator:
        """The model's only source of randomness, made from the seed when first used (a model that draws
        nothing, such as the build cache, does not pay the 15 µs a generator costs)."""
        if self._random is None:
            self._random = generator(self.seed)
        return self._random

    # -- time -----------------------------------------------------------------------------------------
    def schedule(self, time_s: float, kind: str, *, priority: int = 0, **data: Any) -> None:
        """Have ``on_<kind>(**data)`` called at ``time_s`` (never earlier than now)."""
        if time_s < self.now:
            raise ValueError(f"cannot schedule {kind!r} at {time_s} s: the model is already at {self.now} s")
        self._queue.push(time_s, (kind, data), priority)  # the item is a plain (kind, data) tuple

    def run(self, until_s: float = float("inf")) -> None:
        """Handle events in time order until none is left or the next is later than ``until_s``."""
        # The queue's heap read directly, and local names: this loop runs once per event, and a model that
        # ticks every step runs it thousands of times (a method call per look at the queue costs more than the
        # look itself).
        heap, handlers, pop = self._queue._heap, self._handlers, heapq.heappop
        while heap and heap[0][0] <= until_s:
            self.now, _priority, _sequence, (kind, data) = pop(heap)
            (handlers.get(kind) or self.handler(kind))(**data)

    def handler(self, kind: str) -> Any:
        method = self._handlers.get(kind) or getattr(self, "on_" + kind.replace("-", "_"), None)
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} has no handler on_{kind.replace('-', '_')}")
        self._handlers[kind] = method
        return method

    @property
    def pending(self) -> int:
        """How many events are scheduled and not yet handled."""
        return len(self._queue)

    @property
    def next_event_s(self) -> float:
        """When the next scheduled event is due (``inf`` if none is): until then nothing in the model changes."""
        return self._queue.peek_time()

    # -- what happened --------------------------------------------------------------------------------
    def record(self, kind: str, subject: str = "", actor: str = "", *, at_s: float | None = None,
               **data: Any) -> Event:
        """Log an event at the current time (or ``at_s``) in the trace."""
        # ``data`` is this call's own dict, so it is wrapped read-only as it is, not copied (Event would copy it)
        event = make_event(self.now if at_s is None else float(at_s), kind, subject, actor, MappingProxyType(data))
        self.events.append(event)
        return event

    def trace(self, params: Mapping[str, Any], series: Mapping[str, Any], *,
              events: Sequence[Event] | None = None, sort: bool = False,
              computed: Mapping[str, Any] | None = None) -> Trace:
        """The run's trace; ``series`` must be exactly what ``SCHEMA`` declares.

        ``sort=True`` orders the log by time (stable: same-time events keep the order they were recorded in),
        for models that record some events after the fact.
        """
        log = list(self.events if events is None else events)
        if sort:
            log.sort(key=lambda e: e.time_s)
        return self.SCHEMA.trace(params=params, seed=self.seed, events=log, series=series, computed=computed)

    def result(self, params: Mapping[str, Any], values: Mapping[str, Any],
               computed: Mapping[str, Any] | None = None) -> Result:
        """A result without a time axis (see :class:`~labsupport.sim.Result`)."""
        return self.SCHEMA.result(params=params, seed=self.seed, values=values, computed=computed)

