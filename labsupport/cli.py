"""The ``labsupport`` command (also ``python -m labsupport``): above ``course`` and ``grading``, which it uses.

In the course's source it builds notebooks from ``lessons/``, writes the student release, the slides, the course
site and the live demo; in a release (no ``lessons/`` and no ``labsupport/course/``) only the grading commands
apply, and they work the same in both. The others say, in a release, what is missing and where to run them.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the grader is imported only by the commands that grade
    from labsupport.grading import Limits

__all__ = ["main"]

# Folders of the course's source that hold solutions: sandboxes never see them, wherever the grader runs.
SOLUTION_FOLDERS = ("lessons", "tests", "instructor", "build")


def _repo_root() -> Path:
    """The course's folder (its source, or a student release) that the current directory is in."""
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and ((folder / "lessons").is_dir() or (folder / "notebooks").is_dir()):
            return folder
    return here


def _has_course() -> bool:
    """Is this ``labsupport`` the course's source? A student release ships no ``labsupport/course/``. (Asked of
    the files beside this one: another ``labsupport`` installed in the same environment may still import.)"""
    return (Path(__file__).resolve().parent / "course" / "_build.py").exists()


def _no_lessons(lessons: Path) -> int:
    print(f"error: {lessons} does not exist: this command needs the course's source (lessons/), and a student "
          "release has none; grading works without it (`labsupport grade-one notebooks/NN_slug.ipynb`)",
          file=sys.stderr)
    return 2


def _cmd_build(args: argparse.Namespace) -> int:
    lessons = Path(args.lessons)
    if not lessons.is_dir():
        return _no_lessons(lessons)
    from labsupport.course import BuildError, build_all, stale_notebooks

    try:
        if args.check:
            problems = stale_notebooks(lessons, Path(args.out))
            for problem in problems:
                print(f"out of date: {problem}", file=sys.stderr)
            if problems:
                print("run `labsupport build` to rebuild notebooks/ from lessons/", file=sys.stderr)
            return 1 if problems else 0
        written = build_all(lessons, Path(args.out), "student")
        print(f"student notebooks: {len(written)} in {args.out}")
        if args.solutions:
            written = build_all(lessons, Path(args.solutions), "solution")
            print(f"solution notebooks: {len(written)} in {args.solutions}")
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not (root / "lessons").is_dir():
        return _no_lessons(root / "lessons")
    from labsupport.course._release import ReleaseError, release

    try:
        written = release(root, Path(args.dir), force=args.force)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    notebooks = sum(1 for name in written if name.startswith("notebooks/"))
    print(f"wrote the student release to {args.dir}: {len(written)} files, {notebooks} notebooks, "
          "no lessons, tests or solutions (scanned)")
    print("create the GitHub Classroom assignment from it; keep lessons/, instructor/ and the solutions to yourself")
    return 0


def _cmd_exercises(_args: argparse.Namespace) -> int:
    from labsupport.grading import all_exercises

    for ex in all_exercises().values():
        print(f"{ex.id:28} {ex.max_points:4g} pts  {ex.title}")
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    from labsupport.grading import Limits

    return Limits(timeout_s=args.timeout, memory_mb=args.memory_mb, isolate=not args.no_isolation)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\rgraded {done} of {total} notebooks", end="\n" if done == total else "", file=sys.stderr,
              flush=True)


def _hide(args: argparse.Namespace) -> list[Path]:
    """What sandboxes must not see: the folders asked for, and the course's own folders that hold solutions."""
    root = Path(args.root)
    return [Path(p) for p in getattr(args, "hide", None) or []] + [root / name for name in SOLUTION_FOLDERS
                                                                   if (root / name).is_dir()]


def _folders(args: argparse.Namespace) -> tuple[Path | None, Path] | None:
    """(the hidden tests, the course's student notebooks), or None once it said which one does not exist."""
    hidden = Path(args.hidden) if args.hidden else None
    if hidden is not None and not hidden.is_dir():
        print(f"error: hidden tests folder {hidden} does not exist", file=sys.stderr)
        return None
    notebooks = Path(args.reference)
    if not notebooks.is_dir():
        print(f"error: {notebooks} does not exist: give the folder of the course's student notebooks with "
              "--notebooks (`labsupport build` writes them)", file=sys.stderr)
        return None
    return hidden, notebooks


