"""Helpers the tests share (fixtures stay in conftest.py): the repository's root, answers read from built lessons,
and the rule for a test that cannot run on this machine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from labsupport.course import Lesson, build_lesson

ROOT = Path(__file__).resolve().parents[1]


def skip_or_fail(reason: str, what: str = "the browser tests") -> None:
    """Skip a test that cannot run here, except under ``CI=true``, where ``what`` must run: there it fails."""
    import pytest  # here, not at the top: the browser benchmark imports tests.browser.lab, which imports this

    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: {what} must run in CI)")
    pytest.skip(reason)


def lesson_answers(slug: str, flavour: str) -> dict[str, Any]:
    """Run a lesson build's first code cell (its imports) and each exercise cell; return answers by id.

    This is how a test sees exactly what a learner's notebook holds before the learner edits it: the
    solution build's answers must pass, the student build's stubs must read as not attempted.
    """
    nb = build_lesson(Lesson(ROOT / "lessons" / f"{slug}.md"), flavour)  # type: ignore[arg-type]
    code = [c for c in nb.cells if c.cell_type == "code"]
    namespace: dict[str, Any] = {}
    exec(compile(code[0].source, f"{slug}:setup", "exec"), namespace)  # noqa: S102 - our own lesson
    answers = {}
    for cell in code:
        for tag in cell.metadata.get("tags", []):
            if tag.startswith("exercise:"):
                exec(compile(cell.source, f"{slug}:{tag}", "exec"), namespace)  # noqa: S102
                ex_id = tag.split(":", 1)[1]
                answers[ex_id] = namespace[ex_id.split(".", 1)[1]]
    return answers
