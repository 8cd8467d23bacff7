"""Lesson 07 pictures: the four patterns side by side for one workload, and the pick as traffic grows."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.choosing import ISOLATION_NEEDS, LABELS, PATTERNS
from labsupport.views._controls import choice, integer, live_panel, log_number, number, toggle
from labsupport.views._scene import LivePanel, Scene, reveal
from labsupport.views._style import COLORS, apply_style, log_ticks, no_math

__all__ = ["MEASURES", "ComparisonScene", "SweepScene", "choosing_panel", "comparison_figure"]

#: The measures shown side by side: (series, panel title, how to show a value, lower is better).
MEASURES = (
    ("deploy_s", "deploy time (s)", "{:.0f} s"),
    ("p99_ms", "p99 latency (ms)", "{:.0f} ms"),
    ("monthly_usd", "cost per month (USD)", "${:,.0f}"),
    ("utilization", "use of what you pay for", "{:.0%}"),
    ("isolation", "isolation (0–3)", "{:.0f}"),
    ("admin", "admin burden (0–3)", "{:.0f}"),
)
_NAMES = [LABELS[p] for p in PATTERNS]
_PICKED, _FITS, _OUT = COLORS["green"], COLORS["sky"], COLORS["light"]


def _colours(fits: np.ndarray, picked: int) -> tuple[list[str], list[str]]:
    """Bar colours and hatch patterns: the pick green, other fitting patterns blue, ruled-out ones grey and hatched."""
    colours = [(_PICKED if i == picked else _FITS) if ok else _OUT for i, ok in enumerate(fits)]
    patterns = ["" if ok else "/" for ok in fits]
    return colours, patterns


def _picked(trace: Trace) -> int:
    pick = trace.params["recommended"]
    return PATTERNS.index(pick) if pick else -1


class ComparisonScene(Scene):
    """Six small bar charts, one per measure, one bar per pattern; the recommended pattern in green."""

    title = "One workload, four patterns"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=3, subplot_titles=[m[1] for m in MEASURES], shared_yaxes=True,
                            vertical_spacing=0.2, horizontal_spacing=0.06)
        for i, (name, _title, _fmt) in enumerate(MEASURES):
            fig.add_trace(go.Bar(orientation="h", name=name, showlegend=False, textposition="auto",
                                 cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>"),
                          row=i // 3 + 1, col=i % 3 + 1)
        fig.update_yaxes(categoryorder="array", categoryarray=_NAMES[::-1], type="category")
        fig.update_xaxes(rangemode="tozero")
        fig.update_xaxes(type="log", dtick=1, row=1, col=3)
        fig.update_xaxes(range=[0, 3.3], row=2, col=2)
        fig.update_xaxes(range=[0, 3.3], row=2, col=3)
        fig.update_xaxes(range=[0, 1.05], tickformat=".0%", row=2, col=1)
        fig.add_annotation(text="<span style='color:#009E73'>■</span> recommended · <span style='color:#56B4E9'>■"
                                "</span> also fits · <span style='color:#8C8C8C'>▨</span> ruled out",
                           xref="paper", yref="paper", x=0, y=-0.12, showarrow=False, xanchor="left")
        return apply_style(fig, title=self.title, height=560, margin=dict(l=160, t=110, b=70))

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        colours, patterns = _colours(s["fits"], _picked(trace))
        updates = {}
        for name, _title, fmt in MEASURES:
            values = np.asarray(s[name], dtype=float)
            updates[name] = dict(type="bar", x=values, y=list(_NAMES), text=[no_math(fmt.format(v)) for v in values],
                                 marker=dict(color=colours, pattern_shape=patterns, line=dict(color="#444", width=1)))
        return updates

    def layout(self, trace: Trace) -> dict[str, Any]:
        p = trace.params
        pick = p["recommended"]
        head = f"use {LABELS[pick]}" if pick else "no pattern meets every requirement"
        needs = [f"{p['rate_per_s']:.3g} req/s per service (peak × {p['peak_to_mean']:g})",
                 f"{p['services']} services", f"{p['memory_mb']} MB", f"isolation: {p['isolation']}"]
        if p["long_running"]:
            needs.append("long-running")
        for key, unit in (("max_p99_ms", "p99 ≤ {:g} ms"), ("max_deploy_s", "deploy ≤ {:g} s"),
                          ("max_monthly_usd", "≤ ${:,.0f}/month")):
            if p[key] is not None:
                needs.append(unit.format(p[key]))
        return {"title.text": no_math(f"{self.title}: <b>{head}</b><br><sup>{', '.join(needs)}</sup>")}

    def caption(self, trace: Trace, k: int) -> str:
        import html

        rows = []
        for pattern in PATTERNS:
            why = trace.params["reasons"][pattern]
            text = "; ".join(why) if why else "meets every requirement"
            rows.append(f"<li><b>{html.escape(LABELS[pattern])}</b>: {html.escape(text)}</li>")
        return "<ul>" + "".join(rows) + "</ul>"


def comparison_figure(trace: Trace) -> go.Figure:
    """The four patterns side by side for the workload of a :func:`~labsupport.sim.choosing.compare` trace."""
    return ComparisonScene().still(trace, 0)


class SweepScene(Scene):
    """Left: each pattern's monthly cost at the current traffic level. Right: cost against traffic so far."""

    title = "More traffic, same workload"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=1, cols=2, column_widths=[0.4, 0.6], horizontal_spacing=0.16,
                            subplot_titles=("cost per month at this traffic", "cost per month as traffic grows"))
        fig.add_trace(go.Bar(orientation="h", showlegend=False, textposition="auto", name="cost",
                             hovertemplate="%{y}: %{text}<extra></extra>"), row=1, col=1)
        dashes = ("solid", "dash", "dot", "dashdot")
        colours = (COLORS["orange"], COLORS["blue"], COLORS["purple"], COLORS["vermillion"])
        for i, name in enumerate(_NAMES):
            fig.add_trace(go.Scatter(mode="lines+markers", name=name, line=dict(color=colours[i], dash=dashes[i],
                                                                                width=2.5)), row=1, col=2)
        s = trace.series
        usd = np.asarray(s["monthly_usd"], dtype=float)
        low, high = max(float(usd[usd > 0].min()) if np.any(usd > 0) else 1.0, 0.01), float(usd.max())
        rates = np.asarray(s["rate_per_s"], dtype=float)
        fig.update_yaxes(categoryorder="array", categoryarray=_NAMES[::-1], type="category", row=1, col=1)
        usd_ticks = log_ticks(low, high)
        fig.update_xaxes(type="log", range=[np.log10(low) - 0.2, np.log10(high) + 0.4], title_text="USD (log)",
                         **usd_ticks, row=1, col=1)
        fig.update_xaxes(type="log", range=[np.log10(rates.min()) - 0.1, np.log10(rates.max()) + 0.1],
                         title_text="requests per second per service (log)",
                         **log_ticks(float(rates.min()), float(rates.max())), row=1, col=2)
        fig.update_yaxes(type="log", range=[np.log10(low) - 0.2, np.log10(high) + 0.2], title_text="USD (log)",
                         **usd_ticks, row=1, col=2)
        return apply_style(fig, title=self.title, height=480, margin=dict(l=160, t=120),
                           legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0.45))

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        usd = np.asarray(s["monthly_usd"][k], dtype=float)
        colours, patterns = _colours(s["fits"][k], int(s["recommended"][k]))
        updates: dict[str, dict[str, Any]] = {"cost": dict(
            type="bar", x=np.maximum(usd, 0.01), y=list(_NAMES),
            text=[no_math(f"${v:,.2f}" if v < 10 else f"${v:,.0f}") for v in usd],
            marker=dict(color=colours, pattern_shape=patterns, line=dict(color="#444", width=1)))}
        rates = reveal(s["rate_per_s"], k).astype(float)
        for i, name in enumerate(_NAMES):
            updates[name] = dict(x=rates, y=np.maximum(reveal(s["monthly_usd"][:, i], k).astype(float), 0.01))
        return updates

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s = trace.series
        pick = int(s["recommended"][k])
        head = f"use {LABELS[PATTERNS[pick]]}" if pick >= 0 else "no pattern meets every requirement"
        return {"title.text": (f"{self.title}: {float(s['rate_per_s'][k]):g} req/s per service → <b>{head}</b>"
                               f"<br><sup>green: recommended; hatched grey: ruled out by a requirement</sup>")}


def choosing_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: traffic, spikiness, memory, isolation need, long-running."""
    import dataclasses

    from labsupport.sim.choosing import Workload, compare

    controls = (log_number("rate_per_s", "req/s per service", -1, 2, 0.1),
                number("peak_to_mean", "peak ÷ mean", 1, 60, 1),
                integer("memory_mb", "memory", 128, 8192, 128, unit="MB"),
                choice("isolation", "isolation need", list(ISOLATION_NEEDS)),
                toggle("long_running", "long-running"))
    # the workload's other requirements (a budget, a latency limit, ...) may be set, with no control
    shown = {control.name for control in controls}
    fixed = {field.name: getattr(Workload(), field.name) for field in dataclasses.fields(Workload)
             if field.name not in shown}
    # one comparison, no time steps to play
    return live_panel(ComparisonScene(), compare, Workload, controls, initial, fixed={**fixed, "seed": 0},
                      timeless=True)
