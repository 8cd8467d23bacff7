"""The one look of every linter report in the course: a box, green when it found no errors, red otherwise."""

from __future__ import annotations

import html

__all__ = ["report_html"]


def report_html(ok: bool, head: str, items: list[str]) -> str:
    """A report as HTML: ``head`` (plain text, escaped here) over ``items`` (HTML list items, already escaped)."""
    colour = "#009E73" if ok else "#D55E00"
    listed = f"<ul style='margin:4px 0'>{''.join(items)}</ul>" if items else ""
    return (f"<div class='labsupport-lint' style='border-left:6px solid {colour};padding:6px 10px;"
            f"background:#fafafa'><b>{html.escape(head)}</b>{listed}</div>")
