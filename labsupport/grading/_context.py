"""Notebooks as the grader sees them: cells found by tag, and each exercise's context sliced from the lesson.

The grader never runs a submission's cells in order. For each exercise it runs only the learner's cell tagged
``exercise:<id>``, after the *context* that cell needs, taken from the course's own student build of the lesson:
the earlier top-level statements that bind the names the cell uses (imports trimmed to those names), found by
following names backwards. Cells that only display something bind nothing and are never run. When the context
needs another exercise's answer, the learner's own cell for that exercise is used.

The course's build records, in each student notebook's metadata (``labsupport.setup``, written by
:func:`setup_record`), the code cells of the lesson as built: that record, not the cells a learner may have
edited, and never the lesson's source, is what the context is sliced from.
"""

from __future__ import annotations

import ast
import builtins
import json
import symtable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Cell", "LessonPlan", "NotebookError", "code_of", "find_answer", "names_of", "read_notebook",
           "setup_record"]

MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
_BUILTINS = set(dir(builtins)) | {"__name__", "__file__", "__builtins__", "__doc__"}


class NotebookError(ValueError):
    """The file is not a notebook the grader can read."""


@dataclass(frozen=True)
class Cell:
    index: int
    kind: str
    source: str
    tags: tuple[str, ...]


@dataclass
class Notebook:
    cells: list[Cell]
    lesson: str | None  # what the notebook's metadata says it is
    setup: list[Cell] | None = None  # the code cells the course's build recorded (None: no record)


