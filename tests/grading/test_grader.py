"""The class grader on a corpus of lesson-00 submissions: right, partial, empty, broken and hostile ones.

The corpus is generated from the course's own builds (so it stays in step with the lesson): copies of the
solution notebook with one cell changed, moved, duplicated or deleted. Every student's grade is asserted
exactly; hostile submissions keep the points they earned and nothing leaks or survives.
"""

from __future__ import annotations

import base64
import copy
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labsupport.cli import main
from labsupport.course import build_all, build_lesson, find_lessons
from labsupport.course._build import render
from labsupport.grading import Limits, grade
from labsupport.grading._grader import hidden_paths

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ROOT / "instructor" / "hidden_tests"
LIMITS = Limits(timeout_s=6.0, memory_mb=768)
SLEEP_MARK = "4242.4242"  # a detached process a submission leaves behind: `sleep 4242.4242`

WHO_ACTS_WRONG = """who_acts = {k: "monitoring" for k in ("deploy", "start", "add-to-pool", "health-check-failed",
                                                "remove-from-pool", "restart", "alert-firing")}"""
ALERT_ERRORS_ONLY = """def alert_rule(window: MonitoringWindow) -> bool:
    return window.requests > 0 and window.errors / window.requests > 0.05"""
ALERT_RIGHT = """def alert_rule(window: MonitoringWindow) -> bool:
    if window.requests == 0:
        return False
    return window.errors / window.requests > 0.05 or window.p95_latency_s > 0.5"""


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's student notebooks, freshly built: the set-up the grader runs is read from them."""
    folder = tmp_path_factory.mktemp("course") / "notebooks"
    build_all(ROOT / "lessons", folder, "student")
    return folder


def _notebook(flavour: str) -> dict[str, Any]:
    lesson = next(x for x in find_lessons(ROOT / "lessons") if x.slug == "00_overview")
    return json.loads(render(build_lesson(lesson, flavour)))  # type: ignore[arg-type]


def _index(nb: dict[str, Any], exercise_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if f"exercise:{exercise_id}" in c["metadata"].get("tags", []))


def _with(nb: dict[str, Any], exercise_id: str, source: str) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    nb["cells"][_index(nb, exercise_id)]["source"] = source
    return nb