def _cmd_grade(args: argparse.Namespace) -> int:
    from labsupport.grading import grade

    submissions, out = Path(args.submissions), Path(args.out)
    if not submissions.is_dir():
        print(f"error: {submissions} is not a folder of students' folders", file=sys.stderr)
        return 2
    folders = _folders(args)
    if folders is None:
        return 2
    hidden, notebooks = folders
    try:
        book = grade(submissions, out, notebooks, hidden=hidden, jobs=args.jobs, limits=_limits(args),
                     lessons=args.lesson or None, hide=_hide(args), progress=_progress)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = sum(1 for student, _ in book.log if student)
    print(f"graded {len(book.grades)} students ({', '.join(book.columns)}) in {book.seconds:.1f} s")
    print(f"wrote {out / 'grades.csv'}, {len(book.grades)} feedback.html files and {out / 'grading.log'} "
          f"({problems} notes on submissions)")
    return 0


def _cmd_grade_one(args: argparse.Namespace) -> int:
    from labsupport.grading import classroom_result, feedback_html, grade_one

    folders = _folders(args)
    if folders is None:
        return 2
    hidden, notebooks = folders
    graded = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"error: {path} is not a file", file=sys.stderr)
            return 2
        try:
            grade = grade_one(path, notebooks, hidden, _limits(args), lesson=args.lesson, hide=_hide(args))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        graded.append(grade)
        for ex in grade.exercises:
            print(f"{ex.exercise_id}: {ex.points:g}/{ex.max_points:g} points - {ex.summary}"
                  + (f": {ex.reason}" if ex.reason else ""))
    total, maximum = sum(g.points for g in graded), sum(g.max_points for g in graded)
    print(f"total: {total:g}/{maximum:g}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "feedback.html").write_text(feedback_html("you", graded), encoding="utf-8")
    if args.classroom:  # GitHub Classroom's grading reporter reads a base64 JSON "result" step output
        encoded = base64.b64encode(json.dumps(classroom_result(graded)).encode()).decode()
        with open(args.classroom, "a", encoding="utf-8") as handle:
            handle.write(f"result={encoded}\n")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    """``slides`` and ``export``: run the chosen lessons once and write decks or pages."""
    what = "the slides" if args.command == "slides" else "the course site"
    if not _has_course():
        print(f"error: `labsupport {args.command}` builds {what} from the course's source (lessons/ and "
              "labsupport/course/), and a student release has neither: run `labsupport "
              f"{args.command} --out DIR` in the course's source and hand out the folder it writes; here, open the "
              "notebooks themselves in JupyterLab (`python3 course.py lab`)", file=sys.stderr)
        return 2
    from labsupport.course._build import BuildError, find_lessons
    from labsupport.course._export import export_site
    from labsupport.course._publish import select_lessons
    from labsupport.course._slides import build_slides

    lessons = find_lessons(Path(args.lessons))
    if not lessons:
        if not Path(args.lessons).is_dir():
            return _no_lessons(Path(args.lessons))
        print(f"error: {args.lessons} holds no lessons (NN_slug.md files): give the course's lessons/ folder "
              "with --lessons", file=sys.stderr)
        return 2
    build = build_slides if args.command == "slides" else export_site
    try:
        written = build(select_lessons(lessons, args.lesson), Path(args.out))
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "slides":
        print(f"slides: {len(written)} decks in {args.out} (open one in a browser; S opens the speaker notes)")
    else:
        print(f"site: {written[0]} and {len(written) - 1} lesson pages")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """``demo``: Voilà on the course's notebooks with the course's template (or, with --install, install it).

    Voilà replaces this process (``os.execve``), so Ctrl+C or a SIGTERM stops Voilà and its kernels directly."""
    import os

    if not _has_course():
        print("error: the live demo needs the course's source (labsupport/course/), and a student release has "
              "none; open the notebooks in JupyterLab instead (`python3 course.py lab`)", file=sys.stderr)
        return 2
    from labsupport.course._voila import demo_command, find_notebook, install_template

    if args.install:
        try:
            written = install_template(Path(args.prefix))
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"Voilà's template for the course, and voila.json making it the default: {len(written)} files "
              f"under {args.prefix}")
        return 0
    notebooks = Path(args.notebooks)
    if not notebooks.is_dir():
        print(f"error: {notebooks} is not a folder of notebooks (give --notebooks DIR)", file=sys.stderr)
        return 2
    try:
        lesson = find_notebook(notebooks, args.lesson) if args.lesson else None
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = demo_command(notebooks, lesson, port=args.port, ip=args.ip, open_browser=args.browser)
    print(f"Starting Voilà: open {command.url} (Ctrl+C stops it)", flush=True)
    os.execve(command.argv[0], command.argv, command.env)


