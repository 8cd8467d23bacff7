"""A learner's feedback page: one self-contained, escaped HTML file with points, messages and hints.

Public checks show their message and hint (written for learners, never the expected answer). Hidden tests show
only their name and passed/failed; their code, assertions and values never reach this page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["feedback_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#222;line-height:1.45}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.ex{border-left:6px solid #8c8c8c;padding:.4rem .8rem;margin:.8rem 0;background:#fafafa}
.ex.full{border-color:#009E73}.ex.part{border-color:#E69F00}.ex.zero{border-color:#D55E00}
.pts{float:right;font-weight:bold}.note{color:#555}.hint{color:#0072B2}ul{margin:.3rem 0}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pts(value: float) -> str:
    return f"{value:g}"


def _exercise(g: Any) -> str:
    kind = "full" if g.points == g.max_points and g.max_points > 0 else "part" if g.points > 0 else "zero"
    parts = [f"<div class='ex {kind}'><span class='pts'>{_pts(g.points)} / {_pts(g.max_points)} points</span>",
             f"<b>{_e(g.exercise_id)}</b> — {_e(g.title)}: <b>{_e(g.summary)}</b>"]
    if g.reason:
        parts.append(f"<div>{_e(g.reason)}</div>")
    for note in g.notes:
        parts.append(f"<div class='note'>Note: {_e(note)}</div>")
    public = g.public
    if public is not None and not g.reason:
        if public.message:
            parts.append(f"<div>{_e(public.message)}</div>")
        if public.hint:
            parts.append(f"<div class='hint'>Hint: {_e(public.hint)}</div>")
        items = []
        for o in public.outcomes:
            mark = "✔" if o.passed else "✘"
            line = f"<li>{mark} {_e(o.name)} ({_pts(o.points)}/{_pts(o.max_points)})"
            if not o.passed and o.message:
                line += f": {_e(o.message)}"
            if not o.passed and o.hint:
                line += f"<br><span class='hint'>Hint: {_e(o.hint)}</span>"
            items.append(line + "</li>")
        if items:
            parts.append("<div>Public checks (the ones <code>check</code> runs in your notebook):</div>"
                         f"<ul>{''.join(items)}</ul>")
    if g.hidden:
        items = []
        for o in g.hidden:
            mark = "✔" if o.passed else "✘"
            note = f": {_e(o.note)}" if o.note and not o.passed else ""
            items.append(f"<li>{mark} {_e(o.name)} ({_pts(o.points)}/{_pts(o.max_points)}){note}</li>")
        parts.append(f"<div>Hidden tests:</div><ul>{''.join(items)}</ul>")
    parts.append("</div>")
    return "".join(parts)


def feedback_html(student: str, notebooks: Sequence[Any]) -> str:
    total = sum(nb.points for nb in notebooks)
    maximum = sum(nb.max_points for nb in notebooks)
    body = [f"<h1>Feedback for {_e(student)}</h1>", f"<p><b>Total: {_pts(total)} / {_pts(maximum)} points</b></p>"]
    for nb in notebooks:
        shown = f" ({_e(nb.notebook)})" if nb.notebook else ""
        body.append(f"<h2>Lesson {_e(nb.lesson)}{shown}: {_pts(nb.points)} / {_pts(nb.max_points)} points</h2>")
        body.extend(_exercise(g) for g in nb.exercises)
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Feedback: {_e(student)}</title><style>{_STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
