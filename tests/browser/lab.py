"""Driving a real JupyterLab in headless Chromium: one module for the browser tests and the browser benchmark.

``tests/browser/conftest.py`` wraps these in pytest fixtures; ``benchmarks/bench_browser.py`` uses them as
they are. Both start as on a fresh machine, whatever this machine's own settings: JupyterLab gets its own
config, data, runtime, user-settings, workspaces and app-settings folders, and Chromium a new, empty profile.
The app-settings folder holds an ``overrides.json`` (read by jupyterlab_server's ``_get_overrides`` from
``LabApp.app_settings_dir``, as JupyterLab's "Announcements" documentation describes) that sets
``@jupyterlab/apputils-extension:notification`` to ``fetchNews: "false"`` and ``checkForUpdates: false``, so the
news prompt ("Would you like to get notified about official Jupyter news?") and the update check never appear;
the server side is switched off too (``LabApp.news_url=None``, ``jupyterlab.NeverCheckForUpdate``). Nothing
clicks a toast. The overrides also start a notebook's preferred kernel without asking, as a learner who
ticked "Always start the preferred kernel" would have it. :func:`block_outside` cuts a page off from
everything but this machine.
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
from typing import Any

from tests.helpers import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
QUIET = {NOTIFICATION_PLUGIN: {"fetchNews": "false", "checkForUpdates": False},
         # what ticking "Always start the preferred kernel" in the kernel dialog would save
         "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True}}


@dataclass(frozen=True)
class Expect:
    """What a lesson must show: how many plotly figures, a control to change, a text that must then appear."""

    plots: int  # the live panel's figure is the last of them
    control: str  # the description label of a slider in the live panel
    new_value: str
    text_after: str  # appears in the live figure only after the control changed
    live_markers: int  # at least this many markers are drawn in the live figure when it first shows


LESSONS = {
    "00_overview": Expect(plots=2, control="instances", new_value="5", text_after="instance-4",
                          live_markers=7),  # 3 instances and the 4 parts
    "02_vm": Expect(plots=3, control="min instances", new_value="6", text_after="6 × c5.large",
                    live_markers=1),
    "01_packaging": Expect(plots=4, control="instances", new_value="6", text_after="instance-5",
                           live_markers=1),
    "03_containers": Expect(plots=5, control="containers", new_value="6", text_after="container-5",
                            live_markers=1),
    "04_kubernetes": Expect(plots=3, control="kill at", new_value="10", text_after="NotReady",
                            live_markers=9),  # the cluster panel is the 3rd figure: 5 components, 4 pods
    "05_mesh": Expect(plots=5, control="baseEjectionTime", new_value="45", text_after="baseEjectionTime 45 s",
                      live_markers=11),  # the outlier panel is the last figure: ten endpoints and the client's Envoy
    "06_serverless": Expect(plots=4, control="provisioned", new_value="5", text_after="5 provisioned",
                            live_markers=5),  # the key's five markers at least
    "07_choosing": Expect(plots=3, control="memory (MB)", new_value="1024", text_after="1024 MB",
                          live_markers=20),  # six measures × four patterns' bars (a zero bar may not draw)
}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing() -> str | None:
    """Why the browser cannot be driven here (no Chromium, no Playwright), or None."""
    if chromium_path() is None:
        return "no Chromium found (install Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def notebook_url(self, name: str) -> str:
        return f"{self.url}lab/tree/{name}?token={self.token}&reset"

    def api(self, path: str, method: str = "GET") -> Any:
        """A call to the server's REST API (``api/kernels``, say), its JSON answer or None."""
        request = urllib.request.Request(f"{self.url}{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


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


@contextlib.contextmanager
def jupyter_lab(work: Path, state: Path) -> Iterator[Lab]:
    """JupyterLab serving ``work`` (copy the notebooks there first), with every setting of its own in ``state``."""
    app_settings = state / "app-settings"
    app_settings.mkdir(parents=True, exist_ok=True)
    (app_settings / "overrides.json").write_text(json.dumps(QUIET, indent=1), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
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


class Browser:
    """Headless Chromium with a profile of its own: ``new_page(viewport=...)`` as on a launched browser."""

    def __init__(self, context: Any, profile: Path) -> None:
        self.context, self.profile = context, profile

    def new_page(self, viewport: dict[str, int] | None = None) -> Any:
        page = self.context.new_page()
        if viewport:
            page.set_viewport_size(viewport)
        return page


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    """Headless Chromium with ``profile`` (an empty folder) as its profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=chromium_path(),
                                                       args=CHROMIUM_FLAGS, headless=True)
        try:
            yield Browser(context, profile)
        finally:
            context.close()


LOCAL = ("file://", "data:", "blob:", "http://127.0.0.1", "http://localhost", "ws://127.0.0.1")


def block_outside(page: Any, blocked: list[str]) -> None:
    """Let ``page`` reach only this machine: every other request is aborted and its URL added to ``blocked``."""

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(LOCAL):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    page.route("**/*", route)


def run_all(page: Any) -> None:
    """Run ▸ Run All Cells, from the menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


# The notebook's kernel has started and is idle. The toolbar's execution indicator says "idle" before any kernel
# exists too; the status bar names the kernel only once it runs ("No Kernel | Initializing" before).
KERNEL_IDLE = """() => /\\(ipykernel\\) \\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')
    && !!document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']")"""
ALL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def until(page: Any, predicate: str, timeout_ms: int) -> None:
    """Wait until the page state ``predicate`` (a JS function) holds; if JupyterLab asks which kernel to start
    on the way, accept its choice (the notebook's own kernel) and go on waiting. Only states are awaited."""
    waiting = f"() => document.querySelector('.jp-Dialog') ? 'dialog' : (({predicate})() ? 'done' : false)"
    while page.wait_for_function(waiting, timeout=timeout_ms).json_value() == "dialog":
        dialog = page.locator(".jp-Dialog")
        if "Select Kernel" not in dialog.inner_text():
            raise AssertionError(f"an unexpected dialog: {dialog.inner_text()}")
        dialog.locator("button.jp-mod-accept").click()
        page.wait_for_selector(".jp-Dialog", state="detached", timeout=timeout_ms)


def open_notebook(page: Any, lab: Lab, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel has started and is idle."""
    page.goto(lab.notebook_url(name))
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    until(page, KERNEL_IDLE, 90_000)
