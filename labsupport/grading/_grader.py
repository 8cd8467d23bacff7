"""Grade a class: ``SUBMISSIONS/<student>/<NN_slug>.ipynb`` in, a gradebook, feedback and a log out.

Trust model: this process and its worker processes are trusted; a learner's code never runs in them. Each
exercise of each submission runs in its own sandbox process (see ``_sandbox`` and ``_worker``); the public
tests (the registry's, as ``check`` runs them) and the instructor's hidden tests run here, against proxies of
the answers. Submissions are graded in parallel, one worker process per core.
"""

from __future__ import annotations

import concurrent.futures
import csv
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labsupport.grading._check import run_tests
from labsupport.grading._context import (
    Found,
    LessonPlan,
    Notebook,
    NotebookError,
    code_of,
    find_answer,
    names_of,
    read_notebook,
)
from labsupport.grading._hidden import HiddenOutcome, HiddenTest, collect_hidden, hidden_folder, run_hidden
from labsupport.grading._registry import get, lesson_exercises
from labsupport.grading._result import CheckResult, Status
from labsupport.grading._sandbox import Limits, Sandbox, SubmissionFailed, Zygote

__all__ = ["ExerciseGrade", "Gradebook", "LessonSpec", "NotebookGrade", "classroom_result", "course_lessons",
           "grade", "grade_notebook", "grade_one", "hidden_paths", "lesson_spec"]


@dataclass
class ExerciseGrade:
    exercise_id: str
    title: str
    max_points: float
    points: float = 0.0
    reason: str = ""  # why nothing could be graded (then points are 0)
    notes: list[str] = field(default_factory=list)
    public: CheckResult | None = None
    hidden: list[HiddenOutcome] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line; "all checks passed" only when every public check and every hidden test passed."""
        if self.reason:
            return "not graded"
        public = self.public
        if public is None or public.status is Status.NOT_ATTEMPTED:
            return "not attempted"
        if public.status is Status.INVALID:
            return "invalid answer"
        failed_public = sum(not o.passed for o in public.outcomes)
        failed_hidden = sum(not o.passed for o in self.hidden)
        if not failed_public and not failed_hidden:
            return "all checks passed" + (f" (and all {len(self.hidden)} hidden tests)" if self.hidden else "")
        parts = []
        parts.append(f"{failed_public} of {len(public.outcomes)} public checks failed" if failed_public
                     else "public checks passed")
        if self.hidden:
            parts.append(f"{failed_hidden} of {len(self.hidden)} hidden tests failed" if failed_hidden
                         else "hidden tests passed")
        return "; ".join(parts)


@dataclass
class NotebookGrade:
    student: str
    lesson: str
    notebook: str  # the file graded, relative to the student's folder ("" if none)
    exercises: list[ExerciseGrade]
    problems: list[str] = field(default_factory=list)  # for the grader's log
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)


@dataclass
class LessonSpec:
    """What grading one lesson needs, prepared once: its context plan and its hidden tests."""

    slug: str
    exercises: list[str]
    plan: LessonPlan
    hidden: Path | None
    hidden_tests: list[HiddenTest]
    problems: list[str]

    @property
    def fixture_names(self) -> dict[str, str]:
        return {ex_id.split(".", 1)[1]: ex_id for ex_id in self.exercises}

    def max_points(self, exercise_id: str) -> float:
        ex = get(exercise_id)
        hidden = sum(t.points for t in self.hidden_tests if t.exercise_id == exercise_id)
        return (ex.max_points if ex else 0.0) + hidden


_NO_COURSE = ("{} holds no student notebook built by the course, with its recorded set-up (`labsupport build` "
              "writes them into notebooks/; a solution build has none)")


def course_lessons(notebooks: Path) -> dict[str, Path]:
    """The lessons the course's student notebooks in ``notebooks`` hold: slug -> notebook.

    A notebook counts when the course's build recorded its set-up in it (see :func:`setup_record`); the
    slug is the one its metadata names, so any lesson the course builds is found, whatever its number.
    """
    found: dict[str, Path] = {}
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        try:
            notebook = read_notebook(path)
        except NotebookError:
            continue
        if notebook.setup is not None and notebook.lesson and notebook.lesson not in found:
            found[notebook.lesson] = path
    return found


def lesson_spec(notebook: Path, hidden: Path | None = None) -> LessonSpec:
    """Prepare the grading of one lesson from the course's student notebook of it (and its hidden tests)."""
    built = read_notebook(notebook)
    if built.setup is None or not built.lesson:
        raise NotebookError(f"{notebook.name} carries no set-up recorded by the course's build; "
                            "rebuild it with `labsupport build`")
    slug = built.lesson
    exercises = [ex.id for ex in lesson_exercises(slug)]
    folder = hidden_folder(hidden, slug)
    spec = LessonSpec(slug, exercises, LessonPlan.from_cells(slug, built.setup), folder, [], [])
    spec.hidden_tests, spec.problems = collect_hidden(folder, spec.fixture_names)
    return spec


