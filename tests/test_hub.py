"""What Binder and JupyterHub image builders find in this repository (repo2docker's own detection, no engine).

repo2docker picks the first of its buildpacks whose ``detect()`` says yes, run inside the repository folder
(``Repo2Docker.buildpacks``, ``repo2docker/app.py``); nothing here builds an image or needs Docker.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml

repo2docker_app = pytest.importorskip("repo2docker.app", reason="jupyter-repo2docker is a test dependency")
from repo2docker.utils import chdir  # noqa: E402


def _detected(root: Path):  # noqa: ANN202 - a repo2docker buildpack
    app = repo2docker_app.Repo2Docker()
    with chdir(str(root)):
        for buildpack_class in app.buildpacks:
            buildpack = buildpack_class(base_image=app.base_image)
            if buildpack.detect():
                # read what the build will use while still in the folder (the properties read files lazily)
                return buildpack, buildpack.python_version, buildpack.environment_yaml_path, \
                    buildpack._should_preassemble_env
    raise AssertionError("no buildpack detected the repository")


def test_repo2docker_builds_the_conda_environment_with_the_right_python(root: Path) -> None:
    buildpack, python, env_file, preassembled = _detected(root)
    assert type(buildpack).__name__ == "CondaBuildPack"
    assert env_file == "environment.yml"
    minimum = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    assert minimum.startswith(">=")
    wanted = tuple(int(p) for p in minimum[2:].split("."))
    assert tuple(int(p) for p in python.split(".")) >= wanted, f"repo2docker would build Python {python}"
    # `-e .` in the pip section: repo2docker copies the repository before it installs the environment
    assert preassembled is False


def test_the_hub_image_has_what_the_instructors_readme_uses(root: Path) -> None:
    env = yaml.safe_load((root / "environment.yml").read_text())
    names = {str(d).split("=")[0].split(">")[0].split("<")[0].strip() for d in env["dependencies"]
             if isinstance(d, str)}
    assert {"jupyterlab", "voila", "ipywidgets", "plotly"} <= names
    pip = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert "-e ." in pip  # the course's own package, so `labsupport` and the lessons' imports work
    assert not (root / "binder").exists() and not (root / ".binder").exists(), \
        "a binder/ folder would make repo2docker ignore environment.yml"


def test_the_image_build_installs_the_live_demos_voila_template(root: Path) -> None:
    """repo2docker runs ``postBuild`` after the environment (the course included): it installs the template."""
    app = repo2docker_app.Repo2Docker()
    with chdir(str(root)):
        buildpack = next(b(base_image=app.base_image) for b in app.buildpacks if b(base_image=app.base_image).detect())
        assert buildpack.get_post_build_scripts() == ["postBuild"]
    script = root / "postBuild"
    assert script.stat().st_mode & 0o111, "postBuild must be executable"
    commands = [line for line in script.read_text().splitlines() if line and not line.startswith("#")]
    assert commands == ["set -euo pipefail", "python -m labsupport demo --install"]
