"""Lesson 04 pictures: the cluster's control loop at work."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.kubernetes import ACTORS, PodState
from labsupport.views._scene import Scene, event_list_html, reveal, step_events
from labsupport.views._style import COLORS, SYMBOLS, apply_style

__all__ = ["ACTOR_COLORS", "ClusterScene", "kubernetes_panel", "placement_scores_figure"]

ACTOR_COLORS = {
    "api-server": COLORS["blue"],
    "controller-manager": COLORS["orange"],
    "scheduler": COLORS["purple"],
    "kubelet": COLORS["green"],
    "kube-proxy": COLORS["sky"],
    "fault": COLORS["vermillion"],
}
_STATE_COLOR = {PodState.PENDING: COLORS["grey"], PodState.STARTING: COLORS["grey"],
                PodState.READY: COLORS["green"], PodState.UNKNOWN: COLORS["vermillion"]}
_STATE_SYMBOL = {PodState.PENDING: SYMBOLS["off"], PodState.STARTING: SYMBOLS["starting"],
                 PodState.READY: SYMBOLS["ok"], PodState.UNKNOWN: SYMBOLS["failed"]}
_STATE_LABEL = {PodState.PENDING: "pending", PodState.STARTING: "starting", PodState.READY: "ready",
                PodState.UNKNOWN: "unknown"}
#: The pods' key: (name, colour, symbol, edge colour), as :meth:`ClusterScene.frame` draws each state.
_POD_KEY = (
    ("ready", _STATE_COLOR[PodState.READY], _STATE_SYMBOL[PodState.READY], _STATE_COLOR[PodState.READY]),
    ("starting", _STATE_COLOR[PodState.STARTING], _STATE_SYMBOL[PodState.STARTING], _STATE_COLOR[PodState.STARTING]),
    ("pending (no node)", COLORS["grey"], SYMBOLS["off"], COLORS["grey"]),
    ("on a lost node", _STATE_COLOR[PodState.UNKNOWN], _STATE_SYMBOL[PodState.UNKNOWN], _STATE_COLOR[PodState.UNKNOWN]),
    ("v2 (dot, blue edge)", COLORS["green"], _STATE_SYMBOL[PodState.READY] + "-dot", COLORS["blue"]),
)
_BOX_W, _BOX_H, _GAP = 3.0, 2.6, 0.6
_COLS = 4


def _box(n: int) -> tuple[float, float]:
    """Lower-left corner of node ``n``'s box."""
    return n * (_BOX_W + _GAP), 0.0