def _cell_error_text(error: dict[str, Any]) -> str:
    kind = str(error.get("type", "an error"))
    line = error.get("line")
    message = str(error.get("message", ""))
    where = f" on line {line}" if line else ""
    return f"{kind}{where}" + (f": {message}" if message else "")


def _title(ex_id: str) -> str:
    exercise = get(ex_id)
    return exercise.title if exercise else ex_id


def _read_handed_in(path: Path | None, spec: LessonSpec, grades: dict[str, ExerciseGrade], result: NotebookGrade,
                    shown_name: str) -> Notebook | None:
    """The notebook handed in; None (every exercise given its reason) when there is none or it is unreadable."""
    if path is None:
        for g in grades.values():
            g.reason = f"no notebook {spec.slug}.ipynb was handed in"
        result.problems.append(f"no notebook for lesson {spec.slug}")
        return None
    try:
        notebook = read_notebook(path)
    except NotebookError as error:
        for g in grades.values():
            g.reason = f"your notebook could not be read: {error}"
        result.problems.append(f"{shown_name}: unreadable: {error}")
        return None
    if notebook.lesson and notebook.lesson != spec.slug:
        result.problems.append(f"{shown_name}: its metadata says it is lesson {notebook.lesson}, not {spec.slug}")
    return notebook


def _test_in_sandboxes(grades: dict[str, ExerciseGrade], found: dict[str, Found], spec: LessonSpec,
                       limits: Limits, hide: list[Path], result: NotebookGrade) -> list[HiddenOutcome]:
    """Run each answer in a sandbox of its own, its public checks, then the lesson's hidden tests."""
    learner_cells = {ex_id: f.source for ex_id, f in found.items() if f.source is not None}
    sandboxes: list[Sandbox] = []
    zygote: Zygote | None = None
    answers: dict[str, Any] = {}
    try:
        prepared = {ex_id: _prepare(ex_id, g, found[ex_id], spec, learner_cells, result)
                    for ex_id, g in grades.items()}
        if any(job is not None for job in prepared.values()):
            zygote = Zygote(limits, hide)
        started_boxes = {} if zygote is None else {ex_id: zygote.fork() for ex_id, job in prepared.items()
                                                   if job is not None}
        sandboxes.extend(started_boxes.values())
        for ex_id, g in grades.items():
            job = prepared[ex_id]
            if job is None:
                continue
            answer = _answer(ex_id, g, job, started_boxes[ex_id], result)
            if answer is _NONE:
                continue
            ex = get(ex_id)
            assert ex is not None
            g.public = run_tests(ex, answer)
            if g.public.status in (Status.PASSED, Status.FAILED):
                answers[ex_id] = answer
        outcomes, problems = run_hidden(spec.hidden, spec.fixture_names, answers, spec.hidden_tests)
        result.problems.extend(problems)
        for ex_id, sandbox in started_boxes.items():  # processes that died while the tests called them
            if sandbox.dead and not grades[ex_id].reason:
                result.problems.append(f"{ex_id}: while testing: {sandbox.dead}")
    finally:
        for sandbox in sandboxes:
            sandbox.close()
        if zygote is not None:
            zygote.close()
    return outcomes