def _demo_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], root: Path) -> None:
    demo = sub.add_parser("demo", help="the live demo: a lesson in Voilà, prose, figures and live panels, no code",
                          description="Start Voilà on notebooks/ with the course's page template (nothing is "
                                      "loaded from the web) and print the URL of the lesson, or of the list of "
                                      "lessons. --install instead installs the template into an environment, as "
                                      "Voilà's default (for JupyterLab's /voila/render/ and a plain `voila`).")
    demo.add_argument("lesson", nargs="?", help="the lesson to open, e.g. 00 or 00_overview (default: the list)")
    demo.add_argument("--notebooks", default=str(root / "notebooks"), metavar="DIR",
                      help="folder of notebooks to serve (default: notebooks/)")
    demo.add_argument("--port", type=int, default=8866, help="port to serve on (default 8866)")
    demo.add_argument("--ip", default="localhost", help="address to serve on (default localhost)")
    demo.add_argument("--browser", action="store_true", help="also open the page in a browser")
    demo.add_argument("--install", action="store_true",
                      help="install the template into --prefix and make it Voilà's default, then exit")
    demo.add_argument("--prefix", default=sys.prefix,
                      help="the environment to install into (default: this Python's, sys.prefix)")
    demo.set_defaults(func=_cmd_demo)


def _publish_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help_text: str, root: Path) -> None:
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument("lesson", nargs="*", help="lessons to build, e.g. 00 or 00_overview (default: all)")
    # In a release the command only says where to run it: --out is required in the course's source only.
    parser.add_argument("--out", required=_has_course(), help="folder to write into")
    parser.add_argument("--lessons", default=str(root / "lessons"), help="folder of lesson .md files")
    parser.set_defaults(func=_cmd_publish)


def _grading_options(parser: argparse.ArgumentParser, root: Path) -> None:
    parser.add_argument("--hidden", metavar="DIR", help="folder of hidden pytest tests (one sub-folder per lesson)")
    parser.add_argument("--notebooks", dest="reference", default=str(root / "notebooks"), metavar="DIR",
                        help="the course's student notebooks, whose recorded set-up the grader runs "
                             "(default: notebooks/)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds each exercise may run (default 20)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory per exercise in MB (default 1024)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="no namespaces or unprivileged user (only limits and a separate process)")


def build_parser() -> argparse.ArgumentParser:
    root = _repo_root()
    parser = argparse.ArgumentParser(prog="labsupport", description="Build and grade the course's notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build student notebooks (and optionally solutions) from lessons/")
    build.add_argument("--lessons", default=str(root / "lessons"), help="folder of lesson .md files")
    build.add_argument("--out", default=str(root / "notebooks"), help="folder for student notebooks")
    build.add_argument("--solutions", metavar="DIR", help="also build solution notebooks into DIR")
    build.add_argument("--check", action="store_true", help="only check that --out is up to date")
    build.set_defaults(func=_cmd_build)
    release = sub.add_parser("release", help="write the student release (no solutions) into DIR",
                             description="Write a student repository for a graded class: README, course.py, "
                                         "requirements, the labsupport package, notebooks/ and the classroom "
                                         "files; no lessons, tests or solutions.")
    release.add_argument("dir", help="an empty or new folder")
    release.add_argument("--force", action="store_true", help="replace DIR's contents (a .git folder is kept)")
    release.set_defaults(func=_cmd_release)
    exercises = sub.add_parser("exercises", help="list every graded exercise")
    exercises.set_defaults(func=_cmd_exercises)
    grade = sub.add_parser("grade", help="grade a class: SUBMISSIONS/<student>/<NN_slug>.ipynb",
                           description="Grade every student's notebooks; write grades.csv, <student>/feedback.html "
                                       "and grading.log into --out.")
    grade.add_argument("submissions", help="folder with one folder per student")
    grade.add_argument("--out", required=True, help="folder for the results")
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: one per core)")
    grade.add_argument("--hide", action="append", metavar="DIR",
                       help="a folder submissions must not see, e.g. your solution notebooks (repeatable)")
    grade.add_argument("--lesson", action="append", metavar="NN_slug",
                       help="grade this lesson (repeatable; default: every lesson handed in)")
    _grading_options(grade, root)
    grade.set_defaults(func=_cmd_grade)
    one = sub.add_parser("grade-one", help="grade notebooks of one learner (e.g. in classroom CI)")
    one.add_argument("files", nargs="+", metavar="NOTEBOOK", help="NN_slug.ipynb files")
    one.add_argument("--lesson", help="the lesson, when a notebook's name is not NN_slug.ipynb")
    one.add_argument("--out", help="write feedback.html here")
    one.add_argument("--classroom", metavar="FILE",
                     help="append GitHub Classroom's result=<base64 JSON> to FILE (use $GITHUB_OUTPUT)")
    _grading_options(one, root)
    one.set_defaults(func=_cmd_grade_one)
    _publish_parser(sub, "slides", "build a reveal.js deck per lesson from its slide-tagged cells", root)
    _publish_parser(sub, "export", "build the static course site: index.html and a page per lesson", root)
    _demo_parser(sub, root)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.root = str(_repo_root())
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
