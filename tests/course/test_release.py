"""The student release: what it holds, that no solution is in it, and that grading works inside it.

The release is written into a temporary folder, then graded there as the classroom workflow grades it (the
release's own ``labsupport`` package, run from the release's folder, with no ``lessons/`` anywhere in it). The
scan for solutions here reads the lessons with its own simple parser, not the release's.
"""

from __future__ import annotations

import base64
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labsupport.cli import main
from labsupport.course import build_all, find_lessons
from labsupport.course._release import ALLOWED, MIN_LINE, ReleaseError, release
from labsupport.grading import lesson_exercises

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = ROOT / "instructor" / "hidden_tests"
SLUGS = [lesson.slug for lesson in find_lessons(ROOT / "lessons")]
GRADING_TIMEOUT = "60"  # a lesson's exercise may start real processes: no limit should bite here


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("release") / "course-release"
    release(ROOT, target)
    return target


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_release_holds_what_a_learner_needs_and_nothing_else(released: Path) -> None:
    files = _files(released)
    top = sorted({name.split("/", 1)[0] for name in files})
    assert top == [".github", ".gitignore", "README.md", "course.py", "environment.yml", "labsupport", "notebooks",
                   "pyproject.toml", "requirements"]
    assert [f for f in files if f.startswith("notebooks/")] == [f"notebooks/{slug}.ipynb" for slug in SLUGS]
    for slug in SLUGS:  # exactly the course's student build
        assert (released / "notebooks" / f"{slug}.ipynb").read_bytes() == (ROOT / "notebooks" / f"{slug}.ipynb").read_bytes()
    assert ".github/workflows/classroom.yml" in files and ".github/classroom/autograding.json" in files
    assert "requirements/constraints.txt" in files and "labsupport/grading/exercises/ex00_overview.py" in files
    assert not [f for f in files if f.startswith(("lessons/", "tests/", "instructor/", "build/", "benchmarks/",
                                                  "labsupport/course/")) or "__pycache__" in f or f.endswith(".md")
                and f != "README.md"]
    readme = (released / "README.md").read_text(encoding="utf-8")
    for words in ("python3 course.py lab", "check(", "grade-one", "git push", "exercise:NN.name"):
        assert words in readme
    assert all(f"`notebooks/{slug}.ipynb`" in readme for slug in SLUGS)


def _solution_lines() -> dict[str, str]:
    """Every solution line of every lesson, read from the Markdown as text (no jupytext, no build code)."""
    lines: dict[str, str] = {}
    for path in sorted((ROOT / "lessons").glob("*.md")):
        inside = False
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text == "### BEGIN SOLUTION":
                inside = True
            elif text == "### END SOLUTION":
                inside = False
            elif inside and not text.startswith("#>") and len(text) >= MIN_LINE:
                lines[text] = path.name
    return lines


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_no_file_of_the_release_holds_solution_text(released: Path) -> None:
    lines = _solution_lines()
    assert len(lines) > 50 and "### BEGIN SOLUTION" not in lines
    exempt = {(path, line) for path, line, _ in ALLOWED}
    hits, used = [], set()
    for name in _files(released):
        raw = (released / name).read_bytes().decode("utf-8", errors="replace")
        texts = [raw]
        if name.endswith((".ipynb", ".json")):
            texts.append("\n".join(_strings(json.loads(raw))))  # a notebook's JSON escapes quotes: scan its strings
        for needle in ("### BEGIN SOLUTION", "### END SOLUTION", *lines):
            if any(needle in text for text in texts):
                if (name, needle) in exempt or ("*", needle) in exempt:
                    used.add((name, needle) if (name, needle) in exempt else ("*", needle))
                else:
                    hits.append((name, needle, lines.get(needle, "marker")))
    assert not hits, f"solution text in the release: {hits[:5]}"
    assert used == exempt, f"exemptions no longer needed: {sorted(exempt - used)}"
    assert not [path for path, _, _ in ALLOWED if path.startswith("labsupport/grading/")], \
        "an exercise's public checks must not hold a solution line"


