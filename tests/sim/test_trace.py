"""The event/trace contract every model follows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from labsupport.sim import Event, EventQueue, ParameterError, Trace, check_int, check_number, generator


def test_queue_orders_by_time_then_priority_then_insertion() -> None:
    q = EventQueue()
    q.push(2.0, "late")
    q.push(1.0, "b", priority=1)
    q.push(1.0, "a", priority=0)
    q.push(1.0, "c", priority=1)
    assert [q.pop()[1] for _ in range(4)] == ["a", "b", "c", "late"]
    assert not q and q.peek_time() == float("inf")


def test_queue_rejects_non_finite_times() -> None:
    with pytest.raises(ValueError, match="finite"):
        EventQueue().push(float("nan"), "x")


def test_event_data_is_read_only() -> None:
    event = Event(1.0, "crash", "instance-0", "fault", {"reason": "oom"})
    with pytest.raises(TypeError):
        event.data["reason"] = "other"  # type: ignore[index]
    with pytest.raises(AttributeError):
        event.time_s = 2.0  # type: ignore[misc]
    assert "fault: crash instance-0 (reason=oom)" in event.describe()


def test_trace_freezes_series_and_checks_order() -> None:
    values = [1, 2, 3]
    trace = Trace("m", {"a": 1}, 0, (Event(0.0, "x"), Event(1.0, "y")), {"v": values})
    values.append(4)
    assert trace.series["v"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError):
        trace.series["v"][0] = 9
    assert [e.kind for e in trace.of_kind("y")] == ["y"]
    with pytest.raises(ValueError, match="time order"):
        Trace("m", {}, 0, (Event(1.0, "x"), Event(0.0, "y")), {})


def test_the_generator_is_seeded_and_typed() -> None:
    assert generator(3).random() == generator(3).random() != generator(4).random()
    with pytest.raises(TypeError):
        generator(1.5)  # type: ignore[arg-type]


def test_parameter_checks_say_what_is_valid() -> None:
    assert check_number("x", 2, low=0) == 2.0
    assert check_int("n", 3.0, low=1) == 3
    with pytest.raises(ParameterError, match="x must be at least 0, got -1"):
        check_number("x", -1, low=0)
    with pytest.raises(ParameterError, match="must be a number, got str"):
        check_number("x", "3")
    with pytest.raises(ParameterError, match="whole number"):
        check_int("n", 2.5)
    with pytest.raises(ParameterError, match="finite"):
        check_number("x", np.inf)


def test_models_import_no_ui_library() -> None:
    code = (
        "import importlib, pkgutil, sys, labsupport.sim as s\n"
        "for m in pkgutil.walk_packages(s.__path__, 'labsupport.sim.'): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('ipywidgets', 'plotly', 'IPython'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"labsupport.sim loaded UI modules: {out.stdout}"


def test_between_is_open_at_the_start_and_closed_at_the_end() -> None:
    trace = Trace("m", {}, 0, (Event(0.0, "a"), Event(1.0, "b"), Event(1.5, "c"), Event(2.0, "d")), {})
    assert [e.kind for e in trace.between(1.0, 2.0)] == ["c", "d"]
    assert trace.between(2.0, 3.0) == ()
