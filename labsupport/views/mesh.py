"""Lesson 05 pictures: requests through Envoy sidecars while Flagger shifts the weights, and an outlier ejected.

Every layout value (axis ranges, limit lines, labels, titles) is computed from the trace and its parameters
alone, so a rerun with new settings redraws the whole picture correctly. Configuration pushes and traffic
share one time axis, which a mesh console such as Kiali does not show side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.mesh import Phase, Sample
from labsupport.views._controls import choice, integer, live_panel, number, toggle
from labsupport.views._scene import Animation, LivePanel, Scene, _step_s, animate, event_list_html, reveal
from labsupport.views._style import COLORS, SYMBOLS, apply_style

__all__ = ["ACTOR_COLORS", "VERSION_COLORS", "OutlierScene", "ReleaseScene", "mesh_animate", "outlier_panel",
           "release_panel"]

ACTOR_COLORS = {"flagger": COLORS["purple"], "istiod": COLORS["sky"], "envoy": COLORS["green"],
                "fault": COLORS["vermillion"], "kubectl": COLORS["black"]}
VERSION_COLORS = {1: COLORS["orange"], 2: COLORS["blue"]}

# ---- the release ------------------------------------------------------------------------------------------

_CALLER = (0.6, 2.5)
_CALLER_CAR = (2.1, 2.5)
_ISTIOD = (4.5, 4.6)
_PODS = {"primary-0": (8.4, 3.6), "primary-1": (8.4, 2.5), "canary": (8.4, 1.0)}
_POD_CAR_X = 6.9
_HOPS = 4  # caller app, caller's sidecar, server's sidecar, server app
_SPREAD = 0.22
#: The requests' key, legend entries with no data: (name, colour, symbol).
_LEGEND = (("served by v1", VERSION_COLORS[1], "circle"), ("served by v2", VERSION_COLORS[2], "circle"),
           ("tester's request", COLORS["grey"], "diamond"), ("5xx answer", COLORS["vermillion"], SYMBOLS["failed"]))


def _kept(values: list[Any]) -> list[Any]:
    """``values``, or one empty point: plotly drops a trace with no points from the legend."""
    return values if values else [None]


def _line(values: list[Any]) -> np.ndarray:
    """Line coordinates with NaN breaks as a float array: a widget sends it as binary, NaN and all (a list holding
    NaN is not valid JSON, and Jupyter warns in the cell when it has to send one)."""
    return np.asarray(values, dtype=float)


def _history(trace: Trace, name: str, k: int, decimals: int) -> dict[str, np.ndarray]:
    """A line's points up to step ``k``, thinned to at most about 150 (an animation stores one copy per frame)."""
    times = trace.series["time_s"]
    stride = max(1, len(times) // 150)
    index = np.unique(np.append(np.arange(0, k + 1, stride), k))
    return dict(x=np.round(times[index], 3), y=np.round(np.asarray(trace.series[name], dtype=float)[index], decimals))


def _seconds(t: float) -> str:
    """A time to a tenth of a second, without a trailing ".0"."""
    return f"{round(float(t), 1):g}"


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 failed check", "5 failed checks")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _lane(pod: str) -> float:
    return _PODS[pod][1]


def _phase_name(phase: int) -> str:
    return {Phase.INITIALIZED: "deployed, no traffic", Phase.PROGRESSING: "analysing",
            Phase.PROMOTING: "promoting", Phase.FINALISING: "finalising", Phase.SUCCEEDED: "PROMOTED",
            Phase.FAILED: "ROLLED BACK"}[Phase(int(phase))]


def _top_weight(params: Mapping[str, Any]) -> int:
    """The last weight before promotion: ``maxWeight``, or the last of ``stepWeights``."""
    return int(params["step_weights"][-1]) if params.get("step_weights") else int(params["max_weight"])


def _settings(params: Mapping[str, Any]) -> str:
    """The release's settings as the panel's controls name them."""
    steps = (f"stepWeights {list(params['step_weights'])}" if params.get("step_weights")
             else f"stepWeight {params['step_weight']} · maxWeight {params['max_weight']}")
    testers = "testers by header" if params["header_routing"] else "no testers' rule"
    return (f"v2: {params['canary_error_rate']:.1%} errors, median {params['canary_latency_ms']:g} ms · "
            f"interval {params['interval_s']:g} s · {steps} · threshold {params['threshold']} · {testers}")


def _status(trace: Trace, k: int, sep: str = " · ") -> str:
    """What the release is doing at step ``k``, then its settings (``sep`` between the two)."""
    s = trace.series
    p = trace.params
    return (f"canary {int(s['canary_weight'][k])} % · {_phase_name(int(s['phase'][k]))} · failed checks "
            f"{int(s['failed_checks'][k])} of {p['threshold']}{sep}{_settings(p)}")


class ReleaseScene(Scene):
    """Top: the mesh (callers, sidecars, istiod, the primary's pods and the canary's) with sampled requests
    hopping through the sidecars, coloured by the version that serves them. Middle: the canary's weight and
    Flagger's checks. Bottom: what the proxies report per version: success rate and P99 latency."""

    title = "Deployment is not release: a canary through the mesh"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=3, cols=2, row_heights=[0.44, 0.24, 0.32], vertical_spacing=0.1,
                            horizontal_spacing=0.1, specs=[[{"colspan": 2}, None], [{"colspan": 2}, None], [{}, {}]],
                            subplot_titles=("", "canary weight (% of end users' requests) and Flagger's checks",
                                            "success rate per version (%)", "P99 latency per version (ms)"))
        fig.add_trace(go.Scatter(mode="lines", name="config push", line=dict(color=COLORS["sky"], width=3),
                                 hoverinfo="skip", showlegend=False), row=1, col=1)
        ex, ey = self._edges()
        fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", name="mTLS between sidecars", hoverinfo="skip",
                                 line=dict(color=COLORS["grey"], width=1.5, dash="dot"), showlegend=False),
                      row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+text", name="parts", textposition="bottom center",
                                 hoverinfo="text", showlegend=False, textfont=dict(size=11)), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="requests", hoverinfo="text", showlegend=False),
                      row=1, col=1)
        fig.add_trace(go.Scatter(mode="text", name="routing", hoverinfo="skip", showlegend=False,
                                 textposition="middle left", textfont=dict(size=12)), row=1, col=1)
        for name, colour, symbol in _LEGEND:
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, hoverinfo="skip",
                                     marker=dict(color=colour, symbol=symbol, size=11)), row=1, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="canary weight", fill="tozeroy",
                                 line=dict(color=COLORS["blue"], width=2.5, shape="hv")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="check passed", hoverinfo="text",
                                 marker=dict(color=COLORS["green"], symbol=SYMBOLS["ok"], size=10)), row=2, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="check failed", hoverinfo="text",
                                 marker=dict(color=COLORS["vermillion"], symbol=SYMBOLS["failed"], size=12,
                                             line=dict(width=2))), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="maxWeight",
                                 line=dict(color=COLORS["black"], dash="dash", width=1)), row=2, col=1)
        for col, (metric, label) in enumerate((("success_rate", "minimum"), ("p99_ms", "maximum")), start=1):
            fig.add_trace(go.Scatter(mode="lines", name=f"v2 canary {metric}", showlegend=False,
                                     line=dict(color=VERSION_COLORS[2], width=2.5)), row=3, col=col)
            fig.add_trace(go.Scatter(mode="lines", name=f"primary {metric}", showlegend=False,
                                     line=dict(color=VERSION_COLORS[1], width=2, dash="dot")), row=3, col=col)
            fig.add_trace(go.Scatter(mode="lines", name=f"{label} {metric}",
                                     showlegend=False, line=dict(color=COLORS["black"], dash="dash", width=1)),
                          row=3, col=col)
        for row, col, plot in ((2, 1, "weight"), (3, 1, "success rate"), (3, 2, "latency")):
            fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                     showlegend=False, name="now", uid=f"now: {plot}"), row=row, col=col)
        fig.update_xaxes(visible=False, range=[0, 10.4], row=1, col=1)
        fig.update_yaxes(visible=False, range=[0.2, 5.2], row=1, col=1)
        for col in (1, 2):
            fig.update_xaxes(title_text="time (s)", row=3, col=col)
        fig.add_annotation(x=4.5, y=2.05, text="mTLS between sidecars", showarrow=False, font=dict(size=11,
                           color=COLORS["grey"]), row=1, col=1)
        fig.update_yaxes(range=[0, 105], row=2, col=1)
        fig.update_layout(legend=dict(orientation="h", x=0, y=0.572, yanchor="bottom"), margin=dict(t=115))
        return apply_style(fig, title=self.title, height=920)

    def layout(self, trace: Trace) -> dict[str, Any]:
        """The time axes, the metric axes and the labels of the limit lines, from the trace and its settings."""
        p = trace.params
        end = self._end(trace)
        label = dict(showarrow=False, xanchor="right", yanchor="bottom", font=dict(size=11))
        return {
            "xaxis2.range": [0, end], "xaxis3.range": [0, end], "xaxis4.range": [0, end],
            "yaxis3.range": self._success_range(trace), "yaxis4.range": [0, self._latency_top(trace)],
            "annotations": [
                dict(label, x=end, y=_top_weight(p), xref="x2", yref="y2", text=f"maxWeight {_top_weight(p)} %"),
                dict(label, x=end, y=p["min_success_rate"], xref="x3", yref="y3",
                     text=f"minimum {p['min_success_rate']:g} %", yanchor="top"),
                dict(label, x=end, y=p["max_latency_ms"], xref="x4", yref="y4",
                     text=f"P99 limit {p['max_latency_ms']:g} ms"),
            ],
        }

    def summary(self, trace: Trace) -> str:
        """When testers and end users first reached v2, how the release ended, and what v2's errors cost."""
        s = trace.series
        times = s["time_s"]

        def first(name: str) -> str:
            hit = np.flatnonzero(s[name])
            return f"at {_seconds(times[hit[0]])} s" if len(hit) else "never"

        testers = (f"testers reached v2 {first('tester_canary')}" if trace.first("route-testers")
                   else "no testers' rule")
        ended = trace.first("rollback") or trace.first("promote")
        checks = trace.of_kind("analysis")
        failed = sum(not e.data["passed"] for e in checks)
        if ended is None:
            outcome = f"still analysing at the end, {_count(failed, 'failed check')}"
        elif ended.kind == "rollback":
            outcome = (f"rolled back at {_seconds(ended.time_s)} s after {_count(failed, 'failed check')}, at "
                       f"{int(s['canary_weight'].max())} %")
        else:
            outcome = (f"promoted at {_seconds(ended.time_s)} s after {_count(len(checks) - failed, 'passing check')}"
                       f" and {_count(failed, 'failed one')}")
        served = int(s["user_canary"].sum())
        errors = int(s["user_canary_errors"].sum())
        return (f"<b>This run:</b> {testers}, end users {first('user_canary')}; {outcome}; "
                f"{errors} of {served} end users' requests to v2 failed.")

    # layout values, all from the trace
    @staticmethod
    def _end(trace: Trace) -> float:
        times = trace.series["time_s"]
        return float(times[-1]) + _step_s(times)

    @staticmethod
    def _success_range(trace: Trace) -> list[float]:
        rates = np.concatenate([trace.series["canary_success_rate"], trace.series["primary_success_rate"]])
        seen = rates[~np.isnan(rates)]
        low = min(float(trace.params["min_success_rate"]) - 1.0, float(seen.min()) - 1.0 if len(seen) else 100.0)
        return [max(0.0, math.floor(low)), 100.5]

    @staticmethod
    def _latency_top(trace: Trace) -> float:
        p99 = np.concatenate([trace.series["canary_p99_ms"], trace.series["primary_p99_ms"]])
        seen = p99[~np.isnan(p99)]
        return float(max(trace.params["max_latency_ms"] * 1.25, float(seen.max()) * 1.1 if len(seen) else 0.0))

    @staticmethod
    def _edges() -> tuple[np.ndarray, np.ndarray]:
        xs: list[float] = []
        ys: list[float] = []
        for pod in _PODS:
            xs += [_CALLER[0], _CALLER_CAR[0], _POD_CAR_X, _PODS[pod][0], math.nan]
            ys += [_CALLER[1], _CALLER_CAR[1], _lane(pod), _lane(pod), math.nan]
        return _line(xs), _line(ys)

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        p = trace.params
        t = float(s["time_s"][k])
        phase = int(s["phase"][k])
        testers = p["header_routing"] and phase == Phase.PROGRESSING
        routing = [f"everyone: primary {int(s['primary_weight'][k])} · canary {int(s['canary_weight'][k])}",
                   "testers (x-tester: true) → canary" if testers else "no tester rule"]
        low, high = self._success_range(trace)
        end = self._end(trace)
        return {
            "config push": self._pushes(trace, k),
            "mTLS between sidecars": {},
            "parts": self._parts(trace, k),
            "requests": self._requests(trace, k),
            "routing": dict(x=[10.3, 10.3], y=[4.9, 4.5], text=routing),
            **{name: {} for name, _colour, _symbol in _LEGEND},
            "canary weight": self._weight_line(trace, k),
            **self._checks(trace, t),
            "maxWeight": dict(x=[0, end], y=[float(_top_weight(p))] * 2),
            "v2 canary success_rate": _history(trace, "canary_success_rate", k, 2),
            "primary success_rate": _history(trace, "primary_success_rate", k, 2),
            "minimum success_rate": dict(x=[0, end], y=[float(p["min_success_rate"])] * 2),
            "v2 canary p99_ms": _history(trace, "canary_p99_ms", k, 0),
            "primary p99_ms": _history(trace, "primary_p99_ms", k, 0),
            "maximum p99_ms": dict(x=[0, end], y=[float(p["max_latency_ms"])] * 2),
            "now: weight": dict(x=[t, t], y=[0, 105]),
            "now: success rate": dict(x=[t, t], y=[low, high]),
            "now: latency": dict(x=[t, t], y=[0, self._latency_top(trace)]),
        }

    @staticmethod
    def _parts(trace: Trace, k: int) -> dict[str, Any]:
        """The parts of the mesh at step ``k``: apps (large squares) with their sidecars (small hexagons)."""
        s = trace.series
        version = int(s["primary_version"][k])
        canary_up = int(s["phase"][k]) not in (Phase.SUCCEEDED, Phase.FAILED)
        parts = [("callers", *_CALLER, COLORS["black"], "square", 26, "the calling service (users' and testers' requests)"),
                 ("Envoy", *_CALLER_CAR, COLORS["green"], "hexagon", 18, "the caller's Envoy sidecar: routes, retries, mTLS"),
                 ("istiod", *_ISTIOD, COLORS["sky"], "square", 30, "istiod: watches the API, pushes Envoy configuration")]
        for pod in _PODS:
            live = pod != "canary" or canary_up
            v = 2 if pod == "canary" else version
            label = f"{pod} v{v}" if live else "canary (scaled to 0)"
            parts.append((label, _PODS[pod][0], _lane(pod), VERSION_COLORS[v] if live else COLORS["light"], "square",
                          26, label))
            parts.append(("Envoy", _POD_CAR_X, _lane(pod), COLORS["green"] if live else COLORS["light"], "hexagon", 18,
                          f"{pod}'s Envoy sidecar"))
        names, xs, ys, colours, symbols, sizes, hover = (list(column) for column in zip(*parts, strict=True))
        return dict(x=xs, y=ys, text=names, hovertext=hover,
                    marker=dict(color=colours, symbol=symbols, size=sizes, line=dict(color="#222", width=1)))

    @staticmethod
    def _requests(trace: Trace, k: int) -> dict[str, Any]:
        """The sampled requests in flight: the sample of step ``k - j`` is at hop ``j``."""
        s = trace.series
        rx, ry, rc, rs, rh = [], [], [], [], []
        for j in range(_HOPS):
            step = k - j
            if step < 0:
                continue
            for i, (kind, failed) in enumerate(zip(s["sample"][step], s["sample_error"][step], strict=True)):
                kind = Sample(int(kind))
                if kind == Sample.NONE:
                    continue
                to_canary = kind in (Sample.USER_CANARY, Sample.TESTER_CANARY)
                pod = "canary" if to_canary else f"primary-{(step + i) % 2}"
                v = 2 if to_canary else int(s["primary_version"][step])
                x = (_CALLER[0], _CALLER_CAR[0], _POD_CAR_X, _PODS[pod][0])[j]
                y = (_CALLER[1] if j < 2 else _lane(pod)) + (i - 1) * _SPREAD
                tester = kind in (Sample.TESTER_CANARY, Sample.TESTER_PRIMARY)
                answered_5xx = failed and j == _HOPS - 1
                rx.append(x + 0.35)
                ry.append(y)
                rc.append(COLORS["vermillion"] if answered_5xx else VERSION_COLORS[v])
                rs.append(SYMBOLS["failed"] if answered_5xx else ("diamond" if tester else "circle"))
                who = "tester (x-tester: true)" if tester else "end user"
                rh.append(f"{who} → {pod} (v{v}){': 5xx' if failed else ''}")
        return dict(x=np.round(rx, 3), y=np.round(ry, 3), hovertext=rh,
                    marker=dict(color=rc, symbol=rs, size=11, line=dict(color="#222", width=1)))

    @staticmethod
    def _pushes(trace: Trace, k: int) -> dict[str, np.ndarray]:
        """istiod's pushes during step ``k``: a line to every sidecar."""
        times = trace.series["time_s"]
        t = float(times[k])
        dt = _step_s(times)
        pushes = [e for e in trace.between(t - dt, t) if e.kind == "push-config"] if k else []
        px: list[float] = []
        py: list[float] = []
        if pushes:
            for x, y in [_CALLER_CAR] + [(_POD_CAR_X, _lane(pod)) for pod in _PODS]:
                px += [_ISTIOD[0], x, math.nan]
                py += [_ISTIOD[1], y, math.nan]
        return dict(x=_line(px), y=_line(py))

    def _checks(self, trace: Trace, t: float) -> dict[str, dict[str, Any]]:
        """Flagger's checks up to time ``t``, passed and failed, each at the weight it judged."""
        checks = [e for e in trace.of_kind("analysis") if e.time_s <= t + 1e-9]
        ok = [e for e in checks if e.data["passed"]]
        bad = [e for e in checks if not e.data["passed"]]
        weight_at = {e.time_s: self._weight_before(trace, e.time_s) for e in checks}
        return {
            "check passed": dict(x=_kept([e.time_s for e in ok]), y=_kept([weight_at[e.time_s] for e in ok]),
                                 hovertext=[f"{e.time_s:g} s: passed ({e.data['success_rate']} %, P99 "
                                            f"{e.data['p99_ms']} ms)" for e in ok]),
            "check failed": dict(x=_kept([e.time_s for e in bad]), y=_kept([weight_at[e.time_s] for e in bad]),
                                 hovertext=[f"{e.time_s:g} s: failed check {e.data['failed_checks']}: {e.data['why']}"
                                            for e in bad]),
        }

    @staticmethod
    def _weight_line(trace: Trace, k: int) -> dict[str, np.ndarray]:
        """The weight up to step ``k`` as a step line: only the steps where it changed, and step ``k``."""
        weight = np.asarray(trace.series["canary_weight"][: k + 1], dtype=float)
        index = np.append(np.flatnonzero(np.diff(weight, prepend=-1.0)), k)
        return dict(x=np.round(trace.series["time_s"][index], 3), y=weight[index])

    @staticmethod
    def _weight_before(trace: Trace, t: float) -> float:
        times = trace.series["time_s"]
        k = int(np.searchsorted(times, t - 1e-9)) - 1
        return float(trace.series["canary_weight"][max(k, 0)])

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        t = float(trace.series["time_s"][k])
        status = _status(trace, k, sep="</sup><br><sup>")
        return {"title": {"text": f"{self.title} — t = {t:.1f} s<br><sup>{status}</sup>"}}

    def caption(self, trace: Trace, k: int) -> str:
        s = trace.series
        t = float(s["time_s"][k])
        dt = _step_s(s["time_s"])
        recent = list(trace.between(t - dt, t)) if k else [e for e in trace.events if e.time_s <= t]
        head = (f"<b>t = {t:.1f} s</b> ({_status(trace, k)}; the proxies report {s['canary_rps'][k]:.1f} "
                f"requests/s to the canary, {s['primary_rps'][k]:.1f} to the primary)")
        if not recent:
            return head + ": requests flow by the rules last pushed; nothing was reconfigured."
        return head + ":" + event_list_html(recent, ACTOR_COLORS, limit=8)


