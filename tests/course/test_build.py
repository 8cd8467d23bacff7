"""Lessons -> notebooks: stubs, solutions, determinism, and notebooks/ kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labsupport.cli import main
from labsupport.course import BuildError, Lesson, build_all, build_lesson, find_lessons, stale_notebooks
from labsupport.course._build import NOT_ATTEMPTED, render, stub_for
from labsupport.grading import all_exercises

LESSON = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A lesson

```{{code-cell}} ipython3
:tags: [exercise:00.x]

{body}
```

```{{code-cell}} ipython3
:tags: [instructor]

print("only for instructors")
```
"""


def write_lesson(folder: Path, body: str, name: str = "07_demo.md") -> Lesson:
    path = folder / name
    path.write_text(LESSON.format(body=body), encoding="utf-8")
    return Lesson(path)


def test_function_body_becomes_not_implemented(tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION")
    student = build_lesson(lesson, "student")
    assert student.cells[1].source == f"def f(x):\n    {NOT_ATTEMPTED}"
    assert student.cells[1].metadata["tags"] == ["exercise:00.x"]
    solution = build_lesson(lesson, "solution")
    assert solution.cells[1].source == "def f(x):\n    return x + 1"


def test_top_level_assignments_become_ellipsis(tmp_path: Path) -> None:
    body = "### BEGIN SOLUTION\nanswer = 3\ncount: int = 4\nanswer = 5\n### END SOLUTION"
    student = build_lesson(write_lesson(tmp_path, body), "student")
    assert student.cells[1].source == "answer = ...  # your answer here\ncount = ...  # your answer here"


def test_explicit_stub_lines(tmp_path: Path) -> None:
    body = "d = {\n    ### BEGIN SOLUTION\n    'a': 1,\n    #> 'a': ...,\n    ### END SOLUTION\n}"
    lesson = write_lesson(tmp_path, body)
    assert build_lesson(lesson, "student").cells[1].source == "d = {\n    'a': ...,\n}"
    assert build_lesson(lesson, "solution").cells[1].source == "d = {\n    'a': 1,\n}"


def test_instructor_cells_only_in_solutions(tmp_path: Path) -> None:
    lesson = write_lesson(tmp_path, "x = 1")
    assert len(build_lesson(lesson, "student").cells) == 2
    assert len(build_lesson(lesson, "solution").cells) == 3


@pytest.mark.parametrize(("body", "message"), [
    ("### BEGIN SOLUTION\nx = 1", "without ### END SOLUTION"),
    ("x = 1\n### END SOLUTION", "without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", "must assign names"),
    ("### BEGIN SOLUTION\nx = (\n### END SOLUTION", "does not parse"),
])
def test_malformed_regions_name_the_lesson_and_cell(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(BuildError, match=message) as info:
        build_lesson(write_lesson(tmp_path, body), "student")
    assert "07_demo.md, cell 2" in str(info.value)


def test_empty_region_is_refused() -> None:
    with pytest.raises(BuildError, match="empty"):
        stub_for(["", "  "], "here")


def test_builds_are_deterministic_and_clean(root: Path) -> None:
    for lesson in find_lessons(root / "lessons"):
        for flavour in ("student", "solution"):
            first = render(build_lesson(lesson, flavour))
            assert first == render(build_lesson(lesson, flavour))
            nb = json.loads(first)
            assert all(not c.get("outputs") and c.get("execution_count") is None
                       for c in nb["cells"] if c["cell_type"] == "code")
            assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_notebooks_folder_is_up_to_date(root: Path) -> None:
    assert stale_notebooks(root / "lessons", root / "notebooks") == [], "run `labsupport build`"


def test_stale_notebooks_are_reported(tmp_path: Path, root: Path) -> None:
    out = tmp_path / "nb"
    build_all(root / "lessons", out, "student")
    (out / "00_overview.ipynb").write_text("{}", encoding="utf-8")
    (out / "99_extra.ipynb").write_text("{}", encoding="utf-8")
    problems = stale_notebooks(root / "lessons", out)
    assert "00_overview.ipynb differs from lessons/00_overview.md" in problems
    assert "99_extra.ipynb has no lesson" in problems
    assert main(["build", "--check", "--lessons", str(root / "lessons"), "--out", str(out)]) == 1


def test_every_exercise_appears_once_in_its_lesson(root: Path) -> None:
    tagged: dict[str, int] = {}
    for lesson in find_lessons(root / "lessons"):
        for cell in build_lesson(lesson, "solution").cells:
            for tag in cell.metadata.get("tags", []):
                if tag.startswith("exercise:"):
                    ex_id = tag.split(":", 1)[1]
                    assert ex_id.startswith(lesson.number + "."), f"{ex_id} tagged in {lesson.slug}"
                    tagged[ex_id] = tagged.get(ex_id, 0) + 1
    assert tagged == {ex_id: 1 for ex_id in all_exercises()}


def test_cli_builds_solutions(tmp_path: Path, root: Path, capsys) -> None:
    assert main(["build", "--lessons", str(root / "lessons"), "--out", str(tmp_path / "s"),
                 "--solutions", str(tmp_path / "sol")]) == 0
    assert (tmp_path / "sol" / "00_overview.ipynb").exists()
    assert "solution notebooks" in capsys.readouterr().out
    assert main(["exercises"]) == 0
    assert "00.alert_rule" in capsys.readouterr().out


def test_student_build_records_its_code_cells_for_the_grader(root: Path) -> None:
    lesson = Lesson(root / "lessons" / "00_overview.md")
    nb = build_lesson(lesson, "student")
    record = nb.metadata["labsupport"]["setup"]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [r["source"] for r in record] == [c.source for c in code]
    assert [r.get("tags", []) for r in record] == [[t for t in c.metadata.get("tags", []) if t.startswith("exercise:")]
                                                   for c in code]
    assert any(r.get("tags") == ["exercise:00.alert_rule"] for r in record)
    assert "setup" not in build_lesson(lesson, "solution").metadata["labsupport"]