def _score(grades: dict[str, ExerciseGrade], outcomes: list[HiddenOutcome], spec: LessonSpec) -> None:
    for g in grades.values():
        g.hidden = [o for o in outcomes if o.exercise_id == g.exercise_id] if not g.reason else []
        if g.public is not None and g.public.status is Status.NOT_ATTEMPTED:
            g.hidden = [HiddenOutcome(t.exercise_id, t.name, False, 0, t.points, "not run: not attempted yet")
                        for t in spec.hidden_tests if t.exercise_id == g.exercise_id]
        public_points = g.public.points if g.public else 0.0
        g.points = 0.0 if g.reason else public_points + sum(o.points for o in g.hidden)


def grade_notebook(student: str, path: Path | None, spec: LessonSpec, limits: Limits, hide: list[Path],
                   shown_name: str = "") -> NotebookGrade:
    """Grade one learner's notebook of one lesson. Never raises for anything the notebook holds."""
    started = time.monotonic()
    grades = {ex_id: ExerciseGrade(ex_id, _title(ex_id), spec.max_points(ex_id)) for ex_id in spec.exercises}
    result = NotebookGrade(student, spec.slug, shown_name, list(grades.values()))
    notebook = _read_handed_in(path, spec, grades, result, shown_name)
    if notebook is None:
        return result
    found = {ex_id: find_answer(notebook.cells, ex_id, ex_id.split(".", 1)[1]) for ex_id in spec.exercises}
    if notebook.lesson and notebook.lesson != spec.slug and all(f.source is None for f in found.values()):
        for g in grades.values():
            g.notes.append(f"this notebook is lesson {notebook.lesson}'s, handed in as {spec.slug}.ipynb")
    _score(grades, _test_in_sandboxes(grades, found, spec, limits, hide, result), spec)
    result.seconds = time.monotonic() - started
    return result


def grade_one(notebook: Path, notebooks: Path, hidden: Path | None = None, limits: Limits | None = None,
              lesson: str | None = None, hide: list[Path] | None = None, student: str = "you") -> NotebookGrade:
    """Grade one learner's notebook, as classroom CI does: its lesson is ``lesson``, or its file's name.

    The set-up comes from the course's student notebook of that lesson in ``notebooks`` (in a learner's own
    repository, that is the notebook itself: its metadata keeps what the build recorded). Raises ValueError
    when ``notebooks`` has no such lesson.
    """
    available = course_lessons(notebooks)
    if not available:
        raise ValueError(_NO_COURSE.format(notebooks))
    slug = lesson or notebook.stem
    if slug not in available:
        raise ValueError(f"{notebook.name} is not named after a lesson ({', '.join(available)}); "
                         "name the lesson with --lesson")
    folders, _ = hidden_paths([notebook.resolve().parent, *([hidden] if hidden else []), *(hide or [])])
    spec = lesson_spec(available[slug], hidden.resolve() if hidden else None)
    return grade_notebook(student, notebook, spec, limits or Limits(), folders, notebook.name)


def classroom_result(graded: list[NotebookGrade]) -> dict[str, Any]:
    """GitHub Classroom's grading-reporter result: one test per exercise, with partial credit."""
    tests = [{"name": f"{ex.exercise_id}: {ex.title}", "status": "pass" if ex.points == ex.max_points else "fail",
              "score": ex.points, "max_score": ex.max_points, "message": ex.reason or ex.summary, "line_no": 0,
              "test_code": ""} for grade in graded for ex in grade.exercises]
    total, maximum = sum(g.points for g in graded), sum(g.max_points for g in graded)
    return {"version": 1, "status": "pass" if total == maximum else "fail", "max_score": maximum, "tests": tests}


_NONE = object()


def _prepare(ex_id: str, g: ExerciseGrade, found: Any, spec: LessonSpec, learner_cells: dict[str, str],
             result: NotebookGrade) -> tuple[str, str] | None:
    """(context, cell) to run for ``ex_id``, or None (with the reason) when there is nothing to run."""
    g.notes.extend(found.notes)
    if found.source is None:
        g.reason = found.reason
        result.problems.append(f"{ex_id}: {found.reason}")
        return None
    code = code_of(found.source)
    try:
        _, needs = names_of(code)
    except SyntaxError as error:
        g.reason = f"your cell has a syntax error on line {error.lineno}: {error.msg}"
        return None
    return spec.plan.context(ex_id, needs, {k: v for k, v in learner_cells.items() if k != ex_id}), code


