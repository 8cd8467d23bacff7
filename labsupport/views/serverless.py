"""Lesson 06 pictures: Lambda's execution environments coming and going, the latency tail, cost against VMs."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Result, Trace
from labsupport.sim.serverless import InstanceState, latency_percentiles
from labsupport.views._controls import integer, live_panel, number
from labsupport.views._scene import LivePanel, Scene, reveal
from labsupport.views._style import COLORS, apply_style

__all__ = ["STATE_STYLE", "ServerlessScene", "cost_figure", "latency_bins", "latency_figure", "serverless_panel"]

#: How each instance state looks: (label, colour, marker symbol). Colour and symbol both carry the meaning.
STATE_STYLE = {
    InstanceState.COLD: ("cold start", COLORS["vermillion"], "star"),
    InstanceState.WARM: ("served warm", COLORS["green"], "circle"),
    InstanceState.IDLE: ("idle, still warm", COLORS["sky"], "circle-open"),
    InstanceState.PROVISIONED_IDLE: ("provisioned, idle", COLORS["purple"], "square-open"),
    InstanceState.EXPIRED: ("expired after idling", COLORS["grey"], "x"),
}
_SHOWN = tuple(STATE_STYLE)
_COLUMNS = 8


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(n)
    return (index % _COLUMNS).astype(float), -(index // _COLUMNS).astype(float)


def latency_bins(trace: Trace, width_ms: float | None = None) -> np.ndarray:
    """Bin edges in ms for the latency histogram: fixed for a trace, so the animated bars keep their place."""
    latency = trace.series["request_latency_s"]
    served = latency[~np.isnan(latency)] * 1000
    top = float(np.max(served)) if len(served) else 100.0
    width = width_ms or max(10.0, float(np.ceil(top / 40 / 10) * 10))
    return np.arange(0.0, top + width, width)


class ServerlessScene(Scene):
    """Top left: one marker per execution environment. Top right: the latency histogram so far.
    Bottom: requests, cold starts and throttles per step, and the instances alive."""

    title = "Serverless: instances on demand"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=2, row_heights=[0.55, 0.45], column_widths=[0.45, 0.55],
                            specs=[[{}, {}], [{"colspan": 2, "secondary_y": True}, None]],
                            vertical_spacing=0.16, horizontal_spacing=0.1,
                            subplot_titles=("execution environments (instances)", "latency of the requests so far",
                                            ""))
        for state in _SHOWN:
            label, colour, symbol = STATE_STYLE[state]
            fig.add_trace(go.Scatter(mode="markers", name=label, hoverinfo="text",
                                     marker=dict(color=colour, symbol=symbol, line=dict(color=colour, width=2))),
                          row=1, col=1)
        fig.add_trace(go.Bar(name="warm requests", marker_color=COLORS["green"], showlegend=False,
                             hovertemplate="%{x:.0f} ms: %{y} warm<extra></extra>"), row=1, col=2)
        fig.add_trace(go.Bar(name="cold-start requests", marker=dict(color=COLORS["vermillion"], pattern_shape="x"),
                             showlegend=False, hovertemplate="%{x:.0f} ms: %{y} cold<extra></extra>"), row=1, col=2)
        fig.add_trace(go.Bar(name="requests per step", marker_color=COLORS["light"], showlegend=False,
                             hovertemplate="%{y} requests<extra></extra>"), row=2, col=1)
        fig.add_trace(go.Scatter(name="cold starts", mode="lines", line=dict(color=COLORS["vermillion"], width=2,
                                                                             shape="hv"), showlegend=False),
                      row=2, col=1)
        fig.add_trace(go.Scatter(name="throttled (429)", mode="lines", line=dict(color=COLORS["black"], width=2,
                                                                                 dash="dot", shape="hv"),
                                 showlegend=False), row=2, col=1)
        fig.add_trace(go.Scatter(name="instances alive", mode="lines", line=dict(color=COLORS["blue"], width=2.5,
                                                                                 shape="hv"), showlegend=False),
                      row=2, col=1, secondary_y=True)
        fig.update_xaxes(visible=False, range=[-0.7, _COLUMNS - 0.3], row=1, col=1)
        fig.update_yaxes(visible=False, row=1, col=1)
        fig.update_xaxes(title_text="latency (ms)", row=1, col=2)
        fig.update_yaxes(title_text="requests (log)", type="log", row=1, col=2)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_yaxes(showgrid=False, tickformat=",d", title_font=dict(color=COLORS["blue"]), secondary_y=True,
                         row=2, col=1)
        fig.add_annotation(text="bars: requests · <span style='color:#D55E00'>cold starts</span> · "
                                "<b>throttled</b> (dotted) · <span style='color:#0072B2'>instances alive</span>",
                           xref="paper", yref="paper", x=0.0, y=0.43, showarrow=False, xanchor="left",
                           font=dict(size=12))
        fig = apply_style(fig, title=self.title, height=720)
        # The title on top, the states' legend under it; every state stays in the legend (see frame()).
        fig.update_layout(barmode="overlay", bargap=0.05, margin=dict(t=140),
                          legend=dict(orientation="h", yanchor="bottom", y=1.05, x=0, font=dict(size=12)))
        return fig

    def layout(self, trace: Trace) -> dict[str, Any]:
        s, p = trace.series, trace.params
        rows = max(1, math.ceil(len(s["instance_provisioned"]) / _COLUMNS))
        bins = latency_bins(trace)
        served = ~s["request_throttled"]
        latency_ms = s["request_latency_s"][served] * 1000
        tallest = max(1.0, float(np.histogram(latency_ms, bins)[0].max()) if len(latency_ms) else 1.0)
        per_step = max(1.0, float(np.max(s["requests"])), float(np.max(s["cold_starts"])),
                       float(np.max(s["throttled"])))
        top = max(1, int(np.max(s["instances"])))
        return {
            "yaxis.range": [min(-rows + 0.4, -2.6), 0.7],
            "xaxis2.range": [0, float(bins[-1])],
            # counts from 1 to the tallest bar, ticks at 1, 10, 100 (a bar of one request still shows)
            "yaxis2.range": [np.log10(0.8), np.log10(tallest) + 0.15], "yaxis2.dtick": 1,
            "xaxis3.range": [0, float(s["time_s"][-1])],
            "yaxis3.range": [0, per_step * 1.1], "yaxis3.title.text": f"per {p['step_s']:g} s",
            "yaxis4.range": [0, top * 1.15 + 1], "yaxis4.dtick": max(1, math.ceil(top / 4)),
            "yaxis4.title.text": "instances",
        }

    def summary(self, trace: Trace) -> str:
        s = trace.series
        served = ~s["request_throttled"]
        marks = latency_percentiles(trace)
        cold = int(np.count_nonzero(s["request_cold"]))
        throttled = int(np.count_nonzero(s["request_throttled"]))
        in_bursts = int(np.count_nonzero(s["request_cold"] & s["request_in_burst"]))
        tail = (f"; p50 {marks['p50'] * 1000:.0f} ms, p99 {marks['p99'] * 1000:.0f} ms"
                if np.any(served) else "")
        return (f"<b>This run:</b> {int(np.count_nonzero(served))} requests served, {cold} cold starts "
                f"({in_bursts} in bursts, {cold - in_bursts} on steady traffic; each adds {trace.computed['cold_init_s']:.2f} s), "
                f"{throttled} throttled (429){tail}; at most {int(np.max(s['instances']))} instances alive.")

    @staticmethod
    def _marker_size(trace: Trace) -> float:
        n = len(trace.series["instance_provisioned"])
        return float(min(16.0, max(6.0, 200.0 / max(1, math.ceil(n / _COLUMNS)))))

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        states = s["instance_state"][k]
        n = len(states)
        gx, gy = _grid(n)
        names = np.array([f"env-{i + 1}" for i in range(n)], dtype=object)
        updates: dict[str, dict[str, Any]] = {}
        size = self._marker_size(trace)
        for state in _SHOWN:
            mask = states == int(state)
            label = STATE_STYLE[state][0]
            # One point far outside the axes first: a legend drops a trace that has no points in a frame.
            updates[label] = dict(x=np.concatenate([[-99.0], gx[mask]]), y=np.concatenate([[-99.0], gy[mask]]),
                                  text=[""] + [f"{name}: {label}" for name in names[mask]], marker=dict(size=size))
        t = float(s["time_s"][k])
        bins = latency_bins(trace)
        centres = (bins[:-1] + bins[1:]) / 2
        so_far = (s["request_time_s"] <= t) & ~s["request_throttled"]
        latency_ms = s["request_latency_s"] * 1000
        warm = np.histogram(latency_ms[so_far & ~s["request_cold"]], bins)[0].astype(float)
        cold = np.histogram(latency_ms[so_far & s["request_cold"]], bins)[0].astype(float)
        width = float(bins[1] - bins[0])
        times = reveal(s["time_s"], k)
        return {
            **updates,
            "warm requests": dict(type="bar", x=centres, y=warm, width=np.full(len(centres), width)),
            "cold-start requests": dict(type="bar", x=centres, y=cold, width=np.full(len(centres), width)),
            "requests per step": dict(type="bar", x=times, y=reveal(s["requests"], k).astype(float)),
            "cold starts": dict(x=times, y=reveal(s["cold_starts"], k).astype(float)),
            "throttled (429)": dict(x=times, y=reveal(s["throttled"], k).astype(float)),
            "instances alive": dict(x=times, y=reveal(s["instances"], k).astype(float)),
        }

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s = trace.series
        p = trace.params
        t = float(s["time_s"][k])
        so_far = s["request_time_s"] <= t
        cold = int(np.count_nonzero(s["request_cold"] & so_far))
        throttled = int(np.count_nonzero(s["request_throttled"] & so_far))
        served = so_far & ~s["request_throttled"]
        latency = s["request_latency_s"][served]
        tail = (f", p99 {np.percentile(latency, 99) * 1000:.0f} ms" if len(latency) else "")
        provisioned = f" ({p['provisioned']} provisioned)" if p["provisioned"] else ""
        return {"title.text": (f"{self.title} — t = {t:.0f} s<br><sup>{_n(int(s['instances'][k]), 'instance')} "
                               f"alive{provisioned}; so far {_n(int(np.count_nonzero(served)), 'request')} served, "
                               f"{_n(cold, 'cold start')}, {throttled} throttled{tail}</sup>")}

    def caption(self, trace: Trace, k: int) -> str:
        s = trace.series
        t = float(s["time_s"][k])
        step = float(trace.params["step_s"])
        recent = list(trace.between(t - step, t))
        if not recent:
            return f"<b>t = {t:.0f} s</b>: warm instances serve every request; nothing starts or stops."
        counts: dict[str, int] = {}
        for e in recent:
            counts[e.kind] = counts.get(e.kind, 0) + 1
        items = "".join(f"<li>{html.escape(kind)} × {count}</li>" for kind, count in counts.items())
        return f"<b>t = {t:.0f} s</b>, in the last {step:g} s:<ul>{items}</ul>"


def latency_figure(trace: Trace) -> go.Figure:
    """The whole run's latency histogram, warm and cold apart, with p50, p95 and p99 marked."""
    s = trace.series
    bins = latency_bins(trace)
    served = ~s["request_throttled"]
    latency_ms = s["request_latency_s"] * 1000
    fig = go.Figure()
    for name, mask, colour, pattern in (("warm", served & ~s["request_cold"], COLORS["green"], ""),
                                        ("cold start", served & s["request_cold"], COLORS["vermillion"], "x")):
        counts = np.histogram(latency_ms[mask], bins)[0].astype(float)
        fig.add_trace(go.Bar(x=(bins[:-1] + bins[1:]) / 2, y=counts, width=float(bins[1] - bins[0]), name=name,
                             marker=dict(color=colour, pattern_shape=pattern)))
    marks = latency_percentiles(trace)
    top = float(np.histogram(latency_ms[served], bins)[0].max()) if np.any(served) else 1.0
    for label, dash in (("p50", "dot"), ("p95", "dash"), ("p99", "solid")):
        value = marks[label] * 1000
        if math.isfinite(value):
            fig.add_trace(go.Scatter(x=[value, value], y=[0.8, top * 2], mode="lines+text", name=f"{label} {value:.0f} ms",
                                     text=["", f"{label}"], textposition="top center",
                                     line=dict(color=COLORS["black"], dash=dash, width=1.5)))
    fig.update_xaxes(title_text="latency (ms)")
    fig.update_yaxes(title_text="requests (log scale)", type="log")
    fig.update_layout(barmode="overlay", bargap=0.05, legend=dict(orientation="v", yanchor="top", y=0.98,
                                                                  xanchor="center", x=0.6,
                                                                  bgcolor="rgba(255,255,255,0.85)"))
    cold_share = float(np.mean(s["request_cold"][served])) if np.any(served) else 0.0
    return apply_style(fig, height=440, title=(
        f"Latency of {int(np.count_nonzero(served))} requests: p50 {marks['p50'] * 1000:.0f} ms, "
        f"p95 {marks['p95'] * 1000:.0f} ms, p99 {marks['p99'] * 1000:.0f} ms<br><sup>{cold_share:.1%} of requests "
        "had a cold start; they make the long tail</sup>"))