def _outline(nodes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The boxes' outlines, NaN between boxes, as float arrays (a widget sends those as binary, NaN included)."""
    xs: list[float] = []
    ys: list[float] = []
    for n in nodes:
        x0, y0 = _box(n)
        xs += [x0, x0 + _BOX_W, x0 + _BOX_W, x0, x0, np.nan]
        ys += [y0, y0, y0 + _BOX_H, y0 + _BOX_H, y0, np.nan]
    return np.array(xs, dtype=float), np.array(ys, dtype=float)


class ClusterScene(Scene):
    """Top: the control plane's parts (the one acting now grows) over the nodes and their pods.
    Bottom: desired, existing and ready pods over time."""

    title = "Kubernetes reconciling desired state"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=1, row_heights=[0.62, 0.38], vertical_spacing=0.1,
                            subplot_titles=("", ""))
        for name, colour in (("node Ready", "rgba(0,158,115,0.10)"), ("node NotReady", "rgba(213,94,0,0.18)")):
            fig.add_trace(go.Scatter(mode="lines", fill="toself", fillcolor=colour, name=name,
                                     line=dict(color="#555", width=1.5), hoverinfo="skip", showlegend=False),
                          row=1, col=1)
        fig.add_trace(go.Scatter(mode="text", name="node names", hoverinfo="skip", showlegend=False),
                      row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="pods", hoverinfo="text", showlegend=False,
                                 marker=dict(size=18, line=dict(width=2))), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+text", name="pending", textposition="middle right",
                                 hoverinfo="text", showlegend=False,
                                 marker=dict(size=16, color=COLORS["grey"], symbol=SYMBOLS["off"])), row=1, col=1)
        fig.add_trace(go.Scatter(mode="markers+text", name="components", textposition="top center",
                                 hoverinfo="text", showlegend=False, text=list(ACTORS),
                                 marker=dict(symbol="square", color=[ACTOR_COLORS[a] for a in ACTORS],
                                             line=dict(color="#222", width=1))), row=1, col=1)
        for name, colour, dash in (("desired", COLORS["black"], "dash"), ("existing", COLORS["orange"], "solid"),
                                   ("ready", COLORS["green"], "solid"), ("ready v2", COLORS["blue"], "dot")):
            fig.add_trace(go.Scatter(mode="lines", name=name, line=dict(color=colour, dash=dash, width=2.5,
                                                                          shape="hv")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                 showlegend=False, name="now"), row=2, col=1)
        for name, colour, symbol, edge in _POD_KEY:  # the pods' key: legend entries only, no data
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, legend="legend2",
                                     uid=f"key: {name}",
                                     hoverinfo="skip", marker=dict(size=12, color=colour, symbol=symbol,
                                                                   line=dict(color=edge, width=2))), row=1, col=1)
        fig.update_xaxes(visible=False, row=1, col=1)
        fig.update_yaxes(visible=False, range=[-0.8, 5.3], row=1, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_yaxes(title_text="pods", row=2, col=1)
        fig.update_layout(legend=dict(orientation="h", x=0, y=0.37, yanchor="bottom"),
                          legend2=dict(orientation="h", x=0, y=1.0, yanchor="bottom", font=dict(size=12),
                                       title=dict(text="pods: ")))
        return apply_style(fig, title=self.title, height=740, margin=dict(t=140))

    def layout(self, trace: Trace) -> dict[str, Any]:
        width = trace.params["nodes"] * (_BOX_W + _GAP)
        duration = float(trace.series["time_s"][-1])
        return {
            "xaxis.range": [-0.3, width + 2.6],
            "xaxis2.range": [0, duration],
            "yaxis2.range": [0, self._top(trace)],
            "annotations": [dict(x=width, y=3.3, xref="x", yref="y", text="pending ▸", showarrow=False,
                                 xanchor="left")],
        }

    @staticmethod
    def _top(trace: Trace) -> float:
        return float(max(trace.series["pods"].max(), trace.series["desired"].max()) + 1)

    def summary(self, trace: Trace) -> str:
        s, p = trace.series, trace.params
        parts = []
        down = trace.first("node-down")
        if down is not None:
            marked = trace.first("mark-not-ready", down.subject)
            evicted = [e for e in trace.of_kind("delete-pod") if e.data.get("reason") == "evicted"]
            parts.append(f"{down.subject} down at {down.time_s:.0f} s"
                         + (f", NotReady at {marked.time_s:.0f} s" if marked else "")
                         + (f", {len(evicted)} pods evicted at {evicted[0].time_s:.0f} s" if evicted else ""))
        else:
            parts.append("no node killed")
        pending = s["pending"]
        if np.any(pending > 0):
            when = s["time_s"][pending > 0]
            parts.append(f"up to {int(pending.max())} pods Pending (no room), from {when[0]:.0f} s to {when[-1]:.0f} s")
        else:
            parts.append("no pod ever Pending")
        desired = s["desired"]
        if p["rollout_at_s"] is not None:
            after = s["time_s"] >= p["rollout_at_s"]
            done = np.flatnonzero(after & (s["ready_v2"] >= desired) & (s["pods"] == desired))
            parts.append(f"rolling update done at {s['time_s'][done[0]]:.0f} s" if len(done)
                         else "rolling update not done by the end")
        return "<b>This run:</b> " + "; ".join(parts) + "."

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        nodes = trace.params["nodes"]
        t = float(s["time_s"][k])
        ready_nodes = [n for n in range(nodes) if s["node_ready"][k][n]]
        down_nodes = [n for n in range(nodes) if not s["node_ready"][k][n]]
        states = s["pod_state"][k]
        where = s["pod_node"][k]
        names = s["pod_name"]
        versions = s["pod_version"]
        slot = [0] * nodes
        px, py, colours, symbols, labels, edge = [], [], [], [], [], []
        pend_x, pend_y, pend_text = [], [], []
        for i, st in enumerate(states):
            st = PodState(int(st))
            if st == PodState.NONE:
                continue
            label = f"{names[i]}: {_STATE_LABEL[st]}"
            if st == PodState.PENDING:
                pend_x.append(nodes * (_BOX_W + _GAP) + 0.2)
                pend_y.append(3.0 - 0.45 * len(pend_x))
                pend_text.append(str(names[i]))
                continue
            n = int(where[i])
            x0, y0 = _box(n)
            j = slot[n]
            slot[n] += 1
            px.append(x0 + 0.45 + (j % _COLS) * 0.7)
            py.append(y0 + _BOX_H - 0.45 - (j // _COLS) * 0.6)
            colours.append(_STATE_COLOR[st])
            symbols.append(_STATE_SYMBOL[st] + ("" if versions[i] == 1 else "-dot"))
            edge.append(COLORS["blue"] if versions[i] == 2 else _STATE_COLOR[st])
            labels.append(label + f" (v{versions[i]})")
        acting = {e.actor for e in trace.between(t - 1, t)}
        down_text = {n: " — NotReady (Ready: Unknown)" for n in down_nodes}
        rx, ry = _outline(ready_nodes)
        dx, dy = _outline(down_nodes)
        top = self._top(trace)
        now = reveal(s["time_s"], k)
        width = nodes * (_BOX_W + _GAP)
        return {
            "node Ready": dict(x=rx, y=ry),
            "node NotReady": dict(x=dx, y=dy),
            "node names": dict(x=[_box(n)[0] + _BOX_W / 2 for n in range(nodes)], y=[-0.35] * nodes,
                               text=[f"node-{n}{down_text.get(n, '')}" for n in range(nodes)]),
            "pods": dict(x=px, y=py, text=labels, hovertext=labels,
                         marker=dict(color=colours, symbol=symbols, line=dict(color=edge, width=2))),
            "pending": dict(x=pend_x, y=pend_y, text=pend_text, hovertext=pend_text),
            "components": dict(x=np.linspace(0.6, width - 0.6, len(ACTORS)), y=[4.3] * len(ACTORS),
                               marker=dict(size=[40 if a in acting else 22 for a in ACTORS])),
            "desired": dict(x=now, y=reveal(s["desired"], k)),
            "existing": dict(x=now, y=reveal(s["pods"], k)),
            "ready": dict(x=now, y=reveal(s["ready"], k)),
            "ready v2": dict(x=now, y=reveal(s["ready_v2"], k)),
            "now": dict(x=[t, t], y=[0, top]),
            **{f"key: {name}": {} for name, *_ in _POD_KEY},
        }

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        t = float(trace.series["time_s"][k])
        events = step_events(trace, t, 1.0)
        latest = f"<br><sup>{events}</sup>" if events else ""
        return {"title": {"text": f"{self.title} — t = {t:.0f} s{latest}"}}

    def caption(self, trace: Trace, k: int) -> str:
        t = float(trace.series["time_s"][k])
        recent = list(trace.between(t - 1, t))
        if not recent:
            return f"<b>t = {t:.0f} s</b>: nothing changed; the controllers see actual = desired."
        return f"<b>t = {t:.0f} s</b>:{event_list_html(recent, ACTOR_COLORS, limit=12)}"


def kubernetes_panel(**initial: Any) -> Any:
    """The lesson's live panel: replicas, the node to kill and when, maxSurge rerun the cluster model."""
    import ipywidgets as widgets

    from labsupport.sim.kubernetes import ClusterParams, run_cluster
    from labsupport.views._scene import LivePanel

    d = ClusterParams()
    style = {"description_width": "initial"}
    controls = {
        # Up to what three nodes hold (8 pods of 250m CPU each on 2000m): above 16, a node's death leaves pods
        # Pending, since the two others hold 16.
        "replicas": widgets.IntSlider(value=initial.get("replicas", d.replicas), min=0, max=24,
                                      description="replicas", style=style),
        "kill_node": widgets.Dropdown(options=[("none", None), ("node-0", 0), ("node-1", 1), ("node-2", 2)],
                                      value=initial.get("kill_node", d.kill_node), description="kill node",
                                      style=style),
        "kill_at_s": widgets.FloatSlider(value=initial.get("kill_at_s", d.kill_at_s), min=0, max=90, step=5,
                                         description="kill at (s)", style=style),
        "max_surge": widgets.Dropdown(options=["0", "1", "2", "25%", "50%", "100%"],
                                      value=str(initial.get("max_surge", d.max_surge)),
                                      description="maxSurge", style=style),
        "max_unavailable": widgets.Dropdown(options=["0", "1", "2", "25%", "50%"],
                                            value=str(initial.get("max_unavailable", d.max_unavailable)),
                                            description="maxUnavailable", style=style),
    }

    def run(**values: Any) -> Trace:
        for name in ("max_surge", "max_unavailable"):
            if isinstance(values[name], str) and values[name].isdigit():
                values[name] = int(values[name])
        return run_cluster(**values)

    return LivePanel(ClusterScene(), run, controls, start_step=int(initial.get("start_at_s", 62)))


# ---- why a pod went where it went ----------------------------------------------------------------------------

_PLUGIN_COLORS = {"NodeResourcesFit": COLORS["blue"], "NodeResourcesBalancedAllocation": COLORS["sky"],
                  "PodTopologySpread": COLORS["orange"]}
_PLUGIN_SERIES = {"NodeResourcesFit": "score_fit", "NodeResourcesBalancedAllocation": "score_balanced",
                  "PodTopologySpread": "score_spread"}


def placement_scores_figure(trace: Trace, placement: int | str = 0) -> go.Figure:
    """Why the scheduler bound a pod where it did: each plugin's weighted score for each feasible node.

    ``placement`` is a bind's number in the trace (0 = the first) or a pod's name (its first bind). One
    stacked bar per feasible node (plugin score × the plugin's weight, from the trace); the chosen node is
    outlined, and the title says how many nodes tied for the best total.
    """
    s = trace.series
    names = [str(name) for name in s["pod_name"]]
    pods = s["placement_pod"]
    if isinstance(placement, str):
        rows = [row for row, pod in enumerate(pods.tolist()) if names[pod] == placement]
        if not rows:
            raise ValueError(f"no bind of a pod named {placement!r} in this run; pods bound: "
                             f"{', '.join(sorted({names[p] for p in pods.tolist()})[:8])}, ...")
        row = rows[0]
    else:
        if not 0 <= placement < len(pods):
            raise ValueError(f"placement must be a bind's number from 0 to {len(pods) - 1}, got {placement!r}")
        row = placement
    feasible = np.flatnonzero(s["score_total"][row] >= 0)
    chosen = int(s["placement_node"][row])
    weights = trace.params["score_weights"]
    labels = [f"node-{n}" if len(feasible) <= 12 else str(n) for n in feasible]
    fig = go.Figure()
    for plugin, key in _PLUGIN_SERIES.items():
        weight = weights[plugin]
        fig.add_trace(go.Bar(x=labels, y=s[key][row][feasible] * weight, name=f"{plugin} × {weight}",
                             marker_color=_PLUGIN_COLORS[plugin],
                             hovertemplate="%{x}: %{customdata} × " + str(weight) + " = %{y}<extra>" + plugin
                             + "</extra>", customdata=s[key][row][feasible]))
    totals = s["score_total"][row][feasible]
    fig.add_trace(go.Scatter(x=labels, y=totals, mode="text", text=[str(v) for v in totals],
                             textposition="top center", showlegend=False, hoverinfo="skip"))
    at = int(np.flatnonzero(feasible == chosen)[0])
    fig.add_shape(type="rect", xref="x", yref="y", x0=at - 0.45, x1=at + 0.45, y0=0, y1=float(totals[at]),
                  line={"color": COLORS["black"], "width": 3})
    ties = int(s["placement_ties"][row])
    why = f"{ties} nodes tied at {int(totals.max())}: picked at random" if ties > 1 else "the highest total"
    title = (f"{names[pods[row]]} at {s['placement_time_s'][row]:g} s went to node-{chosen} ({why})")
    fig.update_layout(barmode="stack", yaxis_title="weighted score", xaxis_title="feasible node",
                      xaxis_type="category", yaxis_range=[0, 420],
                      legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"})
    return apply_style(fig, title=title, height=420)