def _answer(ex_id: str, g: ExerciseGrade, job: tuple[str, str], sandbox: Sandbox, result: NotebookGrade) -> Any:
    """Run the learner's cell for ``ex_id`` in its sandbox; the answer (or a proxy of it), or ``_NONE``."""
    name = ex_id.split(".", 1)[1]
    context, code = job
    try:
        reply = sandbox.run(context, code, name)
    except SubmissionFailed as failure:
        g.reason = f"your cell could not be run: {failure.message}"
        result.problems.append(f"{ex_id}: {failure.message}")
        return _NONE
    if "context_error" in reply:
        result.problems.append(f"{ex_id}: the lesson's own set-up failed in the sandbox: "
                               f"{_cell_error_text(reply['context_error'])}")
    error = reply.get("cell_error")
    if "value" not in reply:
        why = f": it stopped with {_cell_error_text(error)}" if error else ""
        hint = ""
        if error and error.get("type") == "NameError":
            hint = (f" (the grader runs only the cell tagged exercise:{ex_id}, after the lesson's own set-up: "
                    "define what your answer uses in that cell)")
        g.reason = f"after your cell ran, {name} was not defined{why}{hint}"
        result.problems.append(f"{ex_id}: {g.reason}")
        return _NONE
    if error:
        g.notes.append(f"your cell stopped with {_cell_error_text(error)}; the {name} it had defined by then "
                       "was graded")
    return reply["value"]


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in name).strip(".")
    return cleaned or "_"


# ---- the class ------------------------------------------------------------------------------------------

@dataclass
class Gradebook:
    columns: list[str]  # exercise ids
    grades: dict[str, list[NotebookGrade]]  # student -> graded notebooks, by lesson
    log: list[tuple[str, str]]  # (student or "", message)
    isolation: dict[str, Any]
    seconds: float = 0.0

    def points(self, student: str) -> dict[str, float]:
        return {e.exercise_id: e.points for nb in self.grades.get(student, []) for e in nb.exercises}

    def total(self, student: str) -> float:
        return sum(self.points(student).values())

    @property
    def max_points(self) -> float:
        first = next(iter(self.grades.values()), [])
        return sum(nb.max_points for nb in first)


_WORKER: dict[str, Any] = {}


def _init_worker(specs: dict[str, LessonSpec], limits: Limits, hide: list[Path]) -> None:
    import sys

    sys.dont_write_bytecode = True
    _WORKER.update(specs=specs, limits=limits, hide=hide)


def _task(student: str, slug: str, path: str | None, shown: str) -> NotebookGrade:
    return grade_notebook(student, Path(path) if path else None, _WORKER["specs"][slug], _WORKER["limits"],
                          _WORKER["hide"], shown)


def _discover(submissions: Path, slugs: set[str]) -> tuple[dict[str, dict[str, tuple[Path, str]]], list[tuple[str, str]]]:
    """student -> lesson slug -> (notebook, name shown); and what was odd about the folder."""
    found: dict[str, dict[str, tuple[Path, str]]] = {}
    log: list[tuple[str, str]] = []
    for folder in sorted(submissions.iterdir()):
        if folder.name.startswith("."):
            continue
        if not folder.is_dir():
            log.append(("", f"ignored {folder.name}: not a student's folder"))
            continue
        student = folder.name
        mine: dict[str, tuple[Path, str]] = {}
        files = sorted(_files(folder), key=lambda p: (len(p.parts), str(p)))
        unmatched, others = [], []
        for path in files:
            shown = str(path.relative_to(folder))
            if path.suffix != ".ipynb":
                others.append(shown)
                continue
            if path.stem in slugs:
                if path.stem in mine:
                    log.append((student, f"ignored {shown}: {mine[path.stem][1]} is graded for lesson {path.stem}"))
                else:
                    mine[path.stem] = (path, shown)
            else:
                unmatched.append((path, shown))
        for path, shown in unmatched:
            try:
                lesson = read_notebook(path).lesson
            except NotebookError:
                lesson = None
            if lesson in slugs and lesson not in mine:
                mine[lesson] = (path, shown)
                log.append((student, f"{shown} graded as lesson {lesson}: its name is not a lesson's, its metadata is"))
            else:
                log.append((student, f"ignored {shown}: not named after a lesson (expected NN_slug.ipynb)"))
        if len(others) <= 3:
            log.extend((student, f"ignored {shown}: not a notebook") for shown in others)
        else:
            log.append((student, f"ignored {len(others)} files that are not notebooks ({others[0]}, ...)"))
        found[student] = mine
    return found, log


