"""Build the Restaurant Service into Python's language-specific packages, for real.

* :func:`build_zipapp`: one executable ``.pyz`` file (PEP 441, the standard library's :mod:`zipapp`), the
  nearest Python equivalent of Spring Boot's executable JAR: ``python restaurant-service.pyz --port 0``.
* :func:`build_wheel`: a wheel (PEP 427, "Binary distribution format" in the Python Packaging User Guide),
  Python's standard package: a zip of the modules plus ``*.dist-info`` metadata and a ``RECORD`` of hashes.
  :func:`install_wheel` installs it with pip into a folder, as a deployment to a machine would.

Both copy the service's four modules (logic, its facts, server, ``__main__``) into a top-level package
``restaurant_service``; they use the standard library only, so the package needs nothing else installed.
Builds are reproducible: files are written in a fixed order with a fixed timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import time
import zipapp
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DIST_NAME", "MODULE", "Package", "PackageError", "build_wheel", "build_zipapp", "install_wheel"]

DIST_NAME = "restaurant-service"
MODULE = "restaurant_service"
_SOURCES = ("_app.py", "_facts.py", "_server.py", "__main__.py")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip file can hold: same input, same bytes
_PEP440 = re.compile(r"^\d+(\.\d+)*$")


class PackageError(RuntimeError):
    """A package could not be built or installed; the message says why."""


@dataclass(frozen=True)
class Package:
    """A built (or installed) package: what it is, where, how big, how long it took, and how to run it."""

    kind: str  # "zipapp", "wheel" or "installed wheel"
    path: Path
    version: str
    size_bytes: int
    build_ms: float
    files: tuple[str, ...]

    def command(self, python: str = sys.executable) -> list[str]:
        """The command that starts the service from this package (arguments such as ``--port`` follow)."""
        if self.kind == "zipapp":
            return [python, str(self.path)]
        if self.kind == "installed wheel":
            return [python, "-m", MODULE]
        raise PackageError("a wheel is not run directly: install it first with install_wheel()")

    def env(self) -> dict[str, str]:
        """Environment variables the command needs (where an installed wheel's modules are)."""
        return {"PYTHONPATH": str(self.path)} if self.kind == "installed wheel" else {}


def _check_version(version: str) -> str:
    if not isinstance(version, str) or not _PEP440.match(version):
        raise PackageError(f"a package version must look like 1.0.0 (digits and dots), got {version!r}")
    return version


def _module_files(version: str) -> dict[str, bytes]:
    here = Path(__file__).resolve().parent
    files = {f"{MODULE}/{name}": (here / name).read_bytes() for name in _SOURCES}
    init = (f'"""The course\'s Restaurant Service, packaged by labsupport.service._package."""\n\n'
            f'__version__ = "{version}"\n')
    files[f"{MODULE}/__init__.py"] = init.encode()
    return dict(sorted(files.items()))


def _write_zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def build_zipapp(out_dir: str | Path, version: str = "1.0.0") -> Package:
    """An executable zip of the service, ``restaurant-service-<version>.pyz``, in ``out_dir``."""
    _check_version(version)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    staging = out / f".staging-{MODULE}-{version}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name, data in _module_files(version).items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        target = out / f"{DIST_NAME}-{version}.pyz"
        zipapp.create_archive(staging, target, interpreter="/usr/bin/env python3",
                              main=f"{MODULE}._server:main", compressed=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    build_ms = (time.perf_counter() - started) * 1000
    with zipfile.ZipFile(target) as archive:
        names = tuple(sorted(archive.namelist()))
    return Package("zipapp", target, version, target.stat().st_size, build_ms, names)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(out_dir: str | Path, version: str = "1.0.0") -> Package:
    """A pure-Python wheel of the service, ``restaurant_service-<version>-py3-none-any.whl``, in ``out_dir``.

    It has the metadata a wheel needs (``METADATA``, ``WHEEL``, ``entry_points.txt`` with a
    ``restaurant-service`` console script) and a ``RECORD`` with every file's sha256 and size.
    """
    _check_version(version)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info = f"{MODULE}-{version}.dist-info"
    files = _module_files(version)
    files[f"{info}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {DIST_NAME}\n"
        f"Version: {version}\n"
        "Summary: The Restaurant Service of the course 'Deploying Microservices' (standard library only)\n"
        "Requires-Python: >=3.11\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: labsupport\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{DIST_NAME} = {MODULE}._server:main\n".encode()
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target = out / f"{MODULE}-{version}-py3-none-any.whl"
    _write_zip(target, files)
    build_ms = (time.perf_counter() - started) * 1000
    return Package("wheel", target, version, target.stat().st_size, build_ms, tuple(files))


def install_wheel(wheel: Package, target_dir: str | Path, *, timeout_s: float = 120.0) -> Package:
    """Install ``wheel`` with pip into ``target_dir`` (no index, no dependencies): what a deploy would do."""
    if wheel.kind != "wheel":
        raise PackageError(f"install_wheel needs a wheel, got a {wheel.kind}")
    target = Path(target_dir)
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile", "--quiet",
           "--disable-pip-version-check", "--target", str(target), str(wheel.path)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise PackageError(f"pip did not install the wheel within {timeout_s:g} s") from None
    if done.returncode != 0:
        raise PackageError(f"pip could not install {wheel.path.name}: {done.stderr.strip()[-500:]}")
    build_ms = (time.perf_counter() - started) * 1000
    installed = tuple(sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()))
    size = sum((target / name).stat().st_size for name in installed)
    return Package("installed wheel", target, wheel.version, size, build_ms, installed)
