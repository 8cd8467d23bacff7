"""Slides, the static site and Voilà for every lesson, each opened in headless Chromium with the network cut.

Every request that is not for a local file or for the local server is blocked and counted: there must be
none. An animation's Play, pressed from the keyboard, changes the figure; every figure has its text
alternative; each page stays under 3 MB. Screenshots land in ``test-artifacts/browser/publish/``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from labsupport.course import Lesson, build_lesson, find_lessons
from labsupport.course._export import export_site
from labsupport.course._publish import lesson_title, run_lesson
from labsupport.course._slides import build_slides
from tests.browser.lab import ARTIFACTS, ROOT, block_outside, free_port, serve
from tests.browser.lab import LESSONS as LAB

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "publish"
LESSONS = find_lessons(ROOT / "lessons")
SLUGS = [lesson.slug for lesson in LESSONS]
PAGE_LIMIT = 3_000_000


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every lesson run once, then built as a deck and as a page (``DIR/slides``, ``DIR/site``)."""
    out = tmp_path_factory.mktemp("publish")
    run = functools.cache(run_lesson)
    build_slides(LESSONS, out / "slides", run=run)
    export_site(LESSONS, out / "site", run=run)
    return out


@contextlib.contextmanager
def _offline(browser, name: str, *, page_errors: bool = True) -> Iterator[object]:
    """A page with every request leaving the machine blocked; on the way out: none was made, no script failed,
    and a failure leaves ``SHOTS/<name>-failure.png``."""
    blocked: list[str] = []
    errors: list[str] = []
    page = _offline_page(browser, blocked, errors)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield page
        assert not blocked, f"{name}: requests leaving the machine: {blocked}"
        assert not (errors and page_errors), errors
    except Exception:
        page.screenshot(path=str(SHOTS / f"{name}-failure.png"), full_page=True)
        raise
    finally:
        page.close()


def _offline_page(browser, blocked: list[str], errors: list[str]):  # noqa: ANN202 - a Playwright page
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    block_outside(page, blocked)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def _title(page, figure: str) -> str:
    return str(page.locator(f"{figure} .gtitle").first.text_content())


def _press_play_and_see_it_change(page, figure: str) -> None:
    page.wait_for_selector(f"{figure}[data-ready='1'] .gtitle", timeout=30_000)
    before = _title(page, figure)
    step = page.locator(f"{figure} .ls-step")
    assert step.input_value() == "0"
    page.locator(f"{figure} .ls-play").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("([f, t]) => document.querySelector(f + ' .gtitle').textContent !== t",
                           arg=[figure, before], timeout=15_000)
    page.locator(f"{figure} .ls-pause").focus()
    page.keyboard.press("Enter")
    assert int(step.input_value()) > 0
    assert _title(page, figure) != before
    # the readout beside the controls names the step's time (its slider value: most steps have no label)
    now = str(page.locator(f"{figure} .ls-now").text_content())
    assert now.startswith("time: ") and any(c.isdigit() for c in now), now
    # the step slider works from the keyboard too
    step.focus()
    page.keyboard.press("Home")
    page.wait_for_function("([f, t]) => document.querySelector(f + ' .gtitle').textContent === t",
                           arg=[figure, before], timeout=10_000)


def test_assets_are_shared_once_per_folder(built: Path) -> None:
    for folder in ("slides", "site"):
        assert (built / folder / "assets" / "plotly.min.js").stat().st_size > 1_000_000
        for page in (built / folder).glob("*.html"):
            text = page.read_text(encoding="utf-8")
            assert 'src="assets/plotly.min.js"' in text or page.name == "index.html"
            assert "Plotly.register" not in text and "https://cdn" not in text  # plotly.js is not inlined
    assert (built / "slides" / "assets" / "reveal.js" / "LICENSE").exists()
    assert not (built / "site" / "assets" / "reveal.js").exists()


