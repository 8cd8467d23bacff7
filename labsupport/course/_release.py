"""The student release: a repository for a graded class, with no solution anywhere in it.

``labsupport release DIR`` writes, from the course's source: a README for learners, ``course.py``, the pinned
requirements, the ``labsupport`` package (without ``labsupport.course``, which builds lessons a release does not
have), the student ``notebooks/``, the classroom workflow and an
``autograding.json`` with one entry per exercise of every lesson. Lessons, instructor tests, hidden tests and
solution notebooks stay behind; the grader works in the release from what the build recorded in each student
notebook.

Nothing is half-written: the release is assembled in a staging folder next to DIR, scanned for solution text
(the markers, and every non-trivial line of every solution region of every lesson), and only then moved into
place. A DIR that is not empty is refused unless ``force`` (a ``.git`` folder in it is kept).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jupytext

from labsupport.artifacts.dockerfile import CMD_LINE, HEALTHCHECK_LINE
from labsupport.course._build import BEGIN, END, STUB_PREFIX, BuildError, find_lessons, stale_notebooks

__all__ = ["ALLOWED", "ReleaseError", "SolutionHit", "release", "scan_for_solutions", "solution_lines"]

# What the release copies from the course's source, as it is.
COPIED = ("course.py", "pyproject.toml", "environment.yml", "requirements", "labsupport",
          ".github/workflows/classroom.yml")
_SKIPPED_NAMES = {"__pycache__", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
MIN_LINE = 13  # shorter solution lines ("return False", "COPY . .") say nothing an answer would not

# Solution lines the release may hold because they are the course's own content and give no answer away:
# (file in the release, or "*" for any file; the line; why). The scan reports every other hit.
_DOCKERFILE = ("the Restaurant Service's real Dockerfile, and the naive one exercise 03.better_dockerfile starts "
               "from: the exercise gives every line and asks for their order, which no line shows")
ALLOWED: tuple[tuple[str, str, str], ...] = (
    ("*", "for pattern in PATTERNS:", "a loop over the four patterns; the decision rule is in its body"),
    ("*", "for t in INSTANCE_TYPES:", "a loop over the instance types; the search for the cheapest is in its body"),
    ("labsupport/sim/serverless.py", "count = max(min_instances,",
     "the always-on fleet the serverless model compares with, not exercise 02.cheapest's search"),
    ("labsupport/sim/overview.py", "if window.requests == 0:",
     "the model's own default alert rule: the model needs one to run, the lesson states its thresholds, and the "
     "public checks take their verdicts from it"),
    *(("labsupport/artifacts/dockerfile.py", line, _DOCKERFILE) for line in (
        "# syntax=docker/dockerfile:1", "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1", "COPY requirements.txt .",
        "RUN pip install --no-cache-dir -r requirements.txt")),
    *(("notebooks/03_containers.ipynb", line, _DOCKERFILE) for line in (
        'better_dockerfile = """', "FROM python:3.12-slim-bookworm", "# syntax=docker/dockerfile:1", "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
        "RUN useradd --create-home --uid 10001 app", "RUN pip install --no-cache-dir -r requirements.txt",
        HEALTHCHECK_LINE, CMD_LINE)),
    *(("notebooks/05_mesh.ipynb", line, "the head of every VirtualService for the Restaurant Service, which the "
       "lesson prints before exercise 05.tester_route; the answer is in its http routes")
      for line in ("apiVersion: networking.istio.io/v1", "name: restaurant", "host: restaurant")),
)


class ReleaseError(ValueError):
    """The release cannot be written; the message says why and what to do."""


@dataclass(frozen=True)
class SolutionHit:
    path: str  # relative to the release
    line: str  # the solution text found


def solution_lines(lessons_dir: Path) -> dict[str, str]:
    """Every non-trivial line of every solution region of every lesson: line -> where it comes from."""
    found: dict[str, str] = {}
    for lesson in find_lessons(lessons_dir):
        notebook = jupytext.read(lesson.path, fmt="md:myst")
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            inside = False
            for line in cell.source.split("\n"):
                text = line.strip()
                if text in (BEGIN, END):
                    inside = text == BEGIN
                elif inside and not text.startswith(STUB_PREFIX.strip()) and len(text) >= MIN_LINE:
                    found.setdefault(text, f"{lesson.path.name}, cell {index + 1}")
    return found