def cost_figure(*curves: Result) -> go.Figure:
    """Monthly cost against steady request rate: Lambda (one line per curve) and the always-on VMs."""
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    first = curves[0]
    fig.add_trace(go.Scatter(x=first.values["rate_per_s"], y=first.values["vm_usd"], mode="lines",
                             name=(f"always-on: ≥ {first.params['vm_min_instances']} × {first.params['vm_instance']}, "
                                   f"+1 per {first.params['vm_capacity_rps']:g} req/s"),
                             line=dict(color=COLORS["blue"], width=3, shape="hv")))
    for i, curve in enumerate(curves):
        p = curve.params
        fig.add_trace(go.Scatter(x=curve.values["rate_per_s"], y=curve.values["lambda_usd"], mode="lines",
                                 name=f"Lambda {p['memory_mb']} MB, {p['duration_ms']:g} ms, {p['architecture']}",
                                 line=dict(color=COLORS["orange"], width=2.5, dash=dashes[i % len(dashes)])))
        be = curve.computed["break_even_rps"]
        if math.isfinite(be):
            fig.add_trace(go.Scatter(x=[be], y=[float(np.interp(be, curve.values["rate_per_s"],
                                                               curve.values["lambda_usd"]))],
                                     mode="markers+text", text=[f"{be:.1f} req/s"], textposition="top left",
                                     marker=dict(symbol="diamond", size=12, color=COLORS["vermillion"]),
                                     name=f"break-even at {be:.1f} req/s", showlegend=False))
    fig.update_xaxes(title_text="steady traffic (requests per second, all month)")
    fig.update_yaxes(title_text="USD per month", rangemode="tozero")
    return apply_style(fig, height=460, title="Cost per month: pay per request, or pay for VMs that are always on",
                       legend=dict(orientation="v", yanchor="top", y=0.98, x=0.01, bgcolor="rgba(255,255,255,0.8)"))


def _n(count: int, thing: str) -> str:
    """``1 instance``, ``2 instances``."""
    return f"{count} {thing}{'' if count == 1 else 's'}"


def serverless_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: traffic, memory, idle expiry, concurrency limit and provisioned concurrency."""
    from labsupport.sim.serverless import ServerlessParams, run_serverless

    controls = (number("request_rate_per_s", "steady req/s", 0, 20, 0.5),
                integer("burst_size", "burst size", 0, 300, 10),
                integer("memory_mb", "memory", 128, 3008, 64, unit="MB"),
                number("idle_expiry_s", "idle expiry", 30, 900, 30, unit="s"),
                # every whole number from 1 to Lambda's default 1,000: drag, or type the lesson's 10 in the readout
                integer("concurrency_limit", "concurrency limit", 1, 1000),
                integer("provisioned", "provisioned", 0, 40))
    # just after the first burst
    return live_panel(ServerlessScene(), run_serverless, ServerlessParams, controls, initial, start_at_s=65,
                      fixed={"seed": 0}, play_ms=150)
