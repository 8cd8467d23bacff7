"""The class grader: 100 submissions of lesson 00 graded with the sample hidden tests, on every core.

``python benchmarks/bench.py grader`` (or ``python benchmarks/bench_grader.py [N]``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, Row


def grade_copies(count: int = 100, jobs: int | None = None) -> tuple[float, float]:
    """(seconds for the whole class, mean seconds one notebook took in its grader process)."""
    from labsupport.course import Lesson, build_lesson
    from labsupport.course._build import render
    from labsupport.grading import grade

    text = render(build_lesson(Lesson(ROOT / "lessons" / "00_overview.md"), "solution"))
    with tempfile.TemporaryDirectory(prefix="bench-grader-") as tmp:
        submissions = Path(tmp) / "submissions"
        for i in range(count):
            folder = submissions / f"student{i:03d}"
            folder.mkdir(parents=True)
            (folder / "00_overview.ipynb").write_text(text, encoding="utf-8")
        started = time.perf_counter()
        book = grade(submissions, Path(tmp) / "results", ROOT / "notebooks",
                     hidden=ROOT / "instructor" / "hidden_tests", jobs=jobs)
        seconds = time.perf_counter() - started
        assert all(book.total(s) == book.max_points for s in book.grades), "the benchmark's copies must score full"
        each = [nb.seconds for notebooks in book.grades.values() for nb in notebooks]
    return seconds, sum(each) / len(each)


def rows(count: int = 100) -> list[Row]:
    jobs = os.cpu_count() or 1
    seconds, each = grade_copies(count, jobs)
    return [
        Row(f"grader: {count} lesson-00 submissions, {jobs} processes (total)", seconds, "s"),
        Row("grader: per submission, wall clock (total / count)", seconds / count * 1000, "ms"),
        Row("grader: one submission in its grader process (mean)", each * 1000, "ms"),
    ]


if __name__ == "__main__":
    for row in rows(int(sys.argv[1]) if len(sys.argv) > 1 else 100):
        print(row.line())