def _texts(path: Path) -> Iterable[str]:
    """The text of a file as a scan must see it: the file itself, and for JSON (notebooks) every string in it."""
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    yield text
    if path.suffix in (".json", ".ipynb"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return
        stack, strings = [parsed], []
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                strings.append(value)
            elif isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)
        yield "\n".join(strings)


def scan_for_solutions(folder: Path, lines: dict[str, str],
                       allowed: Iterable[tuple[str, str, str]] = ALLOWED) -> list[SolutionHit]:
    """Every place in ``folder``'s files where a solution marker or one of ``lines`` appears (minus ``allowed``)."""
    exempt = {(path, line) for path, line, _why in allowed}
    anywhere = {line for path, line, _why in allowed if path == "*"}
    needles = [BEGIN, END, *lines]
    hits: list[SolutionHit] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        shown = path.relative_to(folder).as_posix()
        seen: set[str] = set()
        for text in _texts(path):
            seen.update(needle for needle in needles if needle in text)
        hits.extend(SolutionHit(shown, needle) for needle in needles
                    if needle in seen and (shown, needle) not in exempt and needle not in anywhere)
    return hits


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n in _SKIPPED_NAMES or n.endswith(_SKIPPED_SUFFIXES)}
    if Path(folder).name == "labsupport" and "course" in names and "grading" in names:
        skipped.add("course")  # lessons -> notebooks and the release itself: nothing a release can run
    return skipped


def _lesson_rows(notebooks: list[Path]) -> str:
    rows = []
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        heading = next((line.lstrip("# ").strip() for cell in cells if cell["cell_type"] == "markdown"
                        for line in "".join(cell["source"]).splitlines() if line.startswith("# ")), path.stem)
        rows.append(f"| `notebooks/{path.name}` | {heading} |")
    return "\n".join(rows)


LEARNER_README = """\
# Deploying Microservices — your course repository

This repository is your copy of the course: the lessons as Jupyter notebooks, and the small library they use.
You work in `notebooks/`, and you hand in by pushing this repository.

## Start

You need Python 3.11 or newer and nothing else.

```bash
python3 course.py lab     # set up (first time only), then open JupyterLab: it prints the URL to open
```

Set-up makes a virtual environment in `.venv/` with the packages pinned for the whole class
(`requirements/constraints.txt`). Open a notebook, and run its cells from top to bottom (**Run ▸ Run All
Cells** works at any time).

## Lessons

| notebook | lesson |
|---|---|
{lessons}

## Exercises and `check`

Each exercise is a cell with a `...` (or a `raise NotImplementedError(...)` line) to replace with your answer.
The cell under it calls `check("NN.name", name)`: run your cell, then that one, and it tells you at once
what is right, what is wrong and a hint. "Public checks passed" means every check you can see passed; your
instructor may grade the exercise with more (hidden) tests later.

Keep each exercise's cell: the grader finds your answer by the cell's tag (`exercise:NN.name`), and runs only
that cell, after the lesson's own set-up. Define everything your answer needs inside that cell. Do not rename
the notebooks.

## See your grade

```bash
python3 course.py grade                                        # every notebook: points per exercise
.venv/bin/labsupport grade-one notebooks/00_overview.ipynb     # one notebook
```

## What runs here

This repository holds the lessons as notebooks, not the course's source. Here `python3 course.py lab` and
`python3 course.py grade` work, and so do `.venv/bin/labsupport grade-one`, `grade` and `exercises`. The
slides, the course site and the live demo are made by your instructor from the course's source: here
`labsupport slides`, `export` and `demo` (and `build` and `release`) say so and stop. Ask your instructor for
the decks or the site's address.

## Hand in

Save your notebook in JupyterLab (Ctrl+S), then commit and push:

```bash
git add notebooks
git commit -m "lesson 00 exercises"
git push
```

Every push grades your notebooks on GitHub (the **Actions** tab, "Autograding Tests"): the points per exercise
appear there, and the feedback page is kept as the run's `feedback` artifact. Your instructor's grade may
include hidden tests as well.
"""

GITIGNORE = ".venv/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\nfeedback/\nbuild/\n"