def setup_record(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a student build records for the grader: each code cell's source, with its exercise tags.

    ``cells`` are notebook cells as built (nbformat dicts); the record goes into the notebook's metadata as
    ``labsupport.setup`` and is read back by :func:`read_notebook`.
    """
    record = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        entry: dict[str, Any] = {"source": _text(cell.get("source"))}
        tags = [t for t in (cell.get("metadata") or {}).get("tags", []) if str(t).startswith("exercise:")]
        if tags:
            entry["tags"] = tags
        record.append(entry)
    return record


def _read_setup(own: dict[str, Any]) -> list[Cell] | None:
    raw = own.get("setup")
    if not isinstance(raw, list):
        return None
    cells = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str):
            return None
        tags = _list_of(entry.get("tags"))
        cells.append(Cell(index, "code", entry["source"], tuple(str(t) for t in tags if isinstance(t, str))))
    return cells


def _list_of(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty one (a hand-edited notebook may hold anything)."""
    return value if isinstance(value, list) else []


def _dict_of(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def read_notebook(path: Path) -> Notebook:
    """Cells and tags of any nbformat 4 notebook, however edited; raises :class:`NotebookError`."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"the file is {size // 1_000_000} MB, more than a notebook should be")
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as error:
        raise NotebookError(f"the file is not valid JSON (line {error.lineno}: {error.msg}); "
                            "was it saved by Jupyter?") from None
    except UnicodeDecodeError:
        raise NotebookError("the file is not text") from None
    except OSError as error:
        raise NotebookError(f"the file cannot be read: {error.strerror}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("the file is JSON but not a Jupyter notebook (no list of cells)")
    cells = []
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, dict):
            continue
        tags = _list_of(_dict_of(raw.get("metadata")).get("tags"))
        cells.append(Cell(index, str(raw.get("cell_type", "")), _text(raw.get("source")),
                          tuple(str(t).strip() for t in tags if isinstance(t, str))))
    own = _dict_of(_dict_of(data.get("metadata")).get("labsupport"))
    lesson = own.get("lesson")
    lesson = lesson if isinstance(lesson, str) else None
    return Notebook(cells, lesson, _read_setup(own))


def code_of(source: str) -> str:
    """Python for a cell's source: IPython syntax (``%magic``, ``!cmd``) is translated as IPython would."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return source
    manager = TransformerManager()  # type: ignore[no-untyped-call]  # IPython's class has no annotations
    return str(manager.transform_cell(source))


def names_of(source: str) -> tuple[set[str], set[str]]:
    """(names the code binds at top level, names it reads that it does not bind); SyntaxError if it won't parse."""
    table = symtable.symtable(source, "<cell>", "exec")
    binds = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    needs = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        needs.update(s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced())
        stack.extend(child.get_children())
    return binds, needs - binds - _BUILTINS


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutated(stmt: ast.stmt) -> set[str]:
    """Names a statement changes without rebinding them: ``x.append(1)``, ``x[0] = 1``, ``x.y += 1``."""
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
        targets = [stmt.value.func]
    names = set()
    for target in targets:
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root_name(target)
            if root:
                names.add(root)
    return names


@dataclass(frozen=True)
class _Statement:
    source: str
    binds: frozenset[str]
    needs: frozenset[str]
    mutates: frozenset[str]
    node: ast.stmt | None = None


@dataclass(frozen=True)
class _ExerciseUnit:
    exercise_id: str
    binds: frozenset[str]


@dataclass
class LessonPlan:
    """A lesson's student build, read once, from which each exercise's context is sliced."""

    slug: str
    units: list[_Statement | _ExerciseUnit] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)  # exercise id -> index in units

    @classmethod
    def from_cells(cls, slug: str, cells: list[Cell]) -> LessonPlan:
        plan = cls(slug)
        for cell in cells:
            if cell.kind != "code":
                continue
            ids = [t.split(":", 1)[1] for t in cell.tags if t.startswith("exercise:")]
            source = code_of(cell.source)
            if ids:
                try:
                    binds, _ = names_of(source)
                except SyntaxError:
                    binds = set()
                for ex_id in ids:
                    plan.position[ex_id] = len(plan.units)
                    plan.units.append(_ExerciseUnit(ex_id, frozenset(binds)))
                continue
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                text = ast.unparse(node)
                try:
                    binds, needs = names_of(text)
                except SyntaxError:  # pragma: no cover - unparse output parses
                    continue
                plan.units.append(_Statement(text, frozenset(binds), frozenset(needs), frozenset(_mutated(node)),
                                             node))
        return plan

    def context(self, exercise_id: str, needs: set[str], learner_cells: dict[str, str]) -> str:
        """The code to run before the learner's cell for ``exercise_id``, which reads the names ``needs``.

        ``learner_cells`` maps other exercises' ids to the learner's source for them (when found uniquely).
        """
        end = self.position.get(exercise_id, len(self.units))
        needed = set(needs)
        chosen: list[str] = []
        for unit in reversed(self.units[:end]):
            if not needed:
                break
            if isinstance(unit, _ExerciseUnit):
                if unit.binds & needed and unit.exercise_id in learner_cells:
                    source = code_of(learner_cells[unit.exercise_id])
                    try:
                        binds, more = names_of(source)
                    except SyntaxError:
                        continue
                    chosen.append(source)
                    needed = (needed - binds) | more
                continue
            hit = (unit.binds | unit.mutates) & needed
            if not hit:
                continue
            chosen.append(_trimmed(unit, needed))
            needed = (needed - (unit.binds - unit.mutates)) | unit.needs
        return "\n".join(reversed(chosen))


def _trimmed(unit: _Statement, needed: set[str]) -> str:
    """An import statement keeps only the names that are needed."""
    node = unit.node
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        kept = [a for a in node.names
                if (a.asname or a.name.split(".")[0] if isinstance(node, ast.Import) else a.asname or a.name) in needed]
        if kept and len(kept) < len(node.names):
            clone = ast.Import(names=kept) if isinstance(node, ast.Import) else ast.ImportFrom(
                module=node.module, names=kept, level=node.level)
            return ast.unparse(ast.fix_missing_locations(clone))
    return unit.source


@dataclass(frozen=True)
class Found:
    source: str | None
    reason: str = ""  # why there is no answer to grade
    notes: tuple[str, ...] = ()  # what the learner should know even though it was graded


def find_answer(cells: list[Cell], exercise_id: str, answer_name: str) -> Found:
    """The learner's cell for an exercise: by its tag; if the tag is gone, by the one cell defining the answer."""
    tag = f"exercise:{exercise_id}"
    tagged = [c for c in cells if tag in c.tags]
    code = [c for c in cells if c.kind == "code"]
    if len(tagged) > 1:
        sources = {c.source.strip() for c in tagged}
        if len(sources) > 1:
            return Found(None, f"{len(tagged)} cells are tagged {tag} and they differ, so the grader cannot tell "
                               "which one is your answer; keep one and delete the others")
        return Found(tagged[0].source, notes=(f"{len(tagged)} identical cells are tagged {tag}; one was graded",))
    if tagged:
        cell = tagged[0]
        if cell.kind != "code":
            return Found(None, f"the cell tagged {tag} is a {cell.kind or 'unknown'} cell, not a code cell")
        others = [c for c in code if c is not cell and tag not in c.tags and answer_name in _bound(c.source)]
        notes = (f"another cell also defines {answer_name}; only the cell tagged {tag} is graded",) if others else ()
        return Found(cell.source, notes=notes)
    defining = [c for c in code if answer_name in _bound(c.source)]
    if len(defining) == 1:
        return Found(defining[0].source, notes=(
            f"no cell is tagged {tag}, so the one cell that defines {answer_name} was graded; "
            "keep the exercise's cell (and its tag) next time",))
    if defining:
        return Found(None, f"no cell is tagged {tag}, and {len(defining)} cells define {answer_name}, so the grader "
                           "cannot tell which one is your answer; put the tag back on your answer's cell")
    return Found(None, f"no cell is tagged {tag} and no cell defines {answer_name}: was the exercise's cell deleted?")


def _bound(source: str) -> set[str]:
    try:
        return names_of(code_of(source))[0]
    except (SyntaxError, ValueError):
        return set()