@pytest.mark.parametrize("slug", SLUGS)
def test_page_plays_offline_with_text_alternatives(built: Path, browser_only, slug: str) -> None:
    path = built / "site" / f"{slug}.html"
    size = path.stat().st_size
    assert size < PAGE_LIMIT, f"{path.name} is {size / 1e6:.2f} MB"
    with _offline(browser_only, f"page-{slug}") as page:
        page.goto(path.as_uri())
        figures = page.locator("figure.ls-figure")
        count = figures.count()
        assert count >= 2, f"{slug}: {count} figures"
        page.wait_for_function(f"document.querySelectorAll('figure.ls-figure[data-ready=\"1\"]').length === {count}",
                               timeout=60_000)
        for i in range(count):
            caption = figures.nth(i).locator("figcaption")
            assert len(caption.inner_text().strip()) > 40, f"{slug}: figure {i + 1} has no real text alternative"
            assert figures.nth(i).locator(".js-plotly-plot").count() == 1
        recorded = page.locator("figure.ls-figure", has=page.locator(".ls-note"))
        assert recorded.count() >= 1, f"{slug}: no live panel recorded"
        assert "Live in the notebook" in recorded.first.inner_text()
        animated = page.locator("figure.ls-figure", has=page.locator(".ls-play"))
        assert animated.count() >= 1
        animated.first.scroll_into_view_if_needed()
        _press_play_and_see_it_change(page, "#" + str(animated.first.get_attribute("id")))
        page.screenshot(path=str(SHOTS / f"page-{slug}.png"))


def test_index_lists_every_lesson_with_goals(built: Path, browser_only) -> None:
    with _offline(browser_only, "index") as page:
        page.goto((built / "site" / "index.html").as_uri())
        links = page.locator("ul.ls-toc > li > a")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [f"{s}.html" for s in SLUGS]
        for i in range(links.count()):
            assert page.locator("ul.ls-toc > li").nth(i).locator("ol > li").count() >= 2
        page.screenshot(path=str(SHOTS / "index.png"), full_page=True)


@pytest.mark.parametrize("slug", SLUGS)
def test_deck_plays_offline_from_the_keyboard(built: Path, browser_only, slug: str) -> None:
    path = built / "slides" / f"{slug}.html"
    assert path.stat().st_size < PAGE_LIMIT
    with _offline(browser_only, f"deck-{slug}") as page:
        page.goto(path.as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total >= 6, f"{slug}: {total} slides"
        assert page.locator(".reveal aside.notes").count() >= 2, "speaker notes"
        page.screenshot(path=str(SHOTS / f"deck-{slug}-title.png"))
        # walk the deck with the keyboard until a slide holds an animation
        for _ in range(total * 3):
            if page.locator(".reveal section.present figure.ls-figure .ls-play").count():
                break
            page.keyboard.press("ArrowRight" if page.evaluate("Reveal.availableRoutes().right") else "Space")
            page.wait_for_timeout(150)
        figure = page.locator(".reveal section.present figure.ls-figure", has=page.locator(".ls-play")).first
        assert figure.count(), f"{slug}: no animation reached with the keyboard"
        _press_play_and_see_it_change(page, "#" + str(figure.get_attribute("id")))
        page.screenshot(path=str(SHOTS / f"deck-{slug}-animation.png"))


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The live demo as the README starts it, ``labsupport demo`` (Voilà with the course's template)."""
    if shutil.which("voila", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("voila is not installed")
    work = tmp_path_factory.mktemp("voila")
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    port = free_port()
    cmd = [sys.executable, "-m", "labsupport", "demo", "--notebooks", str(work), f"--port={port}", "--ip=127.0.0.1"]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / ".jupyter-config"), JUPYTER_RUNTIME_DIR=str(work / ".rt"))
    url = f"http://127.0.0.1:{port}/"
    with serve(cmd, url, work / "voila.log", env, "Voilà", cwd=work):
        yield url


def test_voila_lists_the_lessons_offline_with_their_icons(voila: str, browser_only) -> None:
    """The page ``labsupport demo`` opens with no lesson named: every lesson, each with its notebook icon."""
    with _offline(browser_only, "voila-list") as page:
        page.goto(voila, timeout=120_000)
        for slug in SLUGS:
            page.get_by_text(f"{slug}.ipynb").first.wait_for(timeout=60_000)
        page.screenshot(path=str(SHOTS / "voila-list.png"))


def _check_voila_lesson(page, url: str, slug: str, shots: str) -> None:
    """A lesson in Voilà at ``url``: its title, no code, figures drawn, and the live panel redraws when its control
    changes (the same checks as in JupyterLab, ``tests/browser/lab.LESSONS``)."""
    expect = LAB[slug]
    title = lesson_title(build_lesson(Lesson(ROOT / "lessons" / f"{slug}.md"), "student"))
    page.goto(url, timeout=300_000)
    page.wait_for_selector(".widget-slider", timeout=300_000)
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {expect.plots}",
                           timeout=120_000)
    assert page.locator("h1").first.inner_text().strip().rstrip("¶").strip() == title
    shown = [t for t in page.locator(".jp-CodeCell .jp-InputArea").all_inner_texts() if t.strip()]
    assert not shown, f"code is shown: {shown[:1]}"
    slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text=expect.control)).first
    slider.scroll_into_view_if_needed()
    live = page.locator(".js-plotly-plot").nth(expect.plots - 1)
    assert expect.text_after not in live.inner_text()
    page.screenshot(path=str(SHOTS / f"{shots}-before.png"))
    slider.locator(".widget-readout").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(expect.new_value)
    page.keyboard.press("Enter")
    page.wait_for_function("([i, t]) => document.querySelectorAll('.js-plotly-plot')[i].textContent.includes(t)",
                           arg=[expect.plots - 1, expect.text_after], timeout=120_000)  # a shared machine is slow
    live.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{shots}-after.png"))


