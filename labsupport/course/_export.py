"""Lessons -> a static course site: ``DIR/index.html`` (contents and goals) and ``DIR/NN_slug.html``.

Each page holds the lesson's prose, code and outputs, run from the student build with no widgets: animations
play with plotly frames, a live panel appears as a recorded animation of its default run with a note that the
notebook lets you change it. plotly.js is one file in ``DIR/assets/`` shared by every page.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import nbformat

from labsupport.course._build import Lesson
from labsupport.course._publish import (
    Figures,
    cell_html,
    copy_assets,
    lesson_goals,
    lesson_title,
    page_shell,
    run_lesson,
)

__all__ = ["COURSE_TITLE", "export_site", "index_html", "page_html"]

COURSE_TITLE = "Deploying Microservices — an interactive course"
_HEAD = ('<link rel="stylesheet" href="assets/code.css"><link rel="stylesheet" href="assets/labsupport.css">')
_SCRIPTS = ('<script src="assets/plotly.min.js"></script><script src="assets/labsupport-figures.js"></script>'
            "<script>labsupportFigures.drawAll();</script>")


def _nav(links: list[tuple[str, str]]) -> str:
    items = "".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for href, text in links)
    return f'<nav class="ls-nav" aria-label="course">{items}</nav>'


def page_html(nb: nbformat.NotebookNode, slug: str, *, previous: str | None = None, following: str | None = None) -> str:
    """One lesson's page from a run notebook (its assets are expected in ``assets/`` beside it)."""
    figures = Figures(prefix=slug)
    cells = "\n".join(f'<section class="ls-cell ls-{cell.cell_type}">{cell_html(cell, figures)}</section>'
                      for cell in nb.cells)
    links = [("index.html", "Contents")]
    if previous:
        links.append((f"{previous}.html", "← previous lesson"))
    if following:
        links.append((f"{following}.html", "next lesson →"))
    notebook = (f'<p class="ls-note">This page is the notebook <code>notebooks/{html.escape(slug)}.ipynb</code> run '
                "once, with no kernel behind it: animations play here, and every live panel is a recording. Open "
                "the notebook in JupyterLab to change the panels and to check your answers to the exercises.</p>")
    body = (f'<a class="ls-skip" href="#main">Skip to the lesson</a>{_nav(links)}'
            f'<main id="main">{notebook}{cells}</main>{_nav(links)}')
    return page_shell(f"{lesson_title(nb)} — {COURSE_TITLE}", f'<div class="ls-page-body">{body}</div>',
                      head=_HEAD, scripts=_SCRIPTS).replace("<body>", '<body class="ls-page">', 1)


def index_html(entries: list[tuple[str, str, list[str]]]) -> str:
    """The contents: for each lesson (slug, title, goals) a link and its goals."""
    items = []
    for slug, title, goals in entries:
        listed = "".join(f"<li>{goal}</li>" for goal in goals)
        items.append(f'<li><a href="{html.escape(slug)}.html">{html.escape(title)}</a>'
                     + (f"<p>By the end of this lesson you can:</p><ol>{listed}</ol>" if listed else "") + "</li>")
    body = (f'<a class="ls-skip" href="#main">Skip to the contents</a><header><h1>{html.escape(COURSE_TITLE)}</h1>'
            "<p>Every lesson as a page: read it, play its animations. The notebooks run the same lessons live.</p>"
            f'</header><main id="main"><h2>Lessons</h2><ul class="ls-toc">{"".join(items)}</ul></main>')
    return page_shell(COURSE_TITLE, body, head=_HEAD).replace("<body>", '<body class="ls-page">', 1)


def export_site(lessons: list[Lesson], out_dir: Path, *,
                run: Callable[[Lesson], nbformat.NotebookNode] = run_lesson) -> list[Path]:
    """Write the site into ``out_dir``; return the pages written (the index first)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir)
    entries, written = [], []
    slugs = [lesson.slug for lesson in lessons]
    for i, lesson in enumerate(lessons):
        nb = run(lesson)
        target = out_dir / f"{lesson.slug}.html"
        target.write_text(page_html(nb, lesson.slug, previous=slugs[i - 1] if i else None,
                                    following=slugs[i + 1] if i + 1 < len(slugs) else None), encoding="utf-8")
        entries.append((lesson.slug, lesson_title(nb), lesson_goals(nb)))
        written.append(target)
    index = out_dir / "index.html"
    index.write_text(index_html(entries), encoding="utf-8")
    return [index, *written]