def _files(folder: Path) -> list[Path]:
    """Every file below ``folder``, leaving out hidden folders, checkpoints and virtual environments."""
    found: list[Path] = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("__pycache__", "node_modules",
                                                                                  "venv", "site-packages"))
        found.extend(Path(here) / n for n in names if not n.startswith("."))
    return found


def hidden_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The folders sandboxes must not see, minus any that hold what a sandbox needs to run at all."""
    from labsupport.grading._sandbox import needed_paths

    needed = [Path(p) for p in needed_paths()]
    keep, problems = [], []
    for path in dict.fromkeys(p.resolve() for p in paths):
        if any(n == path or path in n.parents for n in needed):
            problems.append(f"cannot hide {path} from submissions: Python or the course lives there")
        else:
            keep.append(path)
    return keep, problems


def grade(submissions: Path, out: Path, notebooks: Path, hidden: Path | None = None,
          jobs: int | None = None, limits: Limits | None = None,
          lessons: list[str] | None = None, hide: list[Path] | None = None,
          progress: Callable[[int, int], None] | None = None) -> Gradebook:
    """Grade every student's notebooks; write grades.csv, <student>/feedback.html and grading.log into ``out``.

    ``notebooks`` is the folder of the course's own student notebooks (``labsupport build`` writes them): each
    lesson's set-up is read from there, never from a submission. Sandboxes see neither the submissions, the
    results, the hidden tests nor the folders in ``hide`` (the lessons, the solution notebooks, the instructor's
    tests: anything that holds a solution), where the machine allows it.
    """
    from labsupport.grading._feedback import feedback_html

    started = time.monotonic()
    limits = limits or Limits()
    submissions, out = submissions.resolve(), out.resolve()
    available = course_lessons(notebooks)
    if not available:
        raise ValueError(_NO_COURSE.format(notebooks))
    found, log = _discover(submissions, set(available))
    wanted = sorted(set(lessons) if lessons else {slug for mine in found.values() for slug in mine})
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise ValueError(f"no such lesson: {', '.join(unknown)} (lessons: {', '.join(available)})")
    hide, problems = hidden_paths([submissions, out, *([hidden] if hidden else []), *(hide or [])])
    log.extend(("", p) for p in problems)
    specs = {slug: lesson_spec(available[slug], hidden.resolve() if hidden else None) for slug in wanted}
    for spec in specs.values():
        log.extend(("", p) for p in spec.problems)
    isolation = probe_isolation(limits, hide)
    columns = [ex for slug in wanted for ex in specs[slug].exercises]
    tasks = [(student, slug, str(mine[slug][0]) if slug in mine else None, mine[slug][1] if slug in mine else "")
             for student, mine in found.items() for slug in wanted]
    results: dict[tuple[str, str], NotebookGrade] = {}
    jobs = max(1, jobs or os.cpu_count() or 1)
    failed = _run_pool(tasks, specs, limits, hide, jobs, results, progress)
    if failed:  # a grader process died: grade those again, one at a time, so that no score is lost
        failed = _run_pool(failed, specs, limits, hide, 1, results, progress)
    for student, slug, _path, shown in failed:
        spec = specs[slug]
        grade = NotebookGrade(student, slug, shown, [ExerciseGrade(e, e, spec.max_points(e)) for e in spec.exercises])
        for e in grade.exercises:
            e.reason = "the grader failed on this notebook; your instructor has been told"
        grade.problems.append("the grader failed twice on this notebook: grade it by hand")
        results[(student, slug)] = grade
    grades: dict[str, list[NotebookGrade]] = {s: [results[(s, slug)] for slug in wanted] for s in found}
    for student, graded in grades.items():
        for nb in graded:
            log.extend((student, f"{nb.lesson}: {p}") for p in nb.problems)
    book = Gradebook(columns, grades, log, isolation, time.monotonic() - started)
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "grades.csv", book)
    for student, graded in grades.items():
        folder = out / _safe_name(student)
        folder.mkdir(exist_ok=True)
        (folder / "feedback.html").write_text(feedback_html(student, graded), encoding="utf-8")
    _write_log(out / "grading.log", book, jobs, limits)
    return book


def _run_pool(tasks: list[tuple[str, str, str | None, str]], specs: dict[str, LessonSpec], limits: Limits,
              hide: list[Path], jobs: int, results: dict[tuple[str, str], NotebookGrade],
              progress: Callable[[int, int], None] | None = None) -> list[Any]:
    failed = []
    # Grader processes start from a clean interpreter, never as a fork of this one: a fork would inherit the
    # state of native runtimes loaded here (the Dockerfile parser's Go runtime deadlocked a forked child).
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker,
                                                initargs=(specs, limits, hide),
                                                mp_context=multiprocessing.get_context(method)) as pool:
        futures = {pool.submit(_task, *task): task for task in tasks}
        for future in concurrent.futures.as_completed(futures):
            task = futures[future]
            try:
                results[(task[0], task[1])] = future.result()
            except Exception:  # noqa: BLE001 - a grader process died; retried by the caller
                failed.append(task)
            if progress is not None:
                progress(len(tasks) - sum(not f.done() for f in futures), len(tasks))
    return failed


def probe_isolation(limits: Limits, hide: list[Path]) -> dict[str, Any]:
    """Start one sandbox to learn what isolation this machine gives (and that sandboxes start at all)."""
    sandbox = Sandbox(limits, hide)
    try:
        reply = sandbox.run("", "import socket\nok = 1", "ok")
        if reply.get("value") != 1:
            raise RuntimeError(f"a sandbox cannot run code: {reply}")
    except SubmissionFailed as failure:
        raise RuntimeError(f"a sandbox cannot be started on this machine: {failure.message}") from None
    finally:
        sandbox.close()
    return sandbox.isolation


def _fmt(value: float) -> str:
    return f"{value:g}"


def _write_csv(path: Path, book: Gradebook) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *book.columns, "total", "max"])
        for student in sorted(book.grades):
            points = book.points(student)
            writer.writerow([student, *(_fmt(points.get(c, 0.0)) for c in book.columns), _fmt(book.total(student)),
                             _fmt(book.max_points)])


def _write_log(path: Path, book: Gradebook, jobs: int, limits: Limits) -> None:
    iso = book.isolation
    lines = [
        f"graded {len(book.grades)} students in {book.seconds:.1f} s with {jobs} processes",
        f"limits per exercise: {limits.timeout_s:g} s wall clock, {limits.memory_mb} MB memory, "
        f"{limits.file_mb} MB files, {limits.nproc} processes",
        "isolation: " + ", ".join([
            f"network {'cut (own namespace, loopback only)' if iso.get('network') else 'NOT isolated'}",
            f"files {'hidden by private mounts' if iso.get('mounts') else 'NOT hidden (no mount namespace)'}",
            f"user {'unprivileged uid ' + str(iso.get('uid')) if iso.get('uid') else 'the grader own (not dropped)'}",
        ]),
    ]
    problems = {k: v for k, v in iso.items() if k.endswith("_error") or k == "loopback"}
    if problems:
        lines.append("isolation problems: " + "; ".join(f"{k}: {v}" for k, v in sorted(problems.items())))
    for student, message in book.log:
        lines.append(f"{student or '-'}\t{message}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
