"""An animation saved as static HTML plays in a browser with no kernel and no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from labsupport.sim.overview import run_overview
from labsupport.views import animate
from labsupport.views.overview import OverviewScene
from tests.browser.lab import ARTIFACTS

pytestmark = pytest.mark.browser


def test_saved_animation_plays_offline(browser_only, tmp_path: Path) -> None:
    page_path = tmp_path / "overview.html"
    animate(OverviewScene(), run_overview(seed=0)).write_html(str(page_path), include_plotlyjs=True,
                                                                   auto_play=False)  # it waits for ▶ Play
    page = browser_only.new_page(viewport={"width": 1200, "height": 800})
    try:
        page.goto(page_path.as_uri())
        page.wait_for_selector(".js-plotly-plot .gtitle")
        assert "t = 0 s" in page.locator(".gtitle").text_content()
        page.locator("text=▶ Play").click()
        page.wait_for_function("!document.querySelector('.gtitle').textContent.includes('t = 0 s')", timeout=10_000)
        first = page.locator(".gtitle").text_content()
        page.wait_for_function("t => document.querySelector('.gtitle').textContent !== t", arg=first,
                               timeout=10_000)  # it plays on: a second frame after the first
        page.locator("text=❚❚ Pause").click()
        title = page.locator(".gtitle").text_content()
        assert "t = " in title and "t = 0 s" not in title
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "static-animation.png"))
    finally:
        page.close()
