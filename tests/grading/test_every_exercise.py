"""Every registered exercise of every lesson: the solution build passes, the student build is not attempted.

A new lesson's exercises are covered here as soon as they are registered; its own test file keeps only the
wrong answers worth checking.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from labsupport.course import find_lessons
from labsupport.grading import Status, all_exercises, check
from tests.helpers import ROOT, lesson_answers

SLUGS = {lesson.number: lesson.slug for lesson in find_lessons(ROOT / "lessons")}
IDS = list(all_exercises())


@cache
def _answers(lesson: str, flavour: str) -> dict[str, Any]:
    return lesson_answers(SLUGS[lesson], flavour)


def test_every_exercise_belongs_to_a_lesson() -> None:
    assert {ex.lesson for ex in all_exercises().values()} <= set(SLUGS)


@pytest.mark.parametrize("ex_id", IDS)
def test_solution_passes(ex_id: str) -> None:
    result = check(ex_id, _answers(ex_id.split(".")[0], "solution")[ex_id])
    assert result.status is Status.PASSED, str(result)
    assert result.points == result.max_points > 0


@pytest.mark.parametrize("ex_id", IDS)
def test_student_stub_is_not_attempted(ex_id: str) -> None:
    result = check(ex_id, _answers(ex_id.split(".")[0], "student")[ex_id])
    assert result.status is Status.NOT_ATTEMPTED, str(result)
    assert result.points == 0
