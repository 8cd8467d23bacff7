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

import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator

import pytest

from tests.browser.helpers import (
    CHROMIUM_FLAGS,
    QUIET,
    ROOT,
    Browser,
    Lab,
    chromium_path,
    free_port,
    serve,
    skip_or_fail,
)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if chromium_path() is None:
        skip_or_fail("no Chromium found (install Debian's chromium package)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    work = tmp_path_factory.mktemp("lab")
    state = tmp_path_factory.mktemp("lab-state")  # everything JupyterLab would otherwise read from this machine
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    app_settings = state / "app-settings"
    app_settings.mkdir()
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


@pytest.fixture(scope="session")
def browser_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium, for pages that need no JupyterLab; a new, empty profile for every run."""
    if chromium_path() is None:
        skip_or_fail("no Chromium found (install Debian's chromium package)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
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