@pytest.mark.parametrize("slug", sorted(LAB))
def test_voila_shows_prose_figures_and_a_working_panel_without_code(voila: str, browser_only, slug: str) -> None:
    # Voilà's own scripts may log a harmless error; what must hold is no network, no code, a working panel
    with _offline(browser_only, f"voila-{slug}", page_errors=False) as page:
        _check_voila_lesson(page, f"{voila}voila/render/{slug}.ipynb", slug, f"voila-{slug}")


def test_every_lesson_is_found(built: Path) -> None:
    assert SLUGS and all(isinstance(lesson, Lesson) for lesson in LESSONS)
    assert sorted(p.stem for p in (built / "site").glob("*.html")) == sorted([*SLUGS, "index"])
    assert sorted(p.stem for p in (built / "slides").glob("*.html")) == sorted(SLUGS)


def test_a_plain_voila_uses_the_course_template(tmp_path: Path) -> None:
    """``voila notebooks/`` with no flag: the template ``python3 course.py setup`` installed as Voilà's default."""
    shutil.copy(ROOT / "notebooks" / "00_overview.ipynb", tmp_path / "00_overview.ipynb")
    port = free_port()
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", str(tmp_path)]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter-config"), JUPYTER_RUNTIME_DIR=str(tmp_path / ".rt"))
    url = f"http://127.0.0.1:{port}/"
    with serve(cmd, url, tmp_path / "voila.log", env, "Voilà", cwd=tmp_path):
        html = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    assert "/voila/templates/course/static/" in html, "not the course's template: run `python3 course.py setup`"
    assert "https://" not in html


@pytest.mark.parametrize("slug", ["00_overview", "05_mesh"])
def test_jupyterlab_voila_render_is_offline(lab, browser, slug: str) -> None:
    """JupyterLab's Voilà (``/voila/render/``, what a Binder link opens): the course's template, MathJax from the
    page's own bundle (no CDN: the server config :func:`install_template` writes), and a working live panel."""
    with _offline(browser, f"lab-voila-{slug}", page_errors=False) as page:
        _check_voila_lesson(page, f"{lab.url}voila/render/{slug}.ipynb?token={lab.token}", slug, f"lab-voila-{slug}")
        assert page.locator("link[href*='fontawesome']").count() == 0
        assert page.locator("link[href*='/voila/templates/course/']").count() >= 1
