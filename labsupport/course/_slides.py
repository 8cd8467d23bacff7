"""Lessons -> reveal.js decks: ``DIR/NN_slug.html``, one per lesson, built from the cells the lesson marks.

The marking lives in the lesson source, as cell tags (``+++ {"tags": ["slide"]}`` before a Markdown cell,
``:tags: [slide]`` in a code cell's options):

* ``slide``: the cell starts a new slide;
* ``subslide``: the cell starts a new slide below the current one (reveal.js's vertical slides);
* ``fragment``: the cell is added to the current slide and appears on the next key press;
* ``notes``: the cell is the current slide's speaker notes (press ``S`` in the deck for the speaker view).

Cells with none of these tags are not in the deck. A code cell shows its outputs, not its code; a live panel
shows as a recorded animation of its default run. reveal.js and plotly.js are copied once into
``DIR/assets/``; nothing is loaded from the web.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labsupport.course._build import Lesson
from labsupport.course._publish import Figures, cell_html, copy_assets, lesson_title, page_shell, run_lesson

__all__ = ["SLIDE_TAGS", "build_slides", "deck_html", "slide_plan"]

SLIDE_TAGS = ("slide", "subslide", "fragment", "notes")


@dataclass
class Slide:
    cells: list[tuple[nbformat.NotebookNode, bool]] = field(default_factory=list)  # (cell, is a fragment)
    notes: list[nbformat.NotebookNode] = field(default_factory=list)


def slide_plan(nb: nbformat.NotebookNode) -> list[list[Slide]]:
    """The deck's slides: a list of columns (horizontal slides), each a list of vertical slides."""
    columns: list[list[Slide]] = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if "slide" in tags or ("subslide" in tags and not columns):
            columns.append([Slide(cells=[(cell, False)])])
        elif "subslide" in tags:
            columns[-1].append(Slide(cells=[(cell, False)]))
        elif "fragment" in tags and columns:
            columns[-1][-1].cells.append((cell, True))
        elif "notes" in tags and columns:
            columns[-1][-1].notes.append(cell)
    return columns


def _slide_html(slide: Slide, figures: Figures) -> str:
    parts = []
    for cell, fragment in slide.cells:
        body = cell_html(cell, figures, code=False)
        parts.append(f'<div class="fragment">{body}</div>' if fragment else body)
    if slide.notes:
        notes = "".join(cell_html(cell, figures, code=False) for cell in slide.notes)
        parts.append(f'<aside class="notes">{notes}</aside>')
    return "<section>" + "".join(parts) + "</section>"


def deck_html(nb: nbformat.NotebookNode, slug: str) -> str:
    """One reveal.js deck from a run lesson notebook; its assets are expected in ``assets/`` beside it."""
    figures = Figures(prefix=slug)
    sections = []
    for column in slide_plan(nb):
        inner = [_slide_html(slide, figures) for slide in column]
        sections.append(inner[0] if len(inner) == 1 else "<section>" + "".join(inner) + "</section>")
    title = lesson_title(nb)
    head = ('<link rel="stylesheet" href="assets/reveal.js/reveal.css">'
            '<link rel="stylesheet" href="assets/reveal.js/theme/white.css">'
            '<link rel="stylesheet" href="assets/code.css"><link rel="stylesheet" href="assets/labsupport.css">')
    body = f'<div class="reveal" aria-label="{html.escape(title)}"><div class="slides">{"".join(sections)}</div></div>'
    scripts = ('<script src="assets/plotly.min.js"></script><script src="assets/reveal.js/reveal.js"></script>'
               '<script src="assets/reveal.js/plugin/notes.js"></script>'
               '<script src="assets/labsupport-figures.js"></script>\n<script>\n'
               "function lsShow(event) {\n"
               "  var slide = event.currentSlide;\n"
               "  labsupportFigures.drawAll(slide).then(function () { labsupportFigures.resize(slide); });\n"
               "}\n"
               "Reveal.on('ready', lsShow);\nReveal.on('slidechanged', lsShow);\n"
               "Reveal.initialize({hash: true, width: 1280, height: 900, margin: 0.03, center: false, keyboard: true,\n"
               "                   plugins: [RevealNotes]});\n</script>")
    return page_shell(title, body, head=head, scripts=scripts)


def build_slides(lessons: list[Lesson], out_dir: Path, *,
                 run: Callable[[Lesson], nbformat.NotebookNode] = run_lesson) -> list[Path]:
    """Write ``out_dir/NN_slug.html`` for each lesson and the shared assets once; return the decks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_assets(out_dir, reveal=True)
    written = []
    for lesson in lessons:
        target = out_dir / f"{lesson.slug}.html"
        target.write_text(deck_html(run(lesson), lesson.slug), encoding="utf-8")
        written.append(target)
    return written
