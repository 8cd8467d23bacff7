"""The sample hidden tests in ``instructor/hidden_tests``: each one must be able to fail.

Every sample test is run (as the grader runs it) on the untouched student answer and on an empty answer of
the solution's type ({} for a dict, "" for a string, 0 for a number, a function that returns None): none may
give a point. The solution's answers must pass them all.
"""

from __future__ import annotations

from typing import Any

import pytest

from labsupport.course import find_lessons
from labsupport.grading import lesson_exercises
from labsupport.grading._hidden import collect_hidden, hidden_folder, run_hidden
from tests.helpers import ROOT, lesson_answers

HIDDEN = ROOT / "instructor" / "hidden_tests"
SAMPLED = [lesson.slug for lesson in find_lessons(ROOT / "lessons") if (HIDDEN / lesson.slug).is_dir()]


def _empty_like(answer: Any) -> Any:
    if callable(answer):
        return lambda *args, **kwargs: None
    for kind in (bool, dict, list, tuple, set, str, int, float):
        if isinstance(answer, kind):
            return kind()
    return None


def _run(slug: str, answers: dict[str, Any]) -> list[Any]:
    names = {ex.answer_name: ex.id for ex in lesson_exercises(slug)}
    folder = hidden_folder(HIDDEN, slug)
    tests, problems = collect_hidden(folder, names)
    assert tests and not problems, problems
    outcomes, problems = run_hidden(folder, names, answers, tests)
    assert not problems, problems
    return outcomes


def test_every_sample_folder_is_a_lesson() -> None:
    assert SAMPLED and sorted(SAMPLED) == sorted(p.name for p in HIDDEN.iterdir() if p.is_dir())


@pytest.mark.parametrize("slug", SAMPLED)
def test_solution_passes_every_sample_hidden_test(slug: str) -> None:
    outcomes = _run(slug, lesson_answers(slug, "solution"))
    assert all(o.passed for o in outcomes), [o.name for o in outcomes if not o.passed]


@pytest.mark.parametrize("flavour", ["untouched", "empty"])
@pytest.mark.parametrize("slug", SAMPLED)
def test_no_sample_hidden_test_passes_an_empty_answer(slug: str, flavour: str) -> None:
    if flavour == "untouched":
        answers = lesson_answers(slug, "student")
    else:
        answers = {ex_id: _empty_like(value) for ex_id, value in lesson_answers(slug, "solution").items()}
    outcomes = _run(slug, answers)
    passed = [f"{o.exercise_id}: {o.name}" for o in outcomes if o.passed or o.points]
    assert not passed, f"these hidden tests give points to an {flavour} answer: {passed}"

