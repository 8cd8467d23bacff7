"""Lessons (MyST Markdown, jupytext) -> notebooks: the student build and the solution build.

* A solution region sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``. The solution build keeps
  the code and drops the markers. The student build replaces the region with a stub that keeps "Run all"
  working: the region's ``#> `` lines uncommented when it has any, otherwise ``name = ...`` for each name the
  region assigns at top level, or ``raise NotImplementedError`` inside a function body.
* Cells tagged ``instructor`` are dropped from the student build.
* The student build records its code cells (exercise stubs included) in the notebook's metadata, as
  ``labsupport.setup``: the grader slices each exercise's set-up from that record, so it needs no ``lessons/``
  and ignores how a learner edited the cells.
* Outputs are cleared and cell ids are derived from the lesson and the cell's position, so a rebuild of an
  unchanged lesson gives the same bytes (a test compares ``notebooks/`` with a fresh build).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jupytext
import nbformat

from labsupport.grading import setup_record

__all__ = ["BuildError", "Lesson", "build_lesson", "build_all", "find_lessons", "stale_notebooks", "stub_for"]

BEGIN, END, STUB_PREFIX = "### BEGIN SOLUTION", "### END SOLUTION", "#> "
NOT_ATTEMPTED = 'raise NotImplementedError("exercise not attempted yet")'
Flavour = Literal["student", "solution"]
_LESSON_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+\.md$")


class BuildError(ValueError):
    """A lesson cannot be built; the message names the lesson and the cell."""


@dataclass(frozen=True)
class Lesson:
    path: Path

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def number(self) -> str:
        return self.slug.split("_", 1)[0]


def find_lessons(lessons_dir: Path) -> list[Lesson]:
    return [Lesson(p) for p in sorted(Path(lessons_dir).glob("*.md")) if _LESSON_NAME.match(p.name)]


def stub_for(region: list[str], where: str = "") -> list[str]:
    """The student's stub for the solution lines ``region``."""
    explicit = [line for line in region if line.lstrip().startswith(STUB_PREFIX)]
    if explicit:
        return [line.replace(STUB_PREFIX, "", 1) for line in explicit]
    code = [line for line in region if line.strip()]
    if not code:
        raise BuildError(f"{where}: empty solution region")
    indent = min(len(line) - len(line.lstrip()) for line in code)
    if indent:
        return [" " * indent + NOT_ATTEMPTED]
    try:
        tree = ast.parse(textwrap.dedent("\n".join(region)))
    except SyntaxError as error:
        raise BuildError(f"{where}: the solution does not parse: {error}") from None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in names:
                names.append(target.id)
    if not names:
        raise BuildError(f"{where}: a top-level solution must assign names (or give '#> ' stub lines)")
    return [f"{name} = ...  # your answer here" for name in names]


def _split_solution(source: str, flavour: Flavour, where: str) -> str:
    out: list[str] = []
    region: list[str] | None = None
    for line in source.split("\n"):
        marker = line.strip()
        if marker == BEGIN:
            if region is not None:
                raise BuildError(f"{where}: {BEGIN} inside another solution region")
            region = []
        elif marker == END:
            if region is None:
                raise BuildError(f"{where}: {END} without {BEGIN}")
            if flavour == "solution":
                out.extend(line for line in region if not line.lstrip().startswith(STUB_PREFIX))
            else:
                out.extend(stub_for(region, where))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise BuildError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def build_lesson(lesson: Lesson, flavour: Flavour) -> nbformat.NotebookNode:
    """The notebook of ``lesson`` for learners (``student``) or instructors (``solution``)."""
    source = jupytext.read(lesson.path, fmt="md:myst")
    cells = []
    for index, cell in enumerate(source.cells):
        tags = list(cell.metadata.get("tags", []))
        if flavour == "student" and "instructor" in tags:
            continue
        where = f"{lesson.path.name}, cell {index + 1}"
        text = cell.source
        if cell.cell_type == "code":
            text = _split_solution(text, flavour, where)
            new = nbformat.v4.new_code_cell(text)  # type: ignore[no-untyped-call]  # nbformat's constructors have no annotations
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(text)  # type: ignore[no-untyped-call]  # nbformat's constructors have no annotations
        else:
            new = nbformat.v4.new_raw_cell(text)  # type: ignore[no-untyped-call]  # nbformat's constructors have no annotations
        if tags:
            new.metadata["tags"] = tags
        for key in ("slideshow",):
            if key in cell.metadata:
                new.metadata[key] = cell.metadata[key]
        new.id = f"{lesson.number}-{index:03d}"
        cells.append(new)
    nb: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)  # type: ignore[no-untyped-call]  # nbformat's constructors have no annotations
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "labsupport": {"lesson": lesson.slug, "build": flavour},
    }
    if flavour == "student":
        nb.metadata["labsupport"]["setup"] = setup_record(nb.cells)
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    text: str = nbformat.writes(nb)  # type: ignore[no-untyped-call]  # nbformat.writes has no annotations
    return text + "\n"


def build_all(lessons_dir: Path, out_dir: Path, flavour: Flavour) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson in find_lessons(lessons_dir):
        target = out_dir / f"{lesson.slug}.ipynb"
        text = render(build_lesson(lesson, flavour))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def stale_notebooks(lessons_dir: Path, notebooks_dir: Path) -> list[str]:
    """Why ``notebooks_dir`` differs from a fresh student build (empty when it is up to date)."""
    problems = []
    expected = {}
    for lesson in find_lessons(lessons_dir):
        expected[f"{lesson.slug}.ipynb"] = render(build_lesson(lesson, "student"))
    for name, text in expected.items():
        path = notebooks_dir / name
        if not path.exists():
            problems.append(f"{name} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name} differs from lessons/{name[:-6]}.md")
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        if path.name not in expected:
            problems.append(f"{path.name} has no lesson")
    return problems
