"""The ``labsupport`` command (also ``python -m labsupport``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _repo_root() -> Path:
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "lessons").is_dir() and (folder / "pyproject.toml").exists():
            return folder
    return here


def _cmd_build(args: argparse.Namespace) -> int:
    from labsupport.course._build import BuildError, build_all, stale_notebooks

    lessons = Path(args.lessons)
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


def _cmd_exercises(_args: argparse.Namespace) -> int:
    from labsupport.grading import all_exercises

    for ex in all_exercises().values():
        print(f"{ex.id:28} {ex.max_points:4g} pts  {ex.title}")
    return 0


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
    exercises = sub.add_parser("exercises", help="list every graded exercise")
    exercises.set_defaults(func=_cmd_exercises)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