def autograding(notebooks: list[Path]) -> dict[str, object]:
    """GitHub Classroom's classic autograding: one test per exercise of every lesson, full points each."""
    from labsupport.grading import get, lesson_exercises

    tests: list[dict[str, object]] = []
    for path in notebooks:
        for ex in lesson_exercises(path.stem):
            assert get(ex.id) is ex
            tests.append({"name": f"{ex.id}: {ex.title}", "setup": "" if tests else "python3 course.py setup",
                          "run": f".venv/bin/labsupport grade-one notebooks/{path.name}", "input": "",
                          "output": f"{ex.id}: {ex.max_points:g}/{ex.max_points:g} points",
                          "comparison": "included", "timeout": 10, "points": ex.max_points})
    return {"tests": tests}


def _check_target(root: Path, target: Path, force: bool) -> None:
    if target == root or target in root.parents:
        raise ReleaseError(f"{target} holds the course's source itself; choose a folder outside it")
    for name in COPIED + ("notebooks", "lessons"):
        source = root / name
        if target == source or source in target.parents:
            raise ReleaseError(f"{target} is inside {source.relative_to(root)}/, which the release reads; "
                               "choose another folder")
    if target.exists() and not target.is_dir():
        raise ReleaseError(f"{target} exists and is not a folder")
    if target.is_dir():
        entries = sorted(p.name for p in target.iterdir() if p.name != ".git")
        if entries and not force:
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise ReleaseError(f"{target} is not empty ({len(entries)} entries: {shown}); choose an empty or new "
                               "folder, or pass --force to replace its contents (a .git folder in it is kept)")


def release(root: Path, target: Path, force: bool = False) -> list[str]:
    """Write the student release of the course in ``root`` into ``target``; the files written, relative."""
    root, target = Path(root).resolve(), Path(target).resolve()
    lessons, notebooks = root / "lessons", root / "notebooks"
    if not lessons.is_dir():
        raise ReleaseError(f"{root} has no lessons/ folder: a release is made from the course's source")
    _check_target(root, target, force)
    try:
        stale = stale_notebooks(lessons, notebooks)
    except BuildError as error:
        raise ReleaseError(f"a lesson does not build: {error}") from None
    if stale:
        raise ReleaseError("notebooks/ is out of date with lessons/ (" + "; ".join(stale) + "): run "
                           "`labsupport build`, check the notebooks, then release")
    missing = [name for name in COPIED if not (root / name).exists()]
    if missing:
        raise ReleaseError(f"the course's source lacks {', '.join(missing)}")
    built = sorted(notebooks / f"{lesson.slug}.ipynb" for lesson in find_lessons(lessons))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-release-", dir=target.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would lock out the grader's unprivileged sandboxes
        for name in COPIED:
            source, copy = root / name, staging / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy, ignore=_ignore)
            else:
                shutil.copy2(source, copy)
        (staging / "notebooks").mkdir()
        for path in built:
            shutil.copy2(path, staging / "notebooks" / path.name)
        (staging / "README.md").write_text(LEARNER_README.format(lessons=_lesson_rows(built)), encoding="utf-8")
        (staging / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        classroom = staging / ".github" / "classroom"
        classroom.mkdir(parents=True, exist_ok=True)
        (classroom / "autograding.json").write_text(json.dumps(autograding(built), indent=2) + "\n",
                                                    encoding="utf-8")
        hits = scan_for_solutions(staging, solution_lines(lessons))
        if hits:
            shown = "; ".join(f"{h.path}: {h.line[:60]!r}" for h in hits[:5])
            raise ReleaseError(f"the release would hold solution text in {len(hits)} places ({shown}); "
                               "nothing was written")
        written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _move_into_place(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (keeping a ``.git`` folder it had); on failure ``target`` is as it was."""
    if not target.exists():
        os.replace(staging, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent)) / target.name
    os.replace(target, aside)
    try:
        if (aside / ".git").exists():
            os.replace(aside / ".git", staging / ".git")
        os.replace(staging, target)
    except OSError:
        if (staging / ".git").exists():
            os.replace(staging / ".git", aside / ".git")
        os.replace(aside, target)
        raise
    shutil.rmtree(aside.parent, ignore_errors=True)
