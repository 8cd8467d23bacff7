"""What slides and the static site share: run a lesson with no widgets, turn cells into HTML, copy assets.

A lesson is published from its student build (no solutions leave the instructor's machine), run in a fresh
kernel in *publishing* mode (:func:`labsupport.views.publishing`): every live panel shows a recorded
animation of its default run instead of widgets, and every animation carries its text alternative. The
notebook is run with ``store_widget_state=False``, so no page embeds widget state.

Every plotly figure becomes a ``<figure>`` whose ``<figcaption>`` is its text alternative, with keyboard
controls (real buttons and a range input) when it is an animation. plotly.js and the page script are files
in ``DIR/assets/``, copied once per output folder; nothing is loaded from the web.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from labsupport.course._build import BuildError, Lesson, build_lesson

__all__ = ["PLOTLY_MIME", "Figures", "cell_html", "copy_assets", "lesson_goals", "lesson_title", "markdown_html",
           "run_lesson", "select_lessons"]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
ASSETS = Path(__file__).parent / "assets"
_SETUP = ("import plotly.io as _pio\n_pio.renderers.default = 'plotly_mimetype'\n"
          "from labsupport.views import publishing as _publishing\n_publishing()\n")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def select_lessons(lessons: list[Lesson], wanted: list[str] | None) -> list[Lesson]:
    """The lessons named in ``wanted`` (``00``, ``00_overview`` or ``lessons/00_overview.md``), or all."""
    if not wanted:
        return lessons
    by_name = {**{lesson.number: lesson for lesson in lessons}, **{lesson.slug: lesson for lesson in lessons}}
    chosen = []
    for name in wanted:
        key = Path(name).stem
        if key not in by_name:
            raise BuildError(f"no lesson {name!r}; the lessons are {', '.join(lesson.slug for lesson in lessons)}")
        chosen.append(by_name[key])
    return chosen


def run_lesson(lesson: Lesson, *, timeout_s: int = 600) -> nbformat.NotebookNode:
    """The lesson's student build, run top to bottom in a fresh kernel in publishing mode."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = build_lesson(lesson, "student")
    nb.cells.insert(0, nbformat.v4.new_code_cell(_SETUP))  # type: ignore[no-untyped-call]  # nbformat's constructors have no annotations
    with tempfile.TemporaryDirectory(prefix=f"publish-{lesson.number}-") as work:
        client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3", store_widget_state=False,
                                resources={"metadata": {"path": work}})
        try:
            client.execute()
        except CellExecutionError as error:
            raise BuildError(f"{lesson.path.name} failed while running: {str(error)[-800:]}") from None
    nb.cells.pop(0)
    nb.metadata.pop("widgets", None)
    return nb


def lesson_title(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in str(cell.source).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return str(nb.metadata.get("labsupport", {}).get("lesson", "lesson"))


def lesson_goals(nb: nbformat.NotebookNode) -> list[str]:
    """The lesson's goals as HTML: the items of the first numbered list before its first code cell."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    for cell in nb.cells:
        if cell.cell_type == "code":
            break
        if cell.cell_type != "markdown":
            continue
        tokens = md.parse(cell.source)
        goals, depth, inside = [], 0, False
        for i, token in enumerate(tokens):
            if token.type == "ordered_list_open" and depth == 0:
                inside = True
            elif inside and token.type == "list_item_open":
                depth += 1
            elif inside and token.type == "list_item_close":
                depth -= 1
            elif inside and token.type == "inline" and depth == 1 and tokens[i - 1].type == "paragraph_open":
                goals.append(md.renderInline(token.content).strip())
            elif inside and token.type == "ordered_list_close" and depth == 0:
                return goals
    return []


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return str(MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text))


def _code_html(source: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return str(highlight(source, PythonLexer(), HtmlFormatter(cssclass="ls-source")))


def code_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(cssclass="ls-source").get_style_defs(".ls-source"))


def _plain(text: object) -> str:
    """A plotly text (which may hold <br>, <b>, <sup>) as plain words."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(text or ""))).strip()


def _figure_summary(spec: dict[str, Any]) -> str:
    """A still figure's text alternative: its title, its axes and what each of its series shows."""
    layout = spec.get("layout", {})
    title = _plain(layout.get("title", {}).get("text", "")) or "A figure"
    axes = []
    for key in sorted(layout):
        if re.fullmatch(r"[xy]axis\d*", key):
            text = (layout[key].get("title") or {}).get("text")
            if text:
                axes.append(f"{key[0]}: {_plain(text)}")
    series = []
    for trace in spec.get("data", []):
        name = trace.get("name")
        kind = trace.get("type", "scatter")
        points = len(trace.get("x", []) or trace.get("y", []) or trace.get("values", []) or [])
        if name:
            series.append(f"{name} ({kind}, {points} points)" if points else f"{name} ({kind})")
    parts = [f"<p>{html.escape(title)}.</p>"]
    if axes:
        parts.append(f"<p>Axes: {html.escape('; '.join(dict.fromkeys(axes)))}.</p>")
    if series:
        parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in dict.fromkeys(series)) + "</ul>")
    return "".join(parts)