def test_autograding_has_every_exercise_of_every_lesson(released: Path) -> None:
    config = json.loads((released / ".github" / "classroom" / "autograding.json").read_text(encoding="utf-8"))
    expected = [(ex.id, slug) for slug in SLUGS for ex in lesson_exercises(slug)]
    assert [(t["name"].split(":", 1)[0], t["run"].rsplit("/", 1)[1][:-6]) for t in config["tests"]] == expected
    for test in config["tests"]:
        ex_id = test["name"].split(":", 1)[0]
        points = next(ex.max_points for slug in SLUGS for ex in lesson_exercises(slug) if ex.id == ex_id)
        assert test["points"] == points and test["output"] == f"{ex_id}: {points:g}/{points:g} points"
    assert config["tests"][0]["setup"] == "python3 course.py setup"
    workflow = (released / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert "python3 course.py setup" in workflow and "labsupport grade-one notebooks/*.ipynb" in workflow


def _labsupport(release_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The release's own ``labsupport`` (run from its folder, so its package is the one imported)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "labsupport", *args], cwd=release_dir, capture_output=True,
                          text=True, env=env, timeout=1200)
    return done


def _answered(student: dict[str, Any], solution: dict[str, Any]) -> dict[str, Any]:
    """The learner's notebook with every exercise cell answered as the solution answers it."""
    answers = {tag: cell["source"] for cell in solution["cells"] for tag in cell["metadata"].get("tags", [])
               if tag.startswith("exercise:")}
    for cell in student["cells"]:
        for tag in cell["metadata"].get("tags", []):
            if tag in answers:
                cell["source"] = answers[tag]
    return student


def test_grade_one_in_the_release_as_the_classroom_runs_it(released: Path, tmp_path: Path) -> None:
    copy = tmp_path / "learner"
    shutil.copytree(released, copy)
    assert not (copy / "lessons").exists()
    untouched = _labsupport(copy, "grade-one", *[f"notebooks/{s}.ipynb" for s in SLUGS], "--timeout", GRADING_TIMEOUT)
    assert untouched.returncode == 0, untouched.stderr[-2000:]
    maximum = sum(ex.max_points for slug in SLUGS for ex in lesson_exercises(slug))
    assert f"total: 0/{maximum:g}" in untouched.stdout
    solutions = tmp_path / "solutions"
    build_all(ROOT / "lessons", solutions, "solution")
    for slug in SLUGS:
        path = copy / "notebooks" / f"{slug}.ipynb"
        answered = _answered(json.loads(path.read_text(encoding="utf-8")),
                             json.loads((solutions / f"{slug}.ipynb").read_text(encoding="utf-8")))
        path.write_text(json.dumps(answered, indent=1), encoding="utf-8")
    output = tmp_path / "github_output"
    done = _labsupport(copy, "grade-one", *[f"notebooks/{s}.ipynb" for s in SLUGS], "--out", "feedback",
                       "--classroom", str(output), "--timeout", GRADING_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"total: {maximum:g}/{maximum:g}" in done.stdout, done.stdout
    result = json.loads(base64.b64decode(output.read_text().split("=", 1)[1]))
    assert result["status"] == "pass" and result["max_score"] == maximum
    assert (copy / "feedback" / "feedback.html").exists()


def test_grade_a_class_in_the_release(released: Path, tmp_path: Path) -> None:
    solutions = tmp_path / "submissions" / "solution"
    build_all(ROOT / "lessons", solutions, "solution")
    shutil.copytree(released / "notebooks", tmp_path / "submissions" / "untouched")
    done = _labsupport(released, "grade", str(tmp_path / "submissions"), "--out", str(tmp_path / "results"),
                       "--hidden", str(HIDDEN), "--jobs", "2", "--timeout", GRADING_TIMEOUT)
    assert done.returncode == 0, done.stderr[-2000:]
    with (tmp_path / "results" / "grades.csv").open(encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["solution"]["total"] == rows["solution"]["max"] and float(rows["solution"]["max"]) > 0
    assert rows["untouched"]["total"] == "0"
    columns = [c for c in rows["solution"] if c not in ("student", "total", "max")]
    assert columns == [ex.id for slug in SLUGS for ex in lesson_exercises(slug)]


def test_build_and_release_say_a_release_cannot_build(released: Path) -> None:
    done = _labsupport(released, "build")
    assert done.returncode == 2 and "a student release has none" in done.stderr
    done = _labsupport(released, "release", str(released.parent / "again"))
    assert done.returncode == 2 and "lessons" in done.stderr and not (released.parent / "again").exists()


def test_the_live_demo_says_a_release_has_no_voila_template(released: Path) -> None:
    done = _labsupport(released, "demo", "00")
    assert done.returncode == 2 and "a student release has none" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(("command", "what"), [("slides", "the slides"), ("export", "the course site")])
def test_slides_and_export_in_the_release_say_where_they_run(released: Path, tmp_path: Path, command: str,
                                                             what: str) -> None:
    """A release holds neither lessons/ nor labsupport/course/: the command says so and where to run it."""
    out = tmp_path / "out"
    for args in ([command, "--out", str(out)], [command, "00"], [command]):  # as a learner may type it
        done = _labsupport(released, *args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert f"`labsupport {command}` builds {what} from the course's source" in done.stderr
        assert f"run `labsupport {command} --out DIR` in the course's source" in done.stderr
        assert "python3 course.py lab" in done.stderr and done.stdout == ""
    assert not out.exists()
    readme = (released / "README.md").read_text(encoding="utf-8")
    assert "`labsupport slides`, `export` and `demo` (and `build` and `release`) say so and stop" in readme


# ---- bad input ------------------------------------------------------------------------------------------

@pytest.fixture()
def source(tmp_path: Path) -> Path:
    """A copy of the course's source to break."""
    copy = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("lessons", "notebooks", "labsupport", "requirements", ".github"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    for name in ("course.py", "pyproject.toml", "environment.yml"):
        shutil.copy2(ROOT / name, copy / name)
    return copy


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "-release-" in p.name or "-old-" in p.name)


def test_a_non_empty_folder_is_refused_unless_forced(source: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out"
    (target / ".git").mkdir(parents=True)
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "old.txt").write_text("an earlier release")
    monkeypatch.chdir(source)
    assert main(["release", str(target)]) == 2
    assert "is not empty (1 entries: old.txt); choose an empty or new folder, or pass --force" in capsys.readouterr().err
    assert _files(target) == [".git/HEAD", "old.txt"] and _leftovers(tmp_path) == []
    assert main(["release", str(target), "--force"]) == 0
    assert "wrote the student release" in capsys.readouterr().out
    files = _files(target)
    assert "old.txt" not in files and ".git/HEAD" in files and "notebooks/00_overview.ipynb" in files
    assert _leftovers(tmp_path) == []


def test_stale_notebooks_are_refused_and_nothing_is_written(source: Path, tmp_path: Path) -> None:
    lesson = source / "lessons" / "00_overview.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nOne more paragraph.\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"notebooks/ is out of date with lessons/ \(00_overview.ipynb differs "
                                           r"from lessons/00_overview.md\): run `labsupport build`"):
        release(source, tmp_path / "out")
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_a_solution_in_the_package_is_refused_and_nothing_is_written(source: Path, tmp_path: Path) -> None:
    leak = next(iter(_solution_lines()))
    (source / "labsupport" / "sim" / "leak.py").write_text(f"# {leak}\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError, match=r"would hold solution text in 1 places \(labsupport/sim/leak.py"):
        release(source, tmp_path / "out", force=True)
    assert _files(tmp_path / "out") == ["keep.txt"] and _leftovers(tmp_path) == []


def test_a_folder_inside_the_source_is_refused(source: Path) -> None:
    with pytest.raises(ReleaseError, match="holds the course's source itself"):
        release(source, source.parent, force=True)
    with pytest.raises(ReleaseError, match="inside notebooks/"):
        release(source, source / "notebooks" / "release")
    assert (source / "lessons").is_dir() and not (source / "notebooks" / "release").exists()


def test_commands_run_in_the_release_use_its_own_package(released: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import labsupport, labsupport.grading; print(labsupport.__file__)"],
                          cwd=released, capture_output=True, text=True, timeout=120)
    assert Path(done.stdout.strip()).resolve() == (released / "labsupport" / "__init__.py").resolve(), done.stderr
