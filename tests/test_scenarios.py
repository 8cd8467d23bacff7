"""Lessons read their scenarios from labsupport.scenarios, never from the grader's exercise modules."""

from __future__ import annotations

import re
from pathlib import Path

from labsupport import scenarios
from labsupport.grading.exercises import ex01_packaging, ex03_containers, ex07_choosing

ROOT = Path(__file__).resolve().parents[1]


def test_no_lesson_imports_an_exercise_module() -> None:
    imports = {path.name: re.findall(r"^\s*(?:from|import) labsupport\.grading\.exercises\S*", path.read_text(), re.M)
               for path in sorted((ROOT / "lessons").glob("*.md"))}
    assert imports and {name: found for name, found in imports.items() if found} == {}


def test_the_exercises_check_against_the_very_scenarios_the_lessons_show() -> None:
    assert ex01_packaging.OOM_SCENARIO is scenarios.OOM_SCENARIO
    assert ex01_packaging.PLACEMENT_MB is scenarios.PLACEMENT_MB
    assert ex03_containers.LIMIT_SCENARIO is scenarios.LIMIT_SCENARIO
    assert ex07_choosing.SERVICES is scenarios.SERVICES
    for module in (ex01_packaging, ex03_containers, ex07_choosing):
        assert not set(getattr(module, "__all__", ())) & set(scenarios.__all__), f"{module.__name__} re-exports a scenario"