def compact(value: Any, digits: int = 5) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits: a page's figures shrink to about a
    third (a model's 218.21770123928727 MB draws the same as 218.22), and no figure changes visibly."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: compact(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [compact(item, digits) for item in value]
    return value


@dataclass
class Figures:
    """Numbers the figures of one page or deck, so each gets a unique id."""

    prefix: str
    count: int = 0

    def html(self, spec: dict[str, Any], meta: dict[str, Any]) -> str:
        self.count += 1
        fid = f"ls-{self.prefix}-fig{self.count}"
        frames = spec.get("frames") or []
        note = meta.get("live_panel", "")
        alt = meta.get("alt") or _figure_summary(spec)
        title = _plain(spec.get("layout", {}).get("title", {}).get("text", "")) or "figure"
        payload = json.dumps(compact(spec), separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
        controls = ""
        if frames:
            controls = (f'<div class="ls-controls" role="group" aria-label="animation controls">'
                        f'<button type="button" class="ls-play">▶ Play</button>'
                        f'<button type="button" class="ls-pause">❚❚ Pause</button>'
                        f'<label>step <input type="range" class="ls-step" min="0" max="{len(frames) - 1}" '
                        f'value="0" aria-describedby="{fid}-now"></label>'
                        f'<output class="ls-now" id="{fid}-now"></output></div>')
        label = "Recorded live panel. " if note else ("Animation. " if frames else "Figure. ")
        note_html = f'<p class="ls-note"><b>Live in the notebook.</b> {html.escape(note)}</p>' if note else ""
        return (f'<figure class="ls-figure" id="{fid}"><div class="ls-plot" role="img" '
                f'aria-label="{html.escape(label + title)}"></div>'
                f'<script type="application/json" class="ls-spec">{payload}</script>{controls}'
                f"<figcaption>{note_html}{alt}</figcaption></figure>")


def _output_html(output: nbformat.NotebookNode, figures: Figures) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="ls-stream">{html.escape(_ANSI.sub("", output.get("text", "")))}</pre>'
    if kind == "error":
        text = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="ls-error">{html.escape(text)}</pre>'
    data = output.get("data", {})
    if PLOTLY_MIME in data:
        meta = output.get("metadata", {}).get(PLOTLY_MIME, {}).get("labsupport", {})
        return figures.html(dict(data[PLOTLY_MIME]), dict(meta))
    if "text/html" in data:
        return f'<div class="ls-html">{data["text/html"]}</div>'
    for image in ("image/svg+xml", "image/png"):
        if image in data:
            src = data[image] if image == "image/svg+xml" else f'data:image/png;base64,{data[image]}'
            if image == "image/svg+xml":
                return f'<div class="ls-image">{src}</div>'
            return f'<img class="ls-image" src="{src}" alt="a picture the cell drew">'
    if "text/markdown" in data:
        return markdown_html(data["text/markdown"])
    if WIDGET_MIME in data:
        return '<p class="ls-note">(a widget: it works in the notebook, with a kernel)</p>'
    if "text/plain" in data:
        return f'<pre class="ls-text">{html.escape(_ANSI.sub("", data["text/plain"]))}</pre>'
    return ""


def cell_html(cell: nbformat.NotebookNode, figures: Figures, *, code: bool = True) -> str:
    """A cell as HTML: Markdown rendered; a code cell's source (when ``code``) and its outputs."""
    if cell.cell_type == "markdown":
        return markdown_html(cell.source)
    if cell.cell_type != "code":
        return ""
    parts = [f'<div class="ls-input">{_code_html(cell.source)}</div>'] if code and cell.source.strip() else []
    outputs = "".join(_output_html(output, figures) for output in cell.get("outputs", []))
    if outputs:
        parts.append(f'<div class="ls-output">{outputs}</div>')
    return "".join(parts)


def copy_assets(out_dir: Path, *, reveal: bool = False) -> Path:
    """``out_dir/assets``: plotly.js (from the installed plotly package), the page script and style, and
    reveal.js when ``reveal``; each copied once per folder (again only when it changed)."""
    import plotly

    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    wanted = {Path(plotly.__file__).parent / "package_data" / "plotly.min.js": assets / "plotly.min.js",
              ASSETS / "labsupport-figures.js": assets / "labsupport-figures.js",
              ASSETS / "labsupport.css": assets / "labsupport.css"}
    if reveal:
        for path in (ASSETS / "reveal.js").rglob("*"):
            if path.is_file():
                wanted[path] = assets / "reveal.js" / path.relative_to(ASSETS / "reveal.js")
    for source, target in wanted.items():
        if not target.exists() or target.stat().st_size != source.stat().st_size \
                or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    (assets / "code.css").write_text(code_css(), encoding="utf-8")
    return assets


def page_shell(title: str, body: str, *, head: str = "", scripts: str = "", lang: str = "en") -> str:
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title>{head}</head>\n<body>{body}\n{scripts}</body></html>\n")
