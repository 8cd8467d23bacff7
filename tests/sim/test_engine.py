"""The engine every model runs on: event order, handlers by kind, declared series, results without time."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from labsupport.sim import Result, Schema, Series, Simulation, Trace

COUNTER = Schema("counter", (Series("time_s", "s", ("time",)), Series("count", "count", ("time",)),
                             Series("per_worker", "count", ("time", "worker"))))


class Counter(Simulation):
    SCHEMA: ClassVar[Schema] = COUNTER

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.handled: list[tuple[float, str, Any]] = []

    def on_tick(self, n: int) -> None:
        self.handled.append((self.now, "tick", n))
        if n < 3:
            self.schedule(self.now + 1.0, "tick", n=n + 1)

    def on_alarm_bell(self, who: str) -> None:
        self.handled.append((self.now, "alarm-bell", who))
        self.record("alarm-bell", who, "test", loud=True)


def test_events_come_out_by_time_then_priority_then_first_in_first_out() -> None:
    sim = Counter()
    sim.schedule(1.0, "alarm-bell", who="late")
    sim.schedule(1.0, "alarm-bell", who="urgent", priority=-1)
    sim.schedule(0.0, "tick", n=0)
    sim.schedule(1.0, "alarm-bell", who="later")
    sim.run()
    assert sim.handled == [(0.0, "tick", 0), (1.0, "alarm-bell", "urgent"), (1.0, "alarm-bell", "late"),
                           (1.0, "alarm-bell", "later"), (1.0, "tick", 1), (2.0, "tick", 2), (3.0, "tick", 3)]
    assert [(e.time_s, e.subject, dict(e.data)) for e in sim.events] == [
        (1.0, "urgent", {"loud": True}), (1.0, "late", {"loud": True}), (1.0, "later", {"loud": True})]


def test_run_stops_before_the_first_event_after_the_horizon_and_can_go_on() -> None:
    sim = Counter()
    sim.schedule(0.0, "tick", n=0)
    sim.run(until_s=1.5)
    assert [h[2] for h in sim.handled] == [0, 1] and sim.pending == 1 and sim.now == 1.0
    sim.run()
    assert [h[2] for h in sim.handled] == [0, 1, 2, 3] and sim.pending == 0


def test_next_event_s_is_when_the_next_event_is_due() -> None:
    sim = Counter()
    assert sim.next_event_s == float("inf")
    sim.schedule(2.5, "alarm-bell", who="later")
    sim.schedule(0.0, "tick", n=0)
    assert sim.next_event_s == 0.0
    sim.run(until_s=1.5)
    assert sim.next_event_s == 2.0  # the tick the first two ticks scheduled
    sim.run()
    assert sim.next_event_s == float("inf")


def test_scheduling_in_the_past_or_an_unknown_kind_is_a_clear_error() -> None:
    sim = Counter()
    sim.schedule(2.0, "tick", n=3)
    sim.run()
    with pytest.raises(ValueError, match="already at 2.0 s"):
        sim.schedule(1.0, "tick", n=0)
    sim.schedule(3.0, "meteor-strike")
    with pytest.raises(NotImplementedError, match="on_meteor_strike"):
        sim.run()


def test_a_trace_holds_exactly_the_declared_series_with_consistent_axes() -> None:
    sim = Counter(seed=4)
    good = {"time_s": np.arange(3.0), "count": np.zeros(3), "per_worker": np.zeros((3, 2))}
    trace = sim.trace(params={"n": 3}, series=good, computed={"busiest": 2})
    assert isinstance(trace, Trace) and trace.schema is COUNTER and trace.seed == 4 and trace.model == "counter"
    assert dict(trace.params) == {"n": 3} and trace.computed["busiest"] == 2  # inputs and conclusions apart
    with pytest.raises(TypeError):
        trace.computed["busiest"] = 3  # type: ignore[index]
    assert dict(sim.trace(params={}, series=good).computed) == {}
    assert COUNTER["count"].unit == "count" and COUNTER.names == ("time_s", "count", "per_worker")
    with pytest.raises(ValueError, match=r"missing \['per_worker'\], undeclared \['extra'\]"):
        sim.trace(params={}, series={"time_s": np.arange(3.0), "count": np.zeros(3), "extra": np.zeros(3)})
    with pytest.raises(ValueError, match="axis 'time' is 4 long"):
        sim.trace(params={}, series={**good, "count": np.zeros(4)})
    with pytest.raises(ValueError, match="declared axes"):
        sim.trace(params={}, series={**good, "per_worker": np.zeros(3)})
    with pytest.raises(KeyError, match="declares no series 'nope'"):
        COUNTER["nope"]
    with pytest.raises(ValueError, match="declared twice"):
        Schema("twice", (Series("a", "", ("x",)), Series("a", "", ("x",))))


def test_sorting_the_log_keeps_same_time_events_in_recorded_order() -> None:
    sim = Counter()
    sim.record("b", at_s=2.0)
    sim.record("a", at_s=1.0)
    sim.record("c", at_s=1.0)
    good = {"time_s": np.arange(1.0), "count": np.zeros(1), "per_worker": np.zeros((1, 1))}
    assert [e.kind for e in sim.trace(params={}, series=good, sort=True).events] == ["a", "c", "b"]
    with pytest.raises(ValueError, match="time order"):
        sim.trace(params={}, series=good)


def test_a_result_without_time_is_read_only_and_keeps_conclusions_out_of_params() -> None:
    schema = Schema("bill", (Series("rate_per_s", "1/s", ("rate",)), Series("usd", "USD", ("rate",))))
    result = schema.result(params={"memory_mb": 512}, seed=0,
                           values={"rate_per_s": [0.0, 1.0], "usd": [0.0, 2.5]}, computed={"break_even": 0.7})
    assert isinstance(result, Result) and dict(result.params) == {"memory_mb": 512}
    assert result.computed["break_even"] == 0.7
    with pytest.raises(ValueError):
        result.values["usd"][0] = 1.0
    with pytest.raises(TypeError):
        result.computed["break_even"] = 1.0  # type: ignore[index]
    with pytest.raises(ValueError, match="missing"):
        schema.result(params={}, seed=0, values={"usd": [1.0]})
