"""Helpers of the browser tests (their fixtures are in conftest.py): where Chromium is, how JupyterLab is kept
quiet, a server run for the length of a block."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)")
    pytest.skip(reason)


NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
QUIET = {NOTIFICATION_PLUGIN: {"fetchNews": "false", "checkForUpdates": False},
         # what ticking "Always start the preferred kernel" in the kernel dialog would save
         "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True}}


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(cmd: list[str], ready_url: str, log_path: Path, env: dict[str, str], name: str,
          cwd: Path | None = None) -> Iterator[None]:
    """Run a server (JupyterLab, Voilà) until the block ends; ready once ``ready_url`` answers."""
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(ready_url, timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start:\n" + log_path.read_text()[-3000:]) from None
                time.sleep(0.5)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


class Browser:
    """Headless Chromium with a profile of its own: ``new_page(viewport=...)`` as on a launched browser."""

    def __init__(self, context: object, profile: Path) -> None:
        self.context, self.profile = context, profile

    def new_page(self, viewport: dict[str, int] | None = None) -> object:
        page = self.context.new_page()  # type: ignore[attr-defined]
        if viewport:
            page.set_viewport_size(viewport)
        return page
