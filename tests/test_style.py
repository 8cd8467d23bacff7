"""The code base stays clean: ruff (with its complexity limit), mypy strict, and short functions in the models
and views. All three are configured in pyproject.toml or below, and run by the README's test command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

#: No function in the models or the views is longer than this many lines (issue 14: a house readable in an hour).
MAX_FUNCTION_LINES = 80


def test_ruff_is_clean(root: Path) -> None:
    """ruff as pyproject.toml configures it, McCabe complexity (C901, at most 12) included."""
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             "labsupport", "tests", "benchmarks", "course.py"],
                            cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean(root: Path) -> None:
    """mypy, strict, on all of labsupport/ (pyproject.toml's [tool.mypy])."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def long_functions(folder: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_in_the_models_or_views_is_longer_than_the_limit(root: Path) -> None:
    too_long = long_functions(root / "labsupport" / "sim") + long_functions(root / "labsupport" / "views")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines: {too_long}"


def test_the_length_check_finds_a_long_function(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "pkg" / "m.py").write_text(f"def short():\n    return 1\n\n\ndef long():\n{body}\n")
    assert long_functions(tmp_path / "pkg") == [f"pkg/m.py:5 long ({MAX_FUNCTION_LINES + 1} lines)"]