# ---- outlier detection -------------------------------------------------------------------------------------

class OutlierScene(Scene):
    """Top: the client's Envoy and the pool of endpoints, ejected ones greyed out. Middle: when each endpoint
    was out of the pool, with the interval ticks at which Envoy may return it. Bottom: errors per second."""

    title = "Outlier detection: a failing endpoint ejected and brought back"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=3, cols=1, row_heights=[0.3, 0.4, 0.3], vertical_spacing=0.14)
        fig.add_trace(go.Scatter(mode="lines", name="traffic", hoverinfo="skip", showlegend=False,
                                 line=dict(color=COLORS["grey"], width=1)), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+text", name="endpoints", hoverinfo="text", showlegend=False,
                                 textposition="bottom center", textfont=dict(size=10)), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+text", text=["client's Envoy"], name="client's Envoy",
                                 textposition="top center", hoverinfo="skip", showlegend=False,
                                 marker=dict(symbol="hexagon", size=22, color=COLORS["green"])), row=1, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="interval tick", hoverinfo="skip", showlegend=False,
                                 line=dict(color=COLORS["light"], width=1, dash="dot")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="ejected", line=dict(color=COLORS["vermillion"], width=8)),
                      row=2, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="earliest return", hoverinfo="text",
                                 marker=dict(symbol="line-ns-open", size=14, color=COLORS["black"],
                                             line=dict(width=2))), row=2, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="refused (max share)", hoverinfo="text",
                                 marker=dict(symbol=SYMBOLS["off"], size=10, color=COLORS["purple"])), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="errors users saw", line=dict(color=COLORS["vermillion"],
                                                                                 width=2.5, shape="hv")), row=3, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="5xx before retries",
                                 line=dict(color=COLORS["black"], width=1.5, dash="dot", shape="hv")), row=3, col=1)
        for row, plot in ((2, "ejections"), (3, "errors")):
            fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                     showlegend=False, name="now", uid=f"now: {plot}"), row=row, col=1)
        fig.update_xaxes(visible=False, row=1, col=1)
        fig.update_yaxes(visible=False, range=[-1.1, 3.1], row=1, col=1)
        fig.update_xaxes(title_text="time (s)", row=3, col=1)
        # a fixed left margin that holds "ep-19" and the title 8 px from it: an automargin moved the plot sideways
        # when the names grew a digit, and each such change made plotly.js draw the whole figure twice
        fig.update_yaxes(title_text="out of the pool", title_standoff=8, row=2, col=1)
        fig.update_yaxes(title_text="errors / s", row=3, col=1)
        fig.update_layout(legend=dict(orientation="h", x=0, y=0.655, yanchor="bottom"), margin=dict(t=115, l=80))
        return apply_style(fig, title=self.title, height=820)

    def layout(self, trace: Trace) -> dict[str, Any]:
        """The pool's width, one row per endpoint, the time axes and the errors' axis, from the trace."""
        n = trace.params["endpoints"]
        end = float(trace.series["time_s"][-1])
        # every other name in a big pool (the rows are thin), the failing endpoint's always among them
        shown = [i for i in range(n) if n <= 12 or (i - trace.params["bad_endpoint"]) % 2 == 0]
        return {
            "xaxis.range": [-0.8, n - 0.2], "xaxis2.range": [0, end], "xaxis3.range": [0, end],
            "yaxis2.range": [-0.6, n - 0.4], "yaxis2.tickvals": list(shown),
            "yaxis2.ticktext": [f"ep-{i}" for i in shown],
            "yaxis3.range": [0, self._error_top(trace)],
        }

    def summary(self, trace: Trace) -> str:
        """When the failing endpoint was ejected and returned, refused ejections, what users saw."""
        p = trace.params
        s = trace.series
        name = f"ep-{p['bad_endpoint']}"
        moves = [f"{'out' if e.kind == 'eject' else 'back'} at {_seconds(e.time_s)} s"
                 for e in trace.of_kind("eject", "return")]
        refused = trace.of_kind("eject-refused")
        pool = (f"{name} " + ", ".join(moves) if moves else f"{name} never ejected") + (
            f" ({_count(len(refused), 'ejection')} refused: one endpoint is {refused[0].data['would_eject_percent']:g} % of "
            f"the pool, maxEjectionPercent {p['max_ejection_percent']})" if refused else "")
        retried = int(s["retried"].sum())
        return (f"<b>This run:</b> {pool}; end users saw {int(s['user_errors'].sum())} errors of "
                f"{int(s['user_requests'].sum())} requests; {retried} failed attempts retried.")

    @staticmethod
    def _error_top(trace: Trace) -> float:
        peak = int(max(trace.series["failed"].sum(axis=1).max(), trace.series["user_errors"].max()))
        return float(max(5, math.ceil(peak * 1.1) + 1))  # room above the highest step

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        n = trace.params["endpoints"]
        t = float(s["time_s"][k])
        refused = [e for e in trace.of_kind("eject-refused") if e.time_s <= t]
        now = reveal(s["time_s"], k)
        tx: list[float] = []
        ty: list[float] = []
        for tick in s["ticks_s"]:
            tx += [float(tick), float(tick), math.nan]
            ty += [-0.5, n - 0.5, math.nan]
        return {
            **self._pool(trace, k),
            "client's Envoy": dict(x=[(n - 1) / 2], y=[2.0]),
            "interval tick": dict(x=_line(tx), y=_line(ty)),
            **self._ejections(trace, t),
            "refused (max share)": dict(
                x=_kept([e.time_s for e in refused]), y=_kept([float(e.subject.split("-")[1]) for e in refused]),
                hovertext=[f"{e.time_s:.1f} s: ejecting would take {e.data['would_eject_percent']} % of the pool "
                           f"out, more than maxEjectionPercent {e.data['max_ejection_percent']}" for e in refused]),
            "errors users saw": dict(x=now, y=reveal(s["user_errors"], k).astype(float)),
            "5xx before retries": dict(x=now, y=reveal(s["failed"].sum(axis=1), k).astype(float)),
            "now: ejections": dict(x=[t, t], y=[-0.6, n - 0.4]),
            "now: errors": dict(x=[t, t], y=[0, self._error_top(trace)]),
        }

    @staticmethod
    def _pool(trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        """The endpoints at step ``k`` (ejected ones greyed out) and the traffic to those in the pool."""
        p = trace.params
        n = p["endpoints"]
        t = float(trace.series["time_s"][k])
        out = trace.series["ejected"][k]
        failing = p["fail_from_s"] <= t < p["fail_until_s"]
        colours, symbols, labels, hover = [], [], [], []
        lx: list[float] = []
        ly: list[float] = []
        pending = {int(e.subject.split("-")[1]): e.data["earliest_return_s"]
                   for e in trace.of_kind("eject") if e.time_s <= t}
        for h in range(n):
            bad = failing and h == p["bad_endpoint"]
            if out[h]:
                colours.append(COLORS["grey"])
                symbols.append(SYMBOLS["failed"])
                labels.append(f"ep-{h}<br>out")
                hover.append(f"ep-{h}: ejected, may return at the first tick after {pending.get(h, t):g} s")
            else:
                colours.append(COLORS["vermillion"] if bad else COLORS["green"])
                symbols.append("square")
                labels.append(f"ep-{h}" + ("<br>failing" if bad else ""))
                hover.append(f"ep-{h}: {'in the pool, failing' if bad else 'in the pool'}")
                lx += [(n - 1) / 2, float(h), math.nan]
                ly += [2.0, 0.0, math.nan]
        return {
            "traffic": dict(x=_line(lx), y=_line(ly)),
            "endpoints": dict(x=[float(h) for h in range(n)], y=[0.0] * n, text=labels, hovertext=hover,
                              marker=dict(color=colours, symbol=symbols, size=22 if n <= 12 else 14,
                                          line=dict(color="#222", width=1))),
        }

    @staticmethod
    def _ejections(trace: Trace, t: float) -> dict[str, dict[str, Any]]:
        """Each endpoint's time out of the pool up to ``t``, and the earliest return of each ejection."""
        bx: list[float] = []
        by: list[float] = []
        rx, ry, rh = [], [], []
        start: dict[int, float] = {}
        for e in trace.of_kind("eject", "return"):
            if e.time_s > t:
                continue
            h = int(e.subject.split("-")[1])
            if e.kind == "eject":
                start[h] = e.time_s
                rx.append(e.data["earliest_return_s"])
                ry.append(float(h))
                rh.append(f"ep-{h} ejected at {e.time_s:.1f} s × {e.data['multiplier']}: "
                          f"earliest return {e.data['earliest_return_s']:g} s")
            elif h in start:
                bx += [start.pop(h), e.time_s, math.nan]
                by += [float(h), float(h), math.nan]
        for h, since in start.items():
            bx += [since, t, math.nan]
            by += [float(h), float(h), math.nan]
        return {"ejected": dict(x=_line(_kept(bx)), y=_line(_kept(by))),
                "earliest return": dict(x=_kept(rx), y=_kept(ry), hovertext=rh)}

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s = trace.series
        p = trace.params
        t = float(s["time_s"][k])
        out = int(s["ejected"][k].sum())
        failure = {"500": "HTTP 500", "503": "HTTP 503", "connect-failure": "refused connections"}[p["failure"]]
        retries = "connect failures and 503" if p["retry_503"] else "connect failures, not 503"
        always = " · always eject one host" if p["always_eject_one_host"] else ""
        sub = (f"{out} of {p['endpoints']} endpoints out · ep-{p['bad_endpoint']} fails with {failure} from "
               f"{p['fail_from_s']:g} to {p['fail_until_s']:g} s · retries on {retries}</sup><br><sup>"
               f"consecutive5xxErrors {p['consecutive_5xx']} · interval {p['interval_s']:g} s · "
               f"baseEjectionTime {p['base_ejection_s']:g} s · maxEjectionPercent {p['max_ejection_percent']}{always}")
        return {"title": {"text": f"{self.title} — t = {t:.0f} s<br><sup>{sub}</sup>"}}

    def caption(self, trace: Trace, k: int) -> str:
        t = float(trace.series["time_s"][k])
        recent = list(trace.between(t - 1, t)) if k else []
        if not recent:
            return f"<b>t = {t:.0f} s</b>: nothing changed in the pool."
        return f"<b>t = {t:.0f} s</b>:" + event_list_html(recent, ACTOR_COLORS, limit=8)


# ---- animations and panels ---------------------------------------------------------------------------------

def mesh_animate(scene: Scene, trace: Trace, *, every: int = 1, frame_ms: int = 150) -> Animation:
    """``animate`` with the time shown to a tenth of a second (a short interval moves in fractions of one)."""
    return animate(scene, trace, every=every, frame_ms=frame_ms, label=lambda t: f"{t:.1f} s")


def release_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: v2's error rate and latency, the analysis settings, header routing."""
    from labsupport.sim.mesh import ReleaseParams, run_release

    d = ReleaseParams()
    controls = (number("canary_error_rate", "v2 error rate", 0, 0.5, 0.005, readout=".1%"),
                number("canary_latency_ms", "v2 median latency", 10, 2000, 10, unit="ms", readout=".0f"),
                integer("step_weight", "step weight", 1, 100, unit="%"),
                number("interval_s", "interval", 1, 120, 0.5, unit="s", readout=".1f"),
                integer("threshold", "threshold", 1, 20, unit="failed checks"),
                toggle("header_routing", "testers by header"))
    fixed = {name: getattr(d, name) for name in ("max_weight", "request_rate_per_s", "min_success_rate",
                                                 "max_latency_ms")}
    return live_panel(ReleaseScene(), run_release, ReleaseParams, controls, initial, start_at_s=100,
                      fixed={**fixed, "seed": 0})


def outlier_panel(**initial: Any) -> LivePanel:
    """A live panel for outlier detection: the pool's size, the ejection settings, how the endpoint fails."""
    from labsupport.sim.mesh import FAILURES, OutlierParams, run_outlier

    d = OutlierParams()
    controls = (integer("endpoints", "endpoints", 2, 20),
                integer("max_ejection_percent", "maxEjectionPercent", 0, 100),
                toggle("always_eject_one_host", "always eject one host"),
                number("base_ejection_s", "baseEjectionTime", 1, 120, 1, unit="s", readout=".0f"),
                number("interval_s", "interval", 1, 60, 0.5, unit="s", readout=".1f"),
                choice("failure", "failure", list(FAILURES)),
                toggle("retry_503", "retry 503 (Istio before 1.24)"))

    def run(**values: Any) -> Trace:
        # the failing endpoint stays in the pool when the pool shrinks
        return run_outlier(bad_endpoint=min(d.bad_endpoint, int(values["endpoints"]) - 1), **values)

    return live_panel(OutlierScene(), run, OutlierParams, controls, initial, start_at_s=65, fixed={"seed": 0})
