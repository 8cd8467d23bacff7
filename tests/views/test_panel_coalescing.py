"""A panel never queues stale reruns: changes from the browser that arrive before a rerun runs collapse into one.

A change from the browser reaches a widget through ``Widget.set_state`` (what ipywidgets' comm handler calls
with the message's state), which holds the property lock while observers run; that is how the panel tells it
from a change made in Python, which reruns at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from labsupport.views.overview import overview_panel


def _counting(panel: Any) -> list[dict[str, Any]]:
    """Every run of ``panel``'s model from now on, with the values it ran with."""
    runs: list[dict[str, Any]] = []
    model = panel._run

    def run(**values: Any) -> Any:
        runs.append(values)
        return model(**values)

    panel._run = run
    return runs


def _in_a_loop_of_its_own(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """``asyncio.run(coroutine())`` in a thread of its own, as a kernel's loop would run it: this test process may
    already have a loop running in its main thread (Playwright's, from the browser tests' session fixtures)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coroutine())
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


def test_browser_changes_before_the_rerun_collapse_into_one_with_the_last_values() -> None:
    panel = overview_panel()
    runs = _counting(panel)
    queue: list[Callable[[], None]] = []
    panel.schedule = queue.append  # the event loop, turned by hand
    instances = panel.controls["instances"]
    for value in (4, 5, 6):  # three key presses, delivered before the loop turns once
        instances.set_state({"value": value})
    assert runs == [] and len(queue) == 1  # nothing ran yet; one callback waits
    turns = 0
    while queue:
        queue.pop(0)()
        turns += 1
        if turns == 3:
            panel.controls["crash_at_s"].set_state({"value": 50.0})  # one more arrives while it waits
    assert len(runs) == 1
    assert runs[0]["instances"] == 6 and runs[0]["crash_at_s"] == 50.0
    assert "instance-5" in str(panel.figure.to_plotly_json())  # the picture is the last values' run
    assert turns > 3 + 8  # after the late change it waited its quiet turns again


def test_on_a_real_event_loop_queued_changes_give_one_rerun() -> None:
    panel = overview_panel()
    runs = _counting(panel)

    async def learner() -> None:
        for value in (2, 3, 7):
            panel.controls["instances"].set_state({"value": value})
        for _ in range(50):
            await asyncio.sleep(0)

    _in_a_loop_of_its_own(learner)
    assert [r["instances"] for r in runs] == [7]
    assert panel.trace.params["instances"] == 7


def test_a_time_change_from_the_browser_is_drawn_once_at_the_latest_time() -> None:
    panel = overview_panel()
    queue: list[Callable[[], None]] = []
    panel.schedule = queue.append
    drawn: list[int] = []
    show = panel.show
    panel.show = lambda k: (drawn.append(k), show(k))[1]  # type: ignore[method-assign]
    for seconds in (10.0, 20.0, 30.0):
        panel.time.set_state({"value": seconds})
    assert drawn == []
    while queue:
        queue.pop(0)()
    assert drawn == [panel._nearest(30.0)] and panel.play.value == panel.step


def test_a_change_made_in_python_reruns_at_once_even_inside_an_event_loop() -> None:
    panel = overview_panel()
    runs = _counting(panel)

    async def cell() -> None:  # a notebook cell runs inside the kernel's loop
        panel.controls["instances"].value = 5
        assert len(runs) == 1 and panel.trace.params["instances"] == 5

    _in_a_loop_of_its_own(cell)
    assert len(runs) == 1
