"""Each lesson opened in JupyterLab, run with "Run All Cells", its figures and live panel seen working.

A screenshot of every run lands in ``test-artifacts/browser/`` so a failing run can be looked at.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser.lab import (
    ALL_RAN,
    ARTIFACTS,
    LESSONS,
    NOTIFICATION_PLUGIN,
    QUIET,
    Lab,
    open_notebook,
    run_all,
    until,
)

pytestmark = pytest.mark.browser


SAVED_LIMIT = 2_000_000


def _save_and_check_size(page, lab: Lab, slug: str) -> None:
    """Saved from the File menu after "Run all" (JupyterLab does not save widget state unless told to), the
    notebook stays under 2 MB; its size goes to ``saved-sizes.txt`` beside the screenshots."""
    path = lab.root / f"{slug}.ipynb"
    page.locator(".lm-MenuBar-itemLabel", has_text="File").first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-hidden) .lm-Menu-itemLabel", has_text=re.compile(r"^Save( Notebook)?$")) \
        .first.click()
    deadline = time.monotonic() + 60
    while "application/vnd.plotly.v1+json" not in path.read_text(encoding="utf-8"):
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.5)
    size = path.stat().st_size
    with open(ARTIFACTS / "saved-sizes.txt", "a", encoding="utf-8") as log:
        log.write(f"{slug}: {size} bytes saved after Run all\n")
    assert '"application/vnd.jupyter.widget-state+json"' not in path.read_text(encoding="utf-8")
    assert size < SAVED_LIMIT, f"{slug}.ipynb saved after Run all is {size / 1e6:.2f} MB"


@pytest.mark.parametrize("slug", sorted(LESSONS))
def test_lesson_runs_and_its_widgets_respond(lab: Lab, browser, slug: str) -> None:
    expect = LESSONS[slug]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        open_notebook(page, lab, f"{slug}.ipynb")
        run_all(page)
        until(page, ALL_RAN, 180_000)
        page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {expect.plots}",
                               timeout=60_000)
        errors_in_outputs = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors_in_outputs.all_inner_texts() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"a cell failed in the browser: {tracebacks[:1]}"
        slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=expect.control)).first
        slider.scroll_into_view_if_needed()
        live = page.locator(".js-plotly-plot").nth(expect.plots - 1)
        assert expect.text_after not in live.inner_text()
        # plotly.js drops a trace with data it cannot read without a word: count the markers actually drawn
        # (waiting up to a minute: a FigureWidget can take many seconds to draw on a loaded, shared machine)
        live.scroll_into_view_if_needed()
        try:
            page.wait_for_function(
                "([i, n]) => document.querySelectorAll('.js-plotly-plot')[i]"
                ".querySelectorAll('.point').length >= n",
                arg=[expect.plots - 1, expect.live_markers], timeout=60_000)
        except Exception:  # noqa: BLE001 - the assertion below says what is wrong
            pass
        drawn = live.locator(".point").count()
        assert drawn >= expect.live_markers, f"the live figure draws {drawn} markers, expected {expect.live_markers}"
        # every live figure drew with the plotly.js of JupyterLab's renderer, which draws the lesson's other figures
        # (views/_live_figure.js): no second copy of plotly.js reached the page (it cost about 0.6 s to run)
        sources = page.evaluate("Promise.all([...(globalThis.__labsupportPlotly || new Map()).values()])"
                                ".then((found) => found.map((f) => f.source))")
        assert sources == ["jupyterlab-plotly"], f"the live figures took plotly.js from {sources}"
        # the live figure fills its cell (a FigureWidget drawn before it is on the page would stay at 700 px)
        widths = ("([i]) => { const plot = document.querySelectorAll('.js-plotly-plot')[i];"
                  " const cell = plot.closest('.jp-OutputArea-output').getBoundingClientRect().width;"
                  " return [plot.querySelector('.main-svg').getBoundingClientRect().width, cell]; }")
        try:
            page.wait_for_function(f"(arg) => {{ const [svg, cell] = ({widths})(arg); return svg >= 0.9 * cell; }}",
                                   arg=[expect.plots - 1], timeout=15_000)
        except Exception:  # noqa: BLE001 - the assertion below says what is wrong
            pass
        svg, cell = page.evaluate(widths, [expect.plots - 1])
        assert svg >= 0.9 * cell, f"the live figure is {svg:.0f} px wide in a {cell:.0f} px cell"
        page.screenshot(path=str(ARTIFACTS / f"{slug}-before.png"), full_page=False)
        readout = slider.locator(".widget-readout")
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(expect.new_value)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "([i, t]) => document.querySelectorAll('.js-plotly-plot')[i].textContent.includes(t)",
            arg=[expect.plots - 1, expect.text_after], timeout=30_000)
        live.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"{slug}-after.png"), full_page=False)
        _save_and_check_size(page, lab, slug)

        # no uncaught error at all (one from plotly.js's own code, "'.cbnow: error rate' is not a valid selector",
        # named neither plotly nor a widget); the browser's note that a resize observer's loop was cut short is
        # not an error of the page's
        assert not [e for e in errors if "ResizeObserver loop" not in e], errors
        asking = page.locator(".jp-toastContainer .Toastify__toast", has_text=re.compile("news|update", re.I))
        assert not asking.count(), asking.all_inner_texts()  # never a news prompt or an update notice
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{slug}-failure.png"), full_page=True)
        raise
    finally:
        page.close()


def test_lab_never_asks_about_news_or_updates(lab: Lab) -> None:
    """The settings JupyterLab serves to the page: the overrides are the defaults of the notification plugin
    (jupyterlab_server writes them into the schema's defaults; no user setting exists to outweigh them)."""
    import urllib.request

    url = f"{lab.url}lab/api/settings/{NOTIFICATION_PLUGIN}?token={lab.token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        served = json.loads(response.read())
    defaults = {name: spec.get("default") for name, spec in served["schema"]["properties"].items()}
    assert defaults["fetchNews"] == QUIET[NOTIFICATION_PLUGIN]["fetchNews"] == "false"
    assert defaults["checkForUpdates"] is False
    assert served["settings"] == {}  # nothing from this machine's own user settings
