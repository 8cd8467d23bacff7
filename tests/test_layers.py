"""The house's layers (CONTRIBUTING.md's picture): which package of labsupport may import which.

Imports point down only: a model knows no view, a view no grader, the grader no view and no lesson build.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

#: package -> the packages of labsupport it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "service": set(),
    "facts": {"service"},
    "sim": set(),
    "artifacts": {"sim", "service", "facts"},
    "scenarios": {"sim", "artifacts"},
    "views": {"sim"},
    "grading": {"sim", "artifacts", "scenarios"},
    "course": {"grading", "artifacts"},
    "cli": {"course", "grading"},
    "__main__": {"cli"},
    "__init__": set(),
}


def imports_between_packages(package: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in package.rglob("*.py"):
        layer = path.relative_to(package).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [])
            for name in names:
                parts = name.split(".")
                if parts[0] == package.name and len(parts) > 1 and parts[1] != layer:
                    found[layer].add(parts[1])
    return found


def test_every_package_imports_only_the_layers_below_it(root: Path) -> None:
    found = imports_between_packages(root / "labsupport")
    assert set(found) <= set(ALLOWED), f"a package the layering does not know: {sorted(set(found) - set(ALLOWED))}"
    wrong = {layer: sorted(targets - ALLOWED[layer]) for layer, targets in found.items() if targets - ALLOWED[layer]}
    assert not wrong, f"imports that go against the layers: {wrong}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    pkg = tmp_path / "labsupport"
    (pkg / "sim").mkdir(parents=True)
    (pkg / "sim" / "m.py").write_text("from labsupport.views import animate\nimport labsupport.sim._trace\n")
    assert dict(imports_between_packages(pkg)) == {"sim": {"views"}}
