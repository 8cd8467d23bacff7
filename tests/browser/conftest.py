"""A real JupyterLab in headless Chromium (Debian's ``chromium``, driven by Playwright): pytest fixtures over
:mod:`tests.browser.lab`, the driving code the browser benchmark shares (``python3 course.py bench browser``).

Where no Chromium is installed these tests skip with the reason, except under CI (``CI=true``), where a
missing browser is a failure: CI must install it (``.ci/run`` does). How JupyterLab and Chromium start as on a
fresh machine (no news prompt, no update check, an empty profile) is told in :mod:`tests.browser.lab`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.browser.lab import (
    ARTIFACTS,
    NOTIFICATION_PLUGIN,
    QUIET,
    ROOT,
    Browser,
    Lab,
    chromium,
    free_port,
    jupyter_lab,
    missing,
    serve,
)
from tests.helpers import skip_or_fail

__all__ = ["ARTIFACTS", "NOTIFICATION_PLUGIN", "QUIET", "ROOT", "Browser", "Lab", "free_port", "serve"]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = missing()
    if reason:
        skip_or_fail(reason)
    work = tmp_path_factory.mktemp("lab")
    state = tmp_path_factory.mktemp("lab-state")  # everything JupyterLab would otherwise read from this machine
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    with jupyter_lab(work, state) as running:
        yield running


@pytest.fixture(scope="session")
def browser_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Headless Chromium, for pages that need no JupyterLab; a new, empty profile for every run."""
    reason = missing()
    if reason:
        skip_or_fail(reason)
    profile = tmp_path_factory.mktemp("chromium-profile")
    assert not any(profile.iterdir()), "the Chromium profile must start empty"
    with chromium(profile) as browser:
        yield browser


@pytest.fixture(scope="session")
def browser(lab: Lab, browser_only: Browser) -> Browser:
    """Headless Chromium with a JupyterLab running."""
    return browser_only
