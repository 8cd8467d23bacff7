"""The packaging step: a real zipapp and a real wheel, reproducible, installable, runnable."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from labsupport.service import Launcher, PackageError, build_wheel, build_zipapp, install_wheel, is_running


def test_zipapp_is_an_executable_zip_that_serves(tmp_path: Path) -> None:
    app = build_zipapp(tmp_path, version="2.1.0")
    assert app.path.name == "restaurant-service-2.1.0.pyz"
    assert app.path.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert "__main__.py" in app.files and "restaurant_service/_app.py" in app.files
    assert not any("launcher" in name or "package" in name for name in app.files)  # only the service itself
    assert not list(tmp_path.glob(".staging*"))
    usage = subprocess.run([sys.executable, str(app.path), "--help"], capture_output=True, text=True, check=True)
    assert "127.0.0.1 only" in usage.stdout
    with Launcher(app) as launcher:
        instance = launcher.start(version="v2")
        assert instance.package == "zipapp"
        assert instance.request("GET", "/version").body == {"version": "v2"}
    assert not is_running(instance.pid)


def test_wheel_has_metadata_and_a_record_of_every_file(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, version="1.2.3")
    assert wheel.path.name == "restaurant_service-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel.path) as archive:
        names = archive.namelist()
        info = "restaurant_service-1.2.3.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        assert "Name: restaurant-service" in metadata and "Version: 1.2.3" in metadata
        assert "Tag: py3-none-any" in archive.read(f"{info}/WHEEL").decode()
        assert "restaurant-service = restaurant_service._server:main" in archive.read(f"{info}/entry_points.txt").decode()
        record = archive.read(f"{info}/RECORD").decode().splitlines()
        assert len(record) == len(names)
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data)


def test_builds_are_reproducible(tmp_path: Path) -> None:
    one, two = build_wheel(tmp_path / "a"), build_wheel(tmp_path / "b")
    assert one.path.read_bytes() == two.path.read_bytes()


def test_pip_installs_the_wheel_and_it_serves(tmp_path: Path) -> None:
    installed = install_wheel(build_wheel(tmp_path), tmp_path / "site")
    assert "restaurant_service/_server.py" in installed.files
    assert "bin/restaurant-service" in installed.files  # the console script pip made from entry_points.txt
    with Launcher(installed) as launcher:
        instance = launcher.start()
        assert instance.request("GET", "/health").body == {"status": "ok", "version": "v1"}


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="must look like 1.0.0"):
        build_wheel(tmp_path, version="v1")
    app = build_zipapp(tmp_path)
    with pytest.raises(PackageError, match="needs a wheel"):
        install_wheel(app, tmp_path / "site")
    with pytest.raises(PackageError, match="install it first"):
        build_wheel(tmp_path).command()
