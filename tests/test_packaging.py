"""Set-up files agree with each other and with the README."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _split(spec: str) -> tuple[str, str]:
    match = NAME.match(spec)
    assert match, spec
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject(root: Path) -> None:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(s) for s in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((root / "environment.yml").read_text())
    conda = dict(_split(s) for s in env["dependencies"] if isinstance(s, str) and not s.startswith(("python", "pip")))
    pip_part = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip_part
    from_pypi = dict(_split(s) for s in pip_part if s != "-e .")  # what conda-forge does not package
    assert not set(conda) & set(from_pypi), "a package is listed twice"
    assert {**conda, **from_pypi} == wanted


def test_constraints_pin_every_dependency(root: Path) -> None:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (root / "requirements" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    extras = [spec for group in project["optional-dependencies"].values() for spec in group]
    for spec in project["dependencies"] + extras:
        assert _split(spec)[0] in pins, f"{spec} is not pinned in requirements/constraints.txt"


def test_ci_runs_the_readme_test_command(root: Path) -> None:
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "python3 course.py test" in readme and "python3 course.py lab" in readme
    assert "python3 course.py test" in ci
