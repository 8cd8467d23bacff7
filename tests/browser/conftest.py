"""A real JupyterLab in headless Chromium (Debian's ``chromium``, driven by Playwright).

Where no Chromium is installed these tests skip with the reason, except under CI (``CI=true``), where a
missing browser is a failure: CI must install it (``.ci/run`` does).

Both start as on a fresh machine, whatever this machine's own settings: JupyterLab gets its own config, data,
runtime, user-settings, workspaces and app-settings folders in a temporary folder, and Chromium a new, empty
profile. The app-settings folder holds an ``overrides.json`` (read by jupyterlab_server's ``_get_overrides``
from ``LabApp.app_settings_dir``, as JupyterLab's "Announcements" documentation describes) that sets
``@jupyterlab/apputils-extension:notification`` to ``fetchNews: "false"`` and ``checkForUpdates: false``, so the
news prompt ("Would you like to get notified about official Jupyter news?") and the update check never appear;
the server side is switched off too (``LabApp.news_url=None``, ``jupyterlab.NeverCheckForUpdate``). No test
clicks a toast. The overrides also start a notebook's preferred kernel without asking, as a learner who
ticked "Always start the preferred kernel" would have it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
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


def _skip_or_fail(reason: str) -> None:
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if chromium_path() is None:
        _skip_or_fail("no Chromium found (install Debian's chromium package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright package is not installed")
    work = tmp_path_factory.mktemp("lab")
    state = tmp_path_factory.mktemp("lab-state")  # everything JupyterLab would otherwise read from this machine
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    app_settings = state / "app-settings"
    app_settings.mkdir()
    (app_settings / "overrides.json").write_text(json.dumps(QUIET, indent=1), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}", f"--LabApp.app_settings_dir={app_settings}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.news_url=None", "--ServerApp.disable_check_xsrf=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_RUNTIME_DIR=str(state / "runtime"), JUPYTERLAB_SETTINGS_DIR=str(state / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"), IPYTHONDIR=str(state / "ipython"))
    url = f"http://127.0.0.1:{port}/"
    with serve(cmd, f"{url}api/status?token={token}", work / "jupyter.log", env, "JupyterLab"):
        yield Lab(url=url, token=token, root=work)


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


@pytest.fixture(scope="session")
def browser_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium, for pages that need no JupyterLab; a new, empty profile for every run."""
    if chromium_path() is None:
        _skip_or_fail("no Chromium found (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed")
    profile = tmp_path_factory.mktemp("chromium-profile")
    assert not any(profile.iterdir()), "the Chromium profile must start empty"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=chromium_path(),
                                                       args=CHROMIUM_FLAGS, headless=True)
        try:
            yield Browser(context, profile)
        finally:
            context.close()


@pytest.fixture(scope="session")
def browser(lab: Lab, browser_only: Browser) -> Browser:
    """Headless Chromium with a JupyterLab running."""
    return browser_only
