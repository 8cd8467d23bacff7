"""Exercises, in-notebook checks and grading.

In a lesson::

    from labsupport.grading import check
    check("00.alert_rule", alert_rule)

Grading reads models and answers, never views.
"""

from labsupport.grading._check import check, is_unanswered, run_tests
from labsupport.grading._registry import Exercise, PublicTest, Wrong, all_exercises, exercise, get, lesson_exercises
from labsupport.grading._result import CheckResult, Status, TestOutcome

__all__ = [
    "CheckResult", "Exercise", "PublicTest", "Status", "TestOutcome", "Wrong", "all_exercises", "check",
    "exercise", "get", "is_unanswered", "lesson_exercises", "run_tests",
]
