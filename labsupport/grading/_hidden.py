"""Hidden tests: the instructor's pytest files, run by the grader against proxies of a learner's answers.

A hidden test is a pytest test function in a folder the instructor chooses (one sub-folder per lesson, named
like the lesson: ``hidden/00_overview/test_*.py``). It asks for an answer by the answer's name as a fixture
(``def test_x(alert_rule): ...``) and may say what it is worth with ``@pytest.mark.points(2)`` (1 by default).
The tests run in the grader's process; the learner's code stays in its sandbox. Feedback names a test by the
first line of its docstring (or its name) and says passed or failed, never its code or its values.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HiddenOutcome", "HiddenTest", "collect_hidden", "hidden_folder", "run_hidden"]

_MISSING = object()
# pytest plugins a grading session does not need; unraisableexception alone costs two full gc.collect() runs
_QUIET = [arg for name in ("warnings", "unraisableexception", "threadexception", "faulthandler", "logging",
                           "junitxml", "pastebin", "nose", "doctest", "stepwise", "cacheprovider")
          for arg in ("-p", f"no:{name}")]
_INI = "[pytest]\nmarkers =\n    points(n): what a hidden test is worth (default 1)\n"


@dataclass(frozen=True)
class HiddenTest:
    nodeid: str
    exercise_id: str
    name: str
    points: float


@dataclass(frozen=True)
class HiddenOutcome:
    exercise_id: str
    name: str
    passed: bool
    points: float
    max_points: float
    note: str = ""  # only the grader's own words: never the test's assertion or values


def hidden_folder(hidden: Path | None, slug: str) -> Path | None:
    """The folder of ``slug``'s hidden tests: ``hidden/<slug>`` if it exists; ``hidden`` itself if it has no
    per-lesson folders at all; otherwise none (this lesson has no hidden tests)."""
    if hidden is None or not hidden.is_dir():
        return None
    own = hidden / slug
    if own.is_dir():
        return own
    per_lesson = any(p.is_dir() and re.match(r"^\d\d_", p.name) for p in hidden.iterdir())
    return None if per_lesson else hidden


def _label(item: Any) -> str:
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
    if doc:
        return doc.splitlines()[0].strip()
    name = str(getattr(item, "originalname", None) or item.name.split("[", 1)[0])
    return name.removeprefix("test_").replace("_", " ")


class _Plugin:
    def __init__(self, names: dict[str, str], answers: dict[str, Any] | None) -> None:
        self.names = names  # fixture name -> exercise id
        self.answers = answers
        self.tests: list[HiddenTest] = []
        self.problems: list[str] = []
        self.failed: dict[str, str] = {}
        self.ran: set[str] = set()
        self.skipped: set[str] = set()

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.problems.append(f"hidden tests: {report.nodeid or 'a file'} could not be collected")

    def pytest_collection_modifyitems(self, session: Any, config: Any, items: list[Any]) -> None:
        keep: list[Any] = []
        drop: list[Any] = []
        labels: dict[str, int] = {}
        for item in items:
            used = sorted({self.names[f] for f in getattr(item, "fixturenames", ()) if f in self.names})
            if len(used) != 1:
                drop.append(item)
                if len(used) > 1:
                    self.problems.append(f"hidden test {item.nodeid} asks for several answers; it is not graded")
                continue
            marker = item.get_closest_marker("points")
            try:
                points = float(marker.args[0]) if marker and marker.args else 1.0
            except (TypeError, ValueError):
                points = 1.0
                self.problems.append(f"hidden test {item.nodeid}: points must be a number; counted as 1")
            label = _label(item)
            labels[label] = labels.get(label, 0) + 1
            if labels[label] > 1:
                label = f"{label} (case {labels[label]})"
            keep.append(item)
            self.tests.append(HiddenTest(item.nodeid, used[0], label, points))
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.excinfo is None:
            if call.when == "call":
                self.ran.add(item.nodeid)
            return
        from _pytest.outcomes import Skipped

        from labsupport.grading._sandbox import SubmissionFailed

        if isinstance(call.excinfo.value, Skipped):
            self.skipped.add(item.nodeid)
        elif isinstance(call.excinfo.value, SubmissionFailed):
            self.failed.setdefault(item.nodeid, str(call.excinfo.value))
        elif call.when == "call":
            self.failed.setdefault(item.nodeid, "")
        else:
            self.failed.setdefault(item.nodeid, "the test could not be run")


def _fixtures(names: dict[str, str], answers: dict[str, Any]) -> types.ModuleType:
    import pytest

    module = types.ModuleType("labsupport_hidden_answers")
    for fixture_name, exercise_id in names.items():
        def make(exercise_id: str = exercise_id) -> Any:
            def answer() -> Any:
                value = answers.get(exercise_id, _MISSING)
                if value is _MISSING:
                    pytest.skip("no answer to test")
                return value
            return answer
        setattr(module, f"answer_{fixture_name}", pytest.fixture(name=fixture_name)(make()))
    return module


def _pytest(folder: Path, plugins: list[Any], extra: list[str]) -> int:
    import pytest

    with tempfile.TemporaryDirectory(prefix="labsupport-hidden-") as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(_INI, encoding="utf-8")
        args = [str(folder), "-c", str(ini), "--rootdir", str(folder), "-q",
                "--import-mode=importlib", "--tb=no", *_QUIET, *extra]
        saved = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"), sys.dont_write_bytecode
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        sys.dont_write_bytecode = True
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                return int(pytest.main(args, plugins=plugins))
        finally:
            if saved[0] is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = saved[0]
            sys.dont_write_bytecode = saved[1]


def collect_hidden(folder: Path | None, names: dict[str, str]) -> tuple[list[HiddenTest], list[str]]:
    """The hidden tests in ``folder`` for the answers ``names`` (fixture name -> exercise id)."""
    if folder is None or not names:
        return [], []
    plugin = _Plugin(names, None)
    _pytest(folder, [plugin, _fixtures(names, {})], ["--collect-only"])
    return plugin.tests, plugin.problems


def run_hidden(folder: Path | None, names: dict[str, str], answers: dict[str, Any],
               expected: list[HiddenTest]) -> tuple[list[HiddenOutcome], list[str]]:
    """Run the hidden tests on ``answers`` (exercise id -> answer or proxy); one outcome per expected test."""
    if folder is None or not expected:
        return [], []
    plugin = _Plugin(names, answers)
    _pytest(folder, [plugin, _fixtures(names, answers)], [])
    outcomes = []
    for test in expected:
        if test.nodeid in plugin.failed:
            outcomes.append(HiddenOutcome(test.exercise_id, test.name, False, 0, test.points,
                                          plugin.failed[test.nodeid]))
        elif test.nodeid in plugin.skipped:
            outcomes.append(HiddenOutcome(test.exercise_id, test.name, False, 0, test.points, "not run: no answer"))
        elif test.nodeid in plugin.ran:
            outcomes.append(HiddenOutcome(test.exercise_id, test.name, True, test.points, test.points))
        else:
            outcomes.append(HiddenOutcome(test.exercise_id, test.name, False, 0, test.points, "not run"))
    return outcomes, plugin.problems
