"""The grader's parts: context slicing, finding answers by tag, the answer wire, and check()'s wording."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from labsupport.grading import check
from labsupport.grading._context import Cell, LessonPlan, NotebookError, find_answer, names_of, read_notebook
from labsupport.grading._hidden import hidden_folder
from labsupport.grading._sandbox import Limits, Sandbox, SubmissionFailed
from labsupport.sim.overview import MonitoringWindow
from tests.helpers import lesson_answers


def _cells(*sources: str | tuple[str, str]) -> list[Cell]:
    cells = []
    for i, item in enumerate(sources):
        source, tag = (item, "") if isinstance(item, str) else item
        cells.append(Cell(i, "code", source, (tag,) if tag else ()))
    return cells


def test_names_bound_and_needed() -> None:
    binds, needs = names_of("import os.path\nx = []\nx.append(y)\ndef f(a):\n    return a + z + math.pi\nclass C: pass")
    assert binds == {"os", "x", "f", "C"}
    assert needs == {"y", "z", "math"}


def test_context_takes_only_what_the_cell_needs() -> None:
    plan = LessonPlan.from_cells("07_demo", _cells(
        "from heavy.views import panel\nfrom labsupport.sim.overview import PARTS, MonitoringWindow",
        "limit = 0.05\nunused = 1",
        "table = []\ntable.append(limit)",
        "panel()",  # display only: never needed
        ("answer = ...", "exercise:07.answer"),
        ("def other(w):\n    raise NotImplementedError", "exercise:07.other"),
    ))
    context = plan.context("07.answer", {"table", "MonitoringWindow"}, {})
    assert context.splitlines() == ["from labsupport.sim.overview import MonitoringWindow", "limit = 0.05",
                                    "table = []", "table.append(limit)"]
    learner = {"07.answer": "answer = 42"}
    assert plan.context("07.other", {"answer"}, learner) == "answer = 42"
    assert plan.context("07.other", set(), learner) == ""


def test_find_answer_by_tag_then_by_name() -> None:
    tagged = _cells(("x = 1", "exercise:07.x"), "x = 2")
    found = find_answer(tagged, "07.x", "x")
    assert found.source == "x = 1" and "only the cell tagged exercise:07.x is graded" in found.notes[0]
    untagged = find_answer(_cells("y = 0", "x = 3"), "07.x", "x")
    assert untagged.source == "x = 3" and "no cell is tagged" in untagged.notes[0]
    ambiguous = find_answer(_cells("x = 3", "x = 4"), "07.x", "x")
    assert ambiguous.source is None and "2 cells define x" in ambiguous.reason
    twice = find_answer(_cells(("x = 1", "exercise:07.x"), ("x = 2", "exercise:07.x")), "07.x", "x")
    assert twice.source is None and "2 cells are tagged" in twice.reason


def test_unreadable_notebooks(tmp_path: Path) -> None:
    for text, words in [("{", "not valid JSON"), ("[1, 2]", "not a Jupyter notebook"), ("\xff", "not text")]:
        path = tmp_path / "n.ipynb"
        path.write_text(text, encoding="latin-1")
        with pytest.raises(NotebookError, match=words):
            read_notebook(path)
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["a = ", "1"],
                                            "metadata": {"tags": ["exercise:00.a", 3]}}, "junk"]}))
    notebook = read_notebook(path)
    assert notebook.cells[0].source == "a = 1" and notebook.cells[0].tags == ("exercise:00.a",)
    assert notebook.lesson is None


def test_hidden_folder_per_lesson(tmp_path: Path) -> None:
    assert hidden_folder(None, "00_overview") is None
    (tmp_path / "00_overview").mkdir()
    assert hidden_folder(tmp_path, "00_overview") == tmp_path / "00_overview"
    assert hidden_folder(tmp_path, "01_packaging") is None
    flat = tmp_path / "flat"
    flat.mkdir()
    assert hidden_folder(flat, "01_packaging") == flat


def test_answers_cross_the_wire_as_plain_values() -> None:
    sandbox = Sandbox(Limits(timeout_s=10), [])
    try:
        reply = sandbox.run("import numpy as np", """
answer = {"t": (1, 2.5), "s": {3}, 4: [np.float64(0.5), np.int64(2), np.bool_(True)], "e": ..., "n": None,
          "inf": float("inf"), "arr": np.arange(3)}
def f(window, scale=2):
    return np.float64(window.errors * scale)
class Thing:
    size = 3
    def grow(self, by):
        return self.size + by
""", "answer")
        value = reply["value"]
        assert value["t"] == (1, 2.5) and value["s"] == {3} and value[4] == [0.5, 2, True]
        assert value["e"] is Ellipsis and value["n"] is None and value["inf"] == float("inf")
        assert list(value["arr"]) == [0, 1, 2]
        f = sandbox.run("", "", "f")["value"]
        assert str(inspect.signature(f)) == "(window, scale=Ellipsis)"
        window = MonitoringWindow(end_s=1.0, window_s=1.0, requests=10, errors=3, p95_latency_s=0.1)
        assert f(window) == 6.0 and type(f(window)) is float
        with pytest.raises(ZeroDivisionError):
            sandbox.run("", "def g(x):\n    return 1 / x", "g")["value"](0)
        thing = sandbox.run("", "thing = Thing()", "thing")["value"]
        assert thing.size == 3 and thing.grow(2) == 5 and not callable(thing)
        assert sandbox.run("", "h = lambda: exit()", "h")["value"] is not None
        sandbox.run("", "def slow():\n    while True:\n        pass", "slow")["value"]
    finally:
        sandbox.close()


def test_a_dead_sandbox_fails_every_later_call() -> None:
    sandbox = Sandbox(Limits(timeout_s=3), [])
    try:
        slow = sandbox.run("", "def slow():\n    while True:\n        pass", "slow")["value"]
        fast = sandbox.run("", "def fast():\n    return 1", "fast")["value"]
        with pytest.raises(SubmissionFailed, match="time limit of 3 s"):
            slow()
        with pytest.raises(SubmissionFailed, match="time limit"):
            fast()
    finally:
        sandbox.close()


def test_check_says_hidden_tests_come_later() -> None:
    result = check("00.who_acts", lesson_answers("00_overview", "solution")["00.who_acts"])
    assert result.summary() == "all 2 public checks passed"
    assert "hidden tests, later" in str(result) and "hidden tests, later" in result._repr_html_()


def test_grader_and_sandbox_import_no_ui() -> None:
    import subprocess
    import sys

    code = ("import sys, labsupport.grading._grader, labsupport.grading._worker, labsupport.grading._hidden\n"
            "print(sorted(n for n in sys.modules if n.split('.')[0] in ('ipywidgets', 'plotly', 'IPython')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_cloned_repository_is_a_fine_hand_in(tmp_path: Path) -> None:
    from labsupport.grading._grader import _discover

    repo = tmp_path / "ada"
    for name in ("notebooks/00_overview.ipynb", ".venv/lib/x.ipynb", "notebooks/.ipynb_checkpoints/00_overview.ipynb",
                 "README.md", "lessons/00_overview.md", "course.py", "pyproject.toml"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("{}", encoding="utf-8")
    found, log = _discover(tmp_path, {"00_overview"})
    assert found == {"ada": {"00_overview": (repo / "notebooks" / "00_overview.ipynb",
                                             str(Path("notebooks") / "00_overview.ipynb"))}}
    assert log == [("ada", "ignored 4 files that are not notebooks (README.md, ...)")]
