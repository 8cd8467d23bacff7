"""Every lesson has the parts a learner relies on: goals, predictions, a picture, exercises, sources, summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from labsupport.course import find_lessons

ROOT = Path(__file__).resolve().parents[2]
LESSONS = find_lessons(ROOT / "lessons")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_has_the_expected_parts(lesson) -> None:
    text = lesson.path.read_text(encoding="utf-8")
    assert "By the end of this lesson" in text, "learning goals first"
    assert "**Predict" in text, "at least one predict-then-run moment"
    assert "## Summary" in text
    assert "animate(" in text, "an animation that plays without a kernel"
    assert "_panel(" in text, "a live panel whose controls rerun the model"
    assert len(re.findall(r":tags: \[exercise:", text)) >= 2, "two or more graded exercises"
    assert len(re.findall(r'check\("', text)) >= 2, "each exercise followed by a check"
    assert re.search(r"(Source|documentation|User Guide|\(\w+, \d{4}\))", text), "facts name their sources"
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings and headings[-1] == "Sources", "the lesson ends with a Sources section"


def test_lesson_numbers_are_unique_and_ascending() -> None:
    """Lessons are built in parallel (05 before 03 and 04 exist), so gaps are allowed; duplicates are not."""
    numbers = [int(lesson.number) for lesson in LESSONS]
    assert numbers and numbers[0] == 0
    assert numbers == sorted(set(numbers)), f"lesson numbers repeat or are out of order: {numbers}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_title_carries_its_own_number(lesson) -> None:
    """A renumbered lesson must not keep its old number in the heading a learner reads first."""
    title = re.search(r"^# (\d\d) · ", lesson.path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert title, "the lesson starts with a '# NN · Title' heading"
    assert title.group(1) == lesson.number, f"{lesson.path.name} is titled {title.group(1)}"
