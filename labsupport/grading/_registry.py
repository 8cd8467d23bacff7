"""The exercise registry: every graded exercise, its answer's expected form, and its public tests.

An exercise's public tests are what :func:`~labsupport.grading.check` runs in the notebook and what the grader
runs too. A test is a function of the answer that returns nothing when the answer is right and raises
:class:`Wrong` with a message (and a hint) when it is not. Messages describe what is wrong with the learner's
answer; they never print the expected answer.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Exercise", "PublicTest", "Wrong", "all_exercises", "exercise", "get", "lesson_exercises"]


class Wrong(AssertionError):
    """Raised by a test: ``message`` says what is wrong, ``hint`` what to think about."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True, slots=True)
class PublicTest:
    name: str
    points: float
    run: Callable[[Any], None]


@dataclass(frozen=True)
class Exercise:
    """``id`` is ``"NN.answer_name"``: the lesson number, then the name the answer is bound to."""

    id: str
    title: str
    expects: str  # what the answer must be, in words ("a function f(window) -> bool")
    accepts: Callable[[Any], bool]  # is the answer of the right form at all?
    tests: tuple[PublicTest, ...] = field(default_factory=tuple)

    @property
    def lesson(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def answer_name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def tag(self) -> str:
        """The cell tag that marks the cell holding this exercise's answer."""
        return f"exercise:{self.id}"


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def exercise(id: str, title: str, *, expects: str, accepts: Callable[[Any], bool]) -> Callable[
        [Callable[[], list[PublicTest]]], Exercise]:
    """Register an exercise; decorates a function that returns its public tests."""

    def register(make_tests: Callable[[], list[PublicTest]]) -> Exercise:
        if id in _REGISTRY:
            raise ValueError(f"exercise {id!r} is registered twice")
        if "." not in id or not id.split(".", 1)[0].isdigit():
            raise ValueError(f"exercise id {id!r} must look like 'NN.answer_name'")
        ex = Exercise(id=id, title=title, expects=expects, accepts=accepts, tests=tuple(make_tests()))
        _REGISTRY[id] = ex
        return ex

    return register


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    from labsupport.grading import exercises

    for info in pkgutil.iter_modules(exercises.__path__):
        importlib.import_module(f"{exercises.__name__}.{info.name}")
    _LOADED = True


def get(exercise_id: str) -> Exercise | None:
    _load()
    return _REGISTRY.get(exercise_id)


def all_exercises() -> dict[str, Exercise]:
    _load()
    return dict(sorted(_REGISTRY.items()))


def lesson_exercises(lesson: str) -> list[Exercise]:
    """The exercises of lesson ``"00"`` (or ``"00_overview"``), in id order."""
    number = lesson.split("_", 1)[0]
    return [ex for ex in all_exercises().values() if ex.lesson == number]
