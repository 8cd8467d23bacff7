"""Exercises, in-notebook checks and grading.

In a lesson::

    from labsupport.grading import check
    check("00.alert_rule", alert_rule)

For instructors (the ``labsupport`` command uses exactly this)::

    from labsupport.grading import grade, grade_one, Limits
    book = grade(Path("submissions"), Path("results"), Path("notebooks"), hidden=Path("hidden_tests"))

Grading reads models and answers, never views. The grader's names are imported on first use, so that a
notebook's ``from labsupport.grading import check`` stays light.
"""

from typing import TYPE_CHECKING, Any

from labsupport.grading._check import check, is_unanswered, run_tests
from labsupport.grading._context import setup_record
from labsupport.grading._registry import Exercise, PublicTest, Wrong, all_exercises, exercise, get, lesson_exercises
from labsupport.grading._result import CheckResult, Status, TestOutcome

if TYPE_CHECKING:
    from labsupport.grading._feedback import feedback_html
    from labsupport.grading._grader import (
        ExerciseGrade,
        Gradebook,
        NotebookGrade,
        classroom_result,
        course_lessons,
        grade,
        grade_one,
    )
    from labsupport.grading._hidden import HiddenOutcome
    from labsupport.grading._sandbox import Limits

_LAZY = {
    "ExerciseGrade": "_grader", "Gradebook": "_grader", "NotebookGrade": "_grader", "classroom_result": "_grader",
    "course_lessons": "_grader", "grade": "_grader", "grade_one": "_grader", "feedback_html": "_feedback",
    "HiddenOutcome": "_hidden", "Limits": "_sandbox",
}

__all__ = [
    "CheckResult", "Exercise", "ExerciseGrade", "Gradebook", "HiddenOutcome", "Limits", "NotebookGrade",
    "PublicTest", "Status", "TestOutcome", "Wrong", "all_exercises", "check", "classroom_result", "course_lessons",
    "exercise", "feedback_html", "get", "grade", "grade_one", "is_unanswered", "lesson_exercises", "run_tests",
    "setup_record",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