def _corpus(solution: dict[str, Any], student: dict[str, Any], paths: dict[str, Path]) -> dict[str, Any]:
    """student name -> notebook (a dict, or raw text for a file that is not JSON)."""
    hidden_file = paths["hidden_file"]
    exercise_file = ROOT / "labsupport" / "grading" / "exercises" / "ex00_overview.py"
    corpus: dict[str, Any] = {"correct": solution, "empty": student}
    partial = _with(solution, "00.alert_rule", ALERT_ERRORS_ONLY)
    swapped = "".join(solution["cells"][_index(solution, "00.who_acts")]["source"]).replace(
        '"restart": "runtime-service-management"', '"restart": "request-routing"')
    corpus["partial"] = _with(partial, "00.who_acts", swapped)
    corpus["boundary"] = _with(solution, "00.alert_rule", ALERT_RIGHT.replace(" > ", " >= "))
    corpus["small_windows"] = _with(solution, "00.alert_rule", ALERT_RIGHT.replace(
        "if window.requests == 0:", "if window.requests < 10:"))
    corpus["loops_in_cell"] = _with(solution, "00.alert_rule", "while True:\n    pass")
    corpus["loops_when_called"] = _with(solution, "00.removed_at_s",
                                        "def removed_at_s(crash_at_s, interval_s, threshold):\n    while True:\n"
                                        "        pass")
    corpus["memory_hog"] = _with(solution, "00.who_acts", "hog = bytearray(4 * 1024**3)\n" + swapped)
    exits = _with(solution, "00.alert_rule", ALERT_RIGHT + "\nimport sys\nsys.exit('bye')")
    corpus["exits"] = _with(exits, "00.removed_at_s", "import os\nos._exit(3)")
    corpus["kills_itself"] = _with(solution, "00.who_acts", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    corpus["kills_the_sandbox"] = _with(solution, "00.who_acts", "import os, signal\n"
                                        "os.kill(os.getppid(), signal.SIGKILL)\nos.kill(os.getpid(), signal.SIGKILL)")
    corpus["writes_files"] = _with(solution, "00.removed_at_s", f"""
import math, os, subprocess
for target in ({str(paths['out'] / 'grades.csv')!r}, {str(exercise_file)!r}, '/tmp/labsupport-pwned',
               {str(paths['submissions'] / 'correct' / '00_overview.ipynb')!r}, 'mine.txt'):
    try:
        with open(target, 'a') as handle:
            handle.write('pwned')
    except OSError:
        pass
subprocess.Popen(['sleep', '{SLEEP_MARK}'], start_new_session=True)
def removed_at_s(crash_at_s, interval_s, threshold):
    return math.ceil(crash_at_s / interval_s) * interval_s + (threshold - 1) * interval_s
""")
    redefines = _with(solution, "00.who_acts", WHO_ACTS_WRONG + "\ncheck = lambda *args: 'all checks passed'\n"
                      "import labsupport.grading._check as c\nc.run_tests = lambda *a, **k: None")
    redefines["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                                  "source": "def check(*args):\n    print('all checks passed')"})
    corpus["redefines_check"] = redefines
    corpus["reads_tests"] = _with(solution, "00.alert_rule", f"""
seen = []
for target in ({str(hidden_file)!r}, {str(paths['submissions'] / 'correct' / '00_overview.ipynb')!r},
               {str(ROOT / 'lessons' / '00_overview.md')!r}):
    try:
        seen.append(open(target).read())
    except OSError as error:
        seen.append(type(error).__name__)
    try:
        with open(target, 'w') as handle:
            handle.write('')
    except OSError:
        pass
def alert_rule(window: MonitoringWindow) -> bool:
    raise ValueError(' '.join(seen))
""")
    corpus["malformed_json"] = '{"cells": [ this is not json'
    other = copy.deepcopy(student)
    other["cells"] = [{"cell_type": "code", "metadata": {"tags": ["exercise:01.packaged"]}, "outputs": [],
                       "execution_count": None, "source": "packaged = 'restaurant.whl'"}]
    other["metadata"]["labsupport"]["lesson"] = "01_packaging"
    corpus["other_lesson"] = other
    moved = copy.deepcopy(solution)
    alert = moved["cells"].pop(_index(moved, "00.alert_rule"))
    alert["metadata"] = {}  # retyped: a new cell, without the tag
    moved["cells"].append(alert)
    moved["cells"].insert(0, moved["cells"].pop(_index(moved, "00.who_acts")))  # reordered, tag kept
    corpus["retyped_and_reordered"] = moved
    deleted = copy.deepcopy(solution)
    del deleted["cells"][_index(deleted, "00.removed_at_s")]
    corpus["deleted_cell"] = deleted
    duplicated = copy.deepcopy(solution)
    wrong_copy = copy.deepcopy(duplicated["cells"][_index(duplicated, "00.who_acts")])
    wrong_copy["source"] = WHO_ACTS_WRONG
    duplicated["cells"].append(wrong_copy)
    duplicated["cells"].append(copy.deepcopy(duplicated["cells"][_index(duplicated, "00.alert_rule")]))
    corpus["duplicated_tags"] = duplicated
    corpus["syntax_error"] = _with(solution, "00.alert_rule", "def alert_rule(window):\n    return window.errors >")
    return corpus


# exact grades: (alert_rule, removed_at_s, who_acts); maxima 6+3 hidden, 3+6 hidden, 4+1 hidden
EXPECTED = {
    "correct": (9, 9, 5),
    "empty": (0, 0, 0),
    "partial": (5, 9, 1),  # no latency check (public 4/6, hidden 1/3); one event misplaced (1/4, hidden 0/1)
    "boundary": (6, 9, 5),  # >= instead of >: a public check (at the thresholds) fails, and a hidden one
    "small_windows": (7, 9, 5),  # silent below 10 requests: every public check passes, a hidden one does not
    "loops_in_cell": (0, 9, 5),
    "loops_when_called": (9, 0, 5),
    "memory_hog": (9, 9, 0),
    "exits": (9, 0, 5),  # sys.exit() after the answer was defined: graded; os._exit() before: nothing
    "kills_itself": (9, 9, 0),
    "kills_the_sandbox": (9, 9, 0),  # and its zygote: the other exercises' processes live on
    "writes_files": (9, 9, 5),
    "redefines_check": (9, 9, 1),
    "reads_tests": (0, 9, 5),
    "malformed_json": (0, 0, 0),
    "other_lesson": (0, 0, 0),
    "retyped_and_reordered": (9, 9, 5),
    "deleted_cell": (9, 0, 5),
    "duplicated_tags": (9, 9, 0),
    "syntax_error": (0, 9, 5),
    "renamed_file": (9, 9, 5),
}
EXPECTED_COLUMNS = ("00.alert_rule", "00.removed_at_s", "00.who_acts")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, course: Path) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("grading")
    submissions, out, hidden = base / "submissions", base / "results", base / "hidden"
    shutil.copytree(HIDDEN, hidden)
    hidden_file = next(hidden.rglob("test_*.py"))
    paths = {"submissions": submissions, "out": out, "hidden_file": hidden_file}
    solution, student = _notebook("solution"), _notebook("student")
    exercise_file = ROOT / "labsupport" / "grading" / "exercises" / "ex00_overview.py"
    before = {hidden_file: hidden_file.read_bytes(), exercise_file: exercise_file.read_bytes()}
    for name, nb in _corpus(solution, student, paths).items():
        folder = submissions / name
        folder.mkdir(parents=True)
        text = nb if isinstance(nb, str) else json.dumps(nb, indent=1)
        (folder / "00_overview.ipynb").write_text(text, encoding="utf-8")
    (submissions / "renamed_file").mkdir()
    (submissions / "renamed_file" / "Untitled.ipynb").write_text(json.dumps(solution), encoding="utf-8")
    (submissions / "renamed_file" / "notes.txt").write_text("my notes", encoding="utf-8")
    (submissions / "stray.txt").write_text("not a student", encoding="utf-8")
    submitted = {p: p.read_bytes() for p in submissions.rglob("*") if p.is_file()}
    book = grade(submissions, out, course, hidden=hidden, jobs=2, limits=LIMITS, hide=[ROOT / "lessons"])
    with (out / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return {"book": book, "rows": rows, "out": out, "hidden_file": hidden_file, "before": before,
            "submitted": submitted, "log": (out / "grading.log").read_text(encoding="utf-8")}


def test_gradebook_has_the_exact_grades(graded: dict[str, Any]) -> None:
    rows = graded["rows"]
    assert sorted(rows) == sorted(EXPECTED)
    got = {s: (float(r["00.alert_rule"]), float(r["00.removed_at_s"]), float(r["00.who_acts"])) for s, r in rows.items()}
    assert got == {s: tuple(float(v) for v in e) for s, e in EXPECTED.items()}
    for student, row in rows.items():
        assert float(row["total"]) == sum(EXPECTED[student]) and float(row["max"]) == 23


def test_csv_columns_are_stable(graded: dict[str, Any]) -> None:
    header = (graded["out"] / "grades.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "student,00.alert_rule,00.removed_at_s,00.who_acts,total,max"
    assert list(graded["rows"]) == sorted(graded["rows"])


def _feedback(graded: dict[str, Any], student: str) -> str:
    return (graded["out"] / student / "feedback.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("student", "words"), [
    ("loops_in_cell", ["did not finish within the time limit"]),
    ("loops_when_called", ["did not finish within the time limit"]),
    ("memory_hog", ["MemoryError on line 1"]),
    ("exits", ["SystemExit", "was graded", "exit status 3"]),
    ("kills_itself", ["was killed"]),
    ("kills_the_sandbox", ["its parent was killed"]),
    ("malformed_json", ["not valid JSON"]),
    ("other_lesson", ["lesson 01_packaging", "no cell is tagged exercise:00.who_acts"]),
    ("retyped_and_reordered", ["the one cell that defines alert_rule was graded"]),
    ("deleted_cell", ["was the exercise&#x27;s cell deleted?"]),
    ("duplicated_tags", ["2 cells are tagged exercise:00.who_acts", "2 identical cells are tagged"]),
    ("syntax_error", ["syntax error on line 2"]),
    ("partial", ["fires on high latency", "1 of 7 events", "public checks failed"]),
])
def test_feedback_says_why(graded: dict[str, Any], student: str, words: list[str]) -> None:
    text = _feedback(graded, student)
    for word in words:
        assert word in text, f"{student}: {word!r} missing from feedback"


def test_log_names_each_problem(graded: dict[str, Any]) -> None:
    log = graded["log"]
    assert "malformed_json\t00_overview: 00_overview.ipynb: unreadable" in log
    assert "other_lesson\t00_overview: 00_overview.ipynb: its metadata says it is lesson 01_packaging" in log
    assert "renamed_file\tUntitled.ipynb graded as lesson 00_overview" in log
    assert "renamed_file\tignored notes.txt: not a notebook" in log
    assert "-\tignored stray.txt: not a student's folder" in log
    assert "loops_in_cell\t00_overview: 00.alert_rule:" in log
    assert "loops_when_called\t00_overview: 00.removed_at_s: while testing: your code did not finish" in log
    assert "correct\t" not in log


def _summaries(graded: dict[str, Any], student: str) -> dict[str, str]:
    return {e.exercise_id: e.summary for e in graded["book"].grades[student][0].exercises}


def test_all_checks_passed_only_when_hidden_tests_passed(graded: dict[str, Any]) -> None:
    assert _feedback(graded, "correct").count("all checks passed (and all") == 3
    small = _summaries(graded, "small_windows")["00.alert_rule"]
    assert small == "public checks passed; 1 of 2 hidden tests failed"
    assert "all checks passed" not in _feedback(graded, "small_windows").split("00.removed_at_s")[0]
    boundary = _summaries(graded, "boundary")["00.alert_rule"]
    assert boundary == "1 of 6 public checks failed; 1 of 2 hidden tests failed"
    partial = _summaries(graded, "partial")
    assert partial["00.alert_rule"] == "2 of 6 public checks failed; 1 of 2 hidden tests failed"
    assert partial["00.who_acts"] == "1 of 2 public checks failed; 1 of 1 hidden tests failed"
    assert _summaries(graded, "empty") == dict.fromkeys(EXPECTED_COLUMNS, "not attempted")


def test_hidden_tests_never_reach_feedback(graded: dict[str, Any]) -> None:
    code_lines = [line.strip() for line in graded["before"][graded["hidden_file"]].decode().splitlines()
                  if len(line.strip()) > 12 and not line.strip().startswith(("#", '"""', "def ", "@"))]
    assert code_lines
    for student in EXPECTED:
        text = _feedback(graded, student)
        leaked = [line for line in code_lines if line in text or line.replace("'", "&#x27;") in text]
        assert not leaked, f"{student}'s feedback shows hidden test code: {leaked[:2]}"
        assert "0.5001" not in text and "approx" not in text and "AssertionError" not in text


def test_hostile_submissions_change_nothing(graded: dict[str, Any]) -> None:
    for path, content in graded["before"].items():
        assert path.read_bytes() == content, f"{path.name} was changed by a submission"
    for path, content in graded["submitted"].items():
        assert path.read_bytes() == content, f"{path} was changed by a submission"
    rows = graded["rows"]
    assert "pwned" not in (graded["out"] / "grades.csv").read_text() and rows["correct"]["total"] == "23"
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert SLEEP_MARK not in ps, "a process a submission started outlived grading"


def test_isolation_where_the_machine_allows_it(graded: dict[str, Any]) -> None:
    isolation = graded["book"].isolation
    if not isolation.get("mounts"):
        pytest.skip(f"no mount namespace on this machine: {isolation}")
    assert not Path("/tmp/labsupport-pwned").exists()
    text = _feedback(graded, "reads_tests")
    assert "FileNotFoundError" in text or "PermissionError" in text
    assert "hidden tests for lesson 00" not in text.lower() and "nbformat" not in text
    assert "BEGIN SOLUTION" not in text and "FileNotFoundError FileNotFoundError FileNotFoundError" in text
    assert isolation.get("network")


def test_solution_full_marks_and_student_zero_on_every_lesson(tmp_path: Path, course: Path) -> None:
    lessons = find_lessons(ROOT / "lessons")
    assert lessons
    for flavour in ("solution", "student"):
        for lesson in lessons:
            folder = tmp_path / "in" / flavour
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{lesson.slug}.ipynb").write_text(render(build_lesson(lesson, flavour)), encoding="utf-8")
    generous = Limits(timeout_s=60.0)  # a lesson's exercise may start real processes: no limit should bite here
    book = grade(tmp_path / "in", tmp_path / "out", course, hidden=HIDDEN, jobs=2, limits=generous)
    for nb in book.grades["solution"]:
        assert nb.points == nb.max_points > 0, [(e.exercise_id, e.points, e.summary, e.reason) for e in nb.exercises]
    for nb in book.grades["student"]:  # the untouched notebooks: no public and no hidden point
        assert nb.points == 0 and nb.max_points > 0
        assert sum(o.points for e in nb.exercises for o in e.hidden) == 0
        assert all(e.summary == "not attempted" for e in nb.exercises), [e.summary for e in nb.exercises]
    assert [c for c in book.columns if c.startswith("00.")] == ["00.alert_rule", "00.removed_at_s", "00.who_acts"]


def test_cli_grade_and_grade_one(tmp_path: Path, course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notebook = tmp_path / "in" / "ada" / "00_overview.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(json.dumps(_with(_notebook("solution"), "00.alert_rule", ALERT_ERRORS_ONLY)), encoding="utf-8")
    assert main(["grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--jobs", "1",
                 "--notebooks", str(course), "--timeout", "6"]) == 0
    assert "graded 1 students" in capsys.readouterr().out
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1] == "ada,4,3,4,11,13"
    output = tmp_path / "github_output"
    assert main(["grade-one", str(notebook), "--notebooks", str(course), "--classroom", str(output),
                 "--out", str(tmp_path / "one"), "--timeout", "6"]) == 0
    assert "total: 11/13" in capsys.readouterr().out
    result = json.loads(base64.b64decode(output.read_text().split("=", 1)[1]))
    assert result["max_score"] == 13 and sum(t["score"] for t in result["tests"]) == 11
    assert (tmp_path / "one" / "feedback.html").exists()
    assert main(["grade", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2


def test_folders_python_needs_are_never_hidden(tmp_path: Path) -> None:
    keep, problems = hidden_paths([tmp_path, ROOT, tmp_path])
    assert keep == [tmp_path.resolve()]
    assert problems and "Python or the course lives there" in problems[0]


def test_grading_after_native_code_was_loaded_here_does_not_hang(tmp_path) -> None:
    """Grader processes must not be forks of a process that loaded a native runtime (Go's deadlocked one)."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from labsupport.artifacts.dockerfile import parse_dockerfile, render_dockerfile\n"
        "parse_dockerfile(render_dockerfile())  # the Go runtime now runs in this process\n"
        "from labsupport.course import Lesson, build_lesson\n"
        "from labsupport.course import build_all\n"
        "from labsupport.course._build import render\n"
        "from labsupport.grading import grade\n"
        "root, out = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "for student in ('a', 'b'):\n"
        "    (out / 'subs' / student).mkdir(parents=True)\n"
        "    nb = build_lesson(Lesson(root / 'lessons' / '03_containers.md'), 'solution')\n"
        "    (out / 'subs' / student / '03_containers.ipynb').write_text(render(nb))\n"
        "build_all(root / 'lessons', out / 'course', 'student')\n"
        "book = grade(out / 'subs', out / 'results', out / 'course', hidden=root / 'instructor' / 'hidden_tests',\n"
        "             jobs=2)\n"
        "print('graded')\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code, str(root), str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert "graded" in done.stdout, done.stderr[-2000:]
    assert "03.better_dockerfile" in (tmp_path / "results" / "grades.csv").read_text()


def test_the_course_notebooks_must_carry_the_build_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_all(ROOT / "lessons", tmp_path / "solutions", "solution")  # no recorded set-up in a solution build
    (tmp_path / "subs" / "ada").mkdir(parents=True)
    shutil.copy(tmp_path / "solutions" / "00_overview.ipynb", tmp_path / "subs" / "ada")
    with pytest.raises(ValueError, match="holds no student notebook built by the course"):
        grade(tmp_path / "subs", tmp_path / "out", tmp_path / "solutions")
    notebook = str(tmp_path / "subs" / "ada" / "00_overview.ipynb")
    assert main(["grade-one", notebook, "--notebooks", str(tmp_path / "solutions")]) == 2
    assert "holds no student notebook built by the course" in capsys.readouterr().err
    assert main(["grade-one", notebook, "--notebooks", str(tmp_path / "nowhere")]) == 2
    assert "give the folder of the course's student notebooks with --notebooks" in capsys.readouterr().err
