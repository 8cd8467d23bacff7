"""Predictions are not spoiled: nothing just above a **Predict** prompt shows its answer, and the answer follows it.

The structure every lesson keeps:

* a prompt is the last paragraph of its Markdown cell (an answer written in the same cell must sit in a collapsed
  ``<details>`` block);
* the code cells directly above a prompt, with no prose between, draw no model result: no event log, animation,
  figure or panel (a prompt after prose, such as a new section's heading or the last prompt's explanation,
  follows answers to earlier questions);
* the cell right after a prompt is the code cell whose output answers it (or a ``<details>`` block);
* the lesson tells learners to run cell by cell on a first pass, not to Run All, which shows every answer at once.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from labsupport.course import find_lessons
from labsupport.course._build import Lesson, build_lesson
from tests.helpers import ROOT

LESSONS = find_lessons(ROOT / "lessons")
#: What a code cell calls when it shows a model's result: an event log, an animation, a figure or a live panel.
SHOWS_A_RESULT = re.compile(r"\.log\(|\banimate\(|figure\(|_panel\(")
_DETAILS = re.compile(r"<details>.*?</details>", re.DOTALL)


def _paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", _DETAILS.sub("", markdown)) if p.strip()]


def prediction_problems(cells: list[nbformat.NotebookNode]) -> list[str]:
    """What breaks the structure above, one line per problem (empty when the lesson keeps it)."""
    problems = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or "**Predict" not in cell.source:
            continue
        paragraphs = _paragraphs(cell.source)
        prompt = next(p for p in paragraphs if "**Predict" in p)
        where = f"cell {i + 1} ({prompt[:50]!r})"
        if paragraphs[-1] != prompt:
            problems.append(f"{where}: text after the prompt in the same cell: {paragraphs[-1][:60]!r}")
        j = i - 1 if paragraphs[0] == prompt else -1  # prose before the prompt sets it apart from the code above
        while j >= 0 and cells[j].cell_type == "code":
            if SHOWS_A_RESULT.search(cells[j].source):
                problems.append(f"{where}: the code cell above shows a result: {cells[j].source.splitlines()[-1]!r}")
            j -= 1
        after = cells[i + 1] if i + 1 < len(cells) else None
        if after is None or not (after.cell_type == "code" or "<details>" in after.source):
            problems.append(f"{where}: the cell after the prompt is not the run that answers it")
    return problems


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_nothing_above_a_prediction_answers_it(lesson: Lesson) -> None:
    cells = build_lesson(lesson, "solution").cells
    assert any("**Predict" in c.source for c in cells if c.cell_type == "markdown")
    assert prediction_problems(cells) == []


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.slug)
def test_lesson_says_run_cell_by_cell_first(lesson: Lesson) -> None:
    text = " ".join(lesson.path.read_text(encoding="utf-8").split())
    assert "one at a time" in text and "first pass" in text, "recommend running cell by cell on a first pass"
    assert "works at any time" not in text, "Run All shows every answer at once: never recommend it first"


def _cells(*sources: str) -> list[nbformat.NotebookNode]:
    return [nbformat.v4.new_code_cell(s[5:]) if s.startswith("code:") else nbformat.v4.new_markdown_cell(s)
            for s in sources]


def test_the_structure_check_finds_each_spoiler() -> None:
    good = _cells("Some text.", "code:x = 1", "**Predict.** How many?", "code:animate(Scene(), trace)",
                  "## Next\n\n**Predict.** And now?\n\n<details><summary>show</summary>42</details>", "code:print(x)")
    assert prediction_problems(good) == []
    log_above = _cells("code:print(trace.log())", "**Predict.** How many?", "code:animate(Scene(), trace)")
    figure_above = _cells("code:latency_figure(trace)", "**Predict.** Which one?", "code:print(1)")
    answer_in_cell = _cells("**Predict.** How many?\n\nThe answer is 61.", "code:cost_figure(curve)")
    nothing_after = _cells("code:x = 1", "**Predict.** How many?", "The answer is 61.")
    assert [len(prediction_problems(c)) for c in (log_above, figure_above, answer_in_cell, nothing_after)] == [1] * 4
    assert "shows a result" in prediction_problems(log_above)[0]
    assert "text after the prompt" in prediction_problems(answer_in_cell)[0]
    assert "not the run that answers it" in prediction_problems(nothing_after)[0]
