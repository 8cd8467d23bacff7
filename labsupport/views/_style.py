"""One look for every figure in the course.

Colours come from the Okabe-Ito palette, which readers with the common colour-vision deficiencies can tell
apart; states are also told apart by marker symbol, so nothing depends on colour alone.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

__all__ = ["COLORS", "FONT", "SYMBOLS", "apply_style", "log_ticks", "no_math", "template"]

#: Okabe & Ito (2008), "Color Universal Design".
COLORS: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#8C8C8C",
    "light": "#E8E8E8",
}

#: Marker symbols that carry the same meaning as the colours, for readers who cannot rely on colour.
SYMBOLS: dict[str, str] = {
    "ok": "circle",
    "starting": "circle-open",
    "failed": "x",
    "recovering": "diamond",
    "off": "square-open",
}

#: The height of plotly's toolbar row at the top of a figure: titles start below it.
TOOLBAR_PX = 30

FONT = dict(family="DejaVu Sans, Verdana, sans-serif", size=13, color="#222222")


#: Every axis. ``ticklabeloverflow="allow"``: plotly.js's default for a linear axis ("hide past div") measures
#: every tick label once per tick label at each draw, to hide those that leave the figure, which the course's
#: margins never let them do; measured in a live figure's redraw in JupyterLab (``python3 course.py bench
#: draw``, and a CPU profile of the browser benchmark), that was up to 20 ms of a 50 ms redraw.
AXIS = dict(showgrid=True, gridcolor=COLORS["light"], zeroline=False, linecolor="#444", ticks="outside",
            ticklabeloverflow="allow")


def template() -> go.layout.Template:
    layout = go.Layout(
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=[COLORS[c] for c in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow")],
        margin=dict(l=60, r=30, t=90, b=50),
        xaxis=AXIS,
        yaxis=AXIS,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hoverlabel=dict(font=FONT),
    )
    return go.layout.Template(layout=layout)


def apply_style(fig: go.Figure, *, title: str, height: int = 560, **layout: Any) -> go.Figure:
    """Give ``fig`` the course's look, a title and a height.

    The title hangs from the top of the figure below the row plotly's toolbar takes (the toolbar shows while
    the pointer is over the figure and would cover it); ``margin.t`` must hold the title's lines.
    """
    fig.update_layout(template=template(), title=dict(text=title, x=0.01, xanchor="left", yref="container", y=1.0,
                                                      yanchor="top", pad=dict(t=TOOLBAR_PX)),
                      height=height, **layout)
    return fig


def no_math(text: str) -> str:
    """``text`` with every ``$`` as an HTML entity: plotly reads a text holding two ``$`` as LaTeX (and, with
    MathJax on the page, as JupyterLab has, typesets it or hides it), so "$0.19/h … $0.38/h" would vanish."""
    return text.replace("$", "&#36;")


def log_ticks(low: float, high: float) -> dict[str, Any]:
    """Ticks for a log axis from ``low`` to ``high`` (data units): at each decade, labelled as a number of the
    axis's unit ("0.01", "0.1", "1", "10"), never as plotly's bare mantissa ("4") between decades."""
    import math

    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    values = [10.0 ** e for e in range(first, last + 1)]
    return dict(tickvals=values, ticktext=[f"{v:g}" for v in values])
