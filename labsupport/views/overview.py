"""Lesson 00 pictures: the production environment's four parts at work, and its monitoring signals."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.overview import PARTS, InstanceState
from labsupport.views._controls import integer, live_panel, number
from labsupport.views._scene import LivePanel, Scene, event_list_html, reveal, step_events
from labsupport.views._style import COLORS, SYMBOLS, apply_style

__all__ = ["OverviewScene", "PART_COLORS", "PART_LABELS", "STATE_STYLE", "overview_panel"]

PART_LABELS = {
    "service-management-interface": "Service management<br>interface",
    "runtime-service-management": "Runtime service<br>management",
    "monitoring": "Monitoring",
    "request-routing": "Request routing",
    "fault": "(a fault)",
}
PART_COLORS = {
    "service-management-interface": COLORS["blue"],
    "runtime-service-management": COLORS["orange"],
    "monitoring": COLORS["purple"],
    "request-routing": COLORS["sky"],
    "fault": COLORS["vermillion"],
}
_PART_XY = {
    "service-management-interface": (2.2, 5.2),
    "runtime-service-management": (10.9, 4.3),
    "monitoring": (10.9, 1.2),
    "request-routing": (2.2, 2.2),
}
#: How each instance state looks: (label, colour, symbol).
STATE_STYLE = {
    InstanceState.STOPPED: ("stopped", COLORS["grey"], SYMBOLS["off"]),
    InstanceState.STARTING: ("starting", COLORS["grey"], SYMBOLS["starting"]),
    InstanceState.SERVING: ("serving", COLORS["green"], SYMBOLS["ok"]),
    InstanceState.CRASHED: ("crashed", COLORS["vermillion"], SYMBOLS["failed"]),
    InstanceState.RESTARTING: ("restarting", COLORS["orange"], SYMBOLS["recovering"]),
}
_STATE_LOOKUP_COLOR = np.array([STATE_STYLE[s][1] for s in InstanceState], dtype=object)
_STATE_LOOKUP_SYMBOL = np.array([STATE_STYLE[s][2] for s in InstanceState], dtype=object)
_STATE_LOOKUP_LABEL = np.array([STATE_STYLE[s][0] for s in InstanceState], dtype=object)


def _instance_y(n: int) -> np.ndarray:
    return np.linspace(5.2, 0.6, n) if n > 1 else np.array([2.9])


class OverviewScene(Scene):
    """Top: the environment as a diagram. Bottom: what monitoring sees, with the alert thresholds."""

    title = "A production environment at work"

    def figure(self, trace: Trace) -> go.Figure:
        p = trace.params
        fig = make_subplots(
            rows=2, cols=2, specs=[[{"colspan": 2}, None], [{}, {}]], row_heights=[0.58, 0.42],
            vertical_spacing=0.12, horizontal_spacing=0.1,
            subplot_titles=("", f"error rate over the last {p['window_s']:g} s",
                            f"95th percentile latency over the last {p['window_s']:g} s"),
        )
        part_x = [xy[0] for xy in _PART_XY.values()]
        part_y = [xy[1] for xy in _PART_XY.values()]
        # request edges (routing -> instances in the pool)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["sky"], width=2), hoverinfo="skip",
                                 name="requests routed", showlegend=False), row=1, col=1)
        # control edges (runtime management and monitoring watch every instance)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1, dash="dot"),
                                 hoverinfo="skip", name="health checks and metrics", showlegend=False),
                      row=1, col=1)
        # the four parts (size grows while a part is acting)
        fig.add_trace(go.Scatter(x=part_x, y=part_y, mode="markers+text", name="parts",
                                 text=[PART_LABELS[part] for part in _PART_XY], textposition="bottom center",
                                 marker=dict(symbol="square", color=[PART_COLORS[p_] for p_ in _PART_XY],
                                             line=dict(color="#222", width=1)),
                                 hoverinfo="text", showlegend=False), row=1, col=1)
        # the instances
        fig.add_trace(go.Scatter(mode="markers+text", textposition="middle right", name="instances",
                                 marker=dict(size=26, line=dict(width=2)), hoverinfo="text",
                                 showlegend=False), row=1, col=1)
        # the signals, their thresholds, and a time cursor on each
        fig.add_trace(go.Scatter(name="error rate", mode="lines", line=dict(color=COLORS["vermillion"], width=2.5),
                                 showlegend=False), row=2, col=1)
        fig.add_trace(go.Scatter(name="alert threshold", showlegend=False, mode="lines",
                                 line=dict(color=COLORS["black"], dash="dash", width=1.5)), row=2, col=1)
        fig.add_trace(go.Scatter(name="p95 latency", mode="lines", line=dict(color=COLORS["blue"], width=2.5),
                                 showlegend=False), row=2, col=2)
        fig.add_trace(go.Scatter(name="latency threshold", showlegend=False, mode="lines",
                                 line=dict(color=COLORS["black"], dash="dash", width=1.5)), row=2, col=2)
        for col, uid in ((1, "now: error rate"), (2, "now: p95 latency")):
            fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                     showlegend=False, name="now", uid=uid), row=2, col=col)
        for text, y in (("developers ▶", _PART_XY["service-management-interface"][1]),
                        ("users ▶", _PART_XY["request-routing"][1])):
            fig.add_annotation(x=0.2, y=y, text=text, showarrow=False, xanchor="left", row=1, col=1)
        fig.update_xaxes(visible=False, range=[0, 12.0], row=1, col=1)
        fig.update_yaxes(visible=False, range=[-0.3, 6.0], row=1, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=2)
        fig.update_yaxes(tickformat=".0%", row=2, col=1)
        fig.update_yaxes(title_text="seconds", row=2, col=2)
        return apply_style(fig, title=self.title, height=700, margin=dict(t=105))

    @staticmethod
    def _tops(trace: Trace) -> tuple[float, float]:
        """The signal axes' tops: room for the whole run's worst window and for the threshold's label."""
        s, p = trace.series, trace.params
        rate = max(0.3, float(np.max(s["window_error_rate"])) * 1.1, p["alert_error_rate"] * 1.3)
        latency = max(0.6, float(np.max(s["window_p95_latency_s"])) * 1.1, p["alert_p95_latency_s"] * 1.3)
        return rate, latency

    def layout(self, trace: Trace) -> dict[str, Any]:
        p = trace.params
        duration = float(trace.series["time_s"][-1])
        rate_top, latency_top = self._tops(trace)
        label = dict(showarrow=False, xanchor="right", yanchor="bottom", font=dict(size=12))
        return {
            "xaxis2.range": [0, duration], "xaxis3.range": [0, duration],
            "yaxis2.range": [0, rate_top], "yaxis3.range": [0, latency_top],
            "annotations": [
                dict(label, x=duration, y=p["alert_error_rate"], xref="x2", yref="y2",
                     text=f"alert above {p['alert_error_rate']:.0%}"),
                dict(label, x=duration, y=p["alert_p95_latency_s"], xref="x3", yref="y3",
                     text=f"alert above {p['alert_p95_latency_s']:g} s"),
            ],
        }

    def summary(self, trace: Trace) -> str:
        s, p = trace.series, trace.params
        fired, resolved = trace.first("alert-firing"), trace.first("alert-resolved")
        restart = trace.first("restart")
        alert = (f"alert fired at {fired.time_s:.0f} s" + (f", resolved at {resolved.time_s:.0f} s" if resolved
                                                         else ", never resolved") if fired else "no alert fired")
        healed = f"instance restarted at {restart.time_s:.0f} s" if restart else "no restart"
        return (f"<b>This run:</b> crash at {p['crash_at_s']:g} s, {healed}; {alert}; worst window: "
                f"{float(np.max(s['window_error_rate'])):.0%} errors, p95 {float(np.max(s['window_p95_latency_s'])):.2f} s.")

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        p = trace.params
        t = float(s["time_s"][k])
        states = s["instance_state"][k]
        n = len(states)
        ys = _instance_y(n)
        share = s["traffic_share"][k]
        in_pool = share > 0
        rx, ry = _PART_XY["request-routing"]
        edge_x = np.full(3 * n, np.nan)
        edge_y = np.full(3 * n, np.nan)
        edge_x[0::3] = np.where(in_pool, rx, np.nan)
        edge_x[1::3] = np.where(in_pool, 5.2, np.nan)
        edge_y[0::3] = ry
        edge_y[1::3] = ys
        control_x, control_y = [], []
        for part in ("runtime-service-management", "monitoring"):
            px, py = _PART_XY[part]
            for y in ys:
                control_x += [px - 0.4, 9.3, np.nan]
                control_y += [py, y, np.nan]
        acting = self._acting(trace, t)
        alert = bool(s["alert"][k])
        part_sizes = np.array([44 if part in acting else 28 for part in _PART_XY])
        part_colors = [COLORS["vermillion"] if part == "monitoring" and alert else PART_COLORS[part]
                       for part in _PART_XY]
        part_symbols = ["star" if part == "monitoring" and alert else "square" for part in _PART_XY]
        part_text = [PART_LABELS[part] + ("<br><b>ALERT FIRING</b>" if part == "monitoring" and alert else "")
                     for part in _PART_XY]
        labels = [f"instance-{i}: {_STATE_LOOKUP_LABEL[st]}" + (f" · {share[i]:.0%}" if in_pool[i] else "")
                  for i, st in enumerate(states)]
        reveal_t = reveal(s["time_s"], k)
        rate_top, lat_top = self._tops(trace)
        duration = float(s["time_s"][-1])
        return {
            "requests routed": dict(x=edge_x, y=edge_y),
            "health checks and metrics": dict(x=np.array(control_x), y=np.array(control_y)),
            "parts": dict(marker=dict(size=part_sizes, color=part_colors, symbol=part_symbols), text=part_text),
            "instances": dict(x=np.full(n, 5.5), y=ys, text=labels, hovertext=labels,
                              marker=dict(color=_STATE_LOOKUP_COLOR[states], symbol=_STATE_LOOKUP_SYMBOL[states],
                                          line=dict(color=_STATE_LOOKUP_COLOR[states], width=2))),
            "error rate": dict(x=reveal_t, y=reveal(s["window_error_rate"], k)),
            "alert threshold": dict(x=[0, duration], y=[p["alert_error_rate"]] * 2),
            "p95 latency": dict(x=reveal_t, y=reveal(s["window_p95_latency_s"], k)),
            "latency threshold": dict(x=[0, duration], y=[p["alert_p95_latency_s"]] * 2),
            "now: error rate": dict(x=[t, t], y=[0, rate_top]),
            "now: p95 latency": dict(x=[t, t], y=[0, lat_top]),
        }

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        t = float(trace.series["time_s"][k])
        alert = " — ALERT FIRING" if trace.series["alert"][k] else ""
        events = step_events(trace, t, 1.0)
        latest = f"<br><sup>{events}</sup>" if events else ""
        return {"title": {"text": f"{self.title} — t = {t:.0f} s{alert}{latest}"}}

    def caption(self, trace: Trace, k: int) -> str:
        t = float(trace.series["time_s"][k])
        recent = list(trace.between(t - 1, t))
        if not recent:
            return f"<b>t = {t:.0f} s</b>: no new event in the last second; requests keep flowing."
        return f"<b>t = {t:.0f} s</b>, what happened in the last second:{event_list_html(recent, PART_COLORS)}"

    @staticmethod
    def _acting(trace: Trace, t: float) -> set[str]:
        return {e.actor for e in trace.between(t - 1, t) if e.actor in PARTS}


def overview_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: crash time, instance count and alert threshold rerun the model."""
    from labsupport.sim.overview import OverviewParams, run_overview

    controls = (number("crash_at_s", "crash at", 10, 110, 1, unit="s"),
                integer("instances", "instances", 1, 8),
                number("alert_error_rate", "alert above error rate", 0.01, 0.5, 0.01, readout=".0%"))
    # just after the default crash: something to see at once
    return live_panel(OverviewScene(), run_overview, OverviewParams, controls, initial, start_at_s=46,
                      fixed={"seed": 0})
