#!/usr/bin/env python3
"""Set up the course and use it, with nothing but Python 3.11+ on the machine.

    python3 course.py lab     # set up if needed, then open the course in JupyterLab (prints the URL)
    python3 course.py test    # set up if needed, then run every test (extra arguments go to pytest)
    python3 course.py grade   # set up if needed, then grade notebooks/ with the public checks
    python3 course.py setup   # only set up: a virtual environment in .venv with pinned packages
    python3 course.py bench   # print the benchmark figures (bench browser: in real JupyterLab and Chromium)

In a student release (no lessons/ and no tests/), ``test`` grades the notebooks, as ``grade`` does.

Set-up creates ``.venv`` next to this file and installs the course with the versions pinned in
``requirements/constraints.txt``, so every learner of a class runs the same packages. It reinstalls only
when ``pyproject.toml`` or the constraints change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
STAMP = VENV / ".course-stamp"


# The course's Voilà template (the live demo), which set-up installs into .venv: absent in a student release.
VOILA_TEMPLATE = ROOT / "labsupport" / "course" / "jupyter" / "voila" / "templates" / "course"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    # the template and the code that installs it (labsupport/course/_voila.py): a change to either reinstalls
    for path in (ROOT / "pyproject.toml", CONSTRAINTS, *sorted(VOILA_TEMPLATE.glob("*")),
                 ROOT / "labsupport" / "course" / "_voila.py"):
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def _run(*cmd: object, **kwargs: object) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on an older Python to say so
        sys.exit(f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"Creating the virtual environment {VENV.name}/ ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the course and its pinned dependencies (first time only) ...", flush=True)
    pip = [PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    if _run(*pip, "--upgrade", "pip") != 0:
        sys.exit("Could not upgrade pip in .venv.")
    if _run(*pip, "-c", CONSTRAINTS, "-e", ".[test]") != 0:
        sys.exit("Installing the course failed: see pip's message above.")
    # pip's editable install copies no data files: the live demo's template is installed here (Voilà's default)
    if VOILA_TEMPLATE.is_dir() and _run(PYTHON, "-m", "labsupport", "demo", "--install") != 0:
        sys.exit("Installing the course's Voilà template failed: see the message above.")
    STAMP.write_text(_fingerprint())


def lab(args: list[str]) -> int:
    setup()  # notebooks/ is not rebuilt here: that would overwrite a learner's work
    extra = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    print("Starting JupyterLab on the course's notebooks/ folder; open the http://localhost:... URL it prints.",
          flush=True)
    return _run(PYTHON, "-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT / 'notebooks'}", *extra, *args)


def grade(args: list[str]) -> int:
    setup()
    notebooks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").glob("*.ipynb"))
    return _run(PYTHON, "-m", "labsupport", "grade-one", *(args or notebooks))


def test(args: list[str]) -> int:
    if not (ROOT / "lessons").is_dir() or not (ROOT / "tests").is_dir():
        print("This is a student release: it has no test suite; grading your notebooks instead.", flush=True)
        return grade(args)
    setup()
    solutions = ROOT / "build" / "solutions"
    if _run(PYTHON, "-m", "labsupport", "build", "--check") != 0:
        return 1
    if _run(PYTHON, "-m", "labsupport", "build", "--out", ROOT / "build" / "student", "--solutions", solutions) != 0:
        return 1
    targets = args or ["tests", "notebooks", str(solutions.relative_to(ROOT))]
    return _run(PYTHON, "-m", "pytest", *targets)


def bench(args: list[str]) -> int:
    if not (ROOT / "benchmarks").is_dir():
        print("This is a student release: it has no benchmarks.")
        return 2
    setup()
    return _run(PYTHON, ROOT / "benchmarks" / "bench.py", *args)


def main(argv: list[str]) -> int:
    commands = {"lab": lab, "test": test, "grade": grade, "bench": bench}
    if not argv or argv[0] not in (*commands, "setup"):
        print(__doc__)
        return 2
    if argv[0] == "setup":
        setup()
        return 0
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
