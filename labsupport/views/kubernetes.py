"""Lesson 04 pictures: the cluster's control loop at work."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.kubernetes import ACTORS, PodState
from labsupport.views._controls import choice, integer, live_panel, number
from labsupport.views._scene import LivePanel, Scene, event_list_html, reveal, step_events
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


#: Single pods are drawn while they stay readable: at most this many nodes (a node's box is then at least about
#: 90 px wide in a 1,200 px figure, room for four 18 px pods side by side) and at most 16 pods a node (four rows
#: of four fill the box). Beyond that every node is one column filled with its pods by state and version.
SINGLE_PODS_MAX_NODES = 12
SINGLE_PODS_MAX_PER_NODE = 16
#: The aggregate view's fills, bottom to top: (name, what it counts, colour).
_AGGREGATE = (("ready v1", "ready_v1", COLORS["green"]), ("ready v2", "ready_v2", COLORS["blue"]),
              ("starting", "starting", COLORS["grey"]), ("on a lost node", "unknown", COLORS["vermillion"]))
_PLUGIN_COLORS = {"NodeResourcesFit": COLORS["blue"], "NodeResourcesBalancedAllocation": COLORS["sky"],
                  "PodTopologySpread": COLORS["orange"]}
_PLUGIN_SERIES = {"NodeResourcesFit": "score_fit", "NodeResourcesBalancedAllocation": "score_balanced",
                  "PodTopologySpread": "score_spread"}


def single_pods(trace: Trace) -> bool:
    """Whether ``trace``'s cluster is drawn pod by pod (else in aggregate, one column a node): see
    :data:`SINGLE_PODS_MAX_NODES`."""
    return bool(trace.params["nodes"] <= SINGLE_PODS_MAX_NODES
                and trace.computed.get("node_room_pods", 0) <= SINGLE_PODS_MAX_PER_NODE)


class ClusterScene(Scene):
    """Top: the control plane's parts (the one acting now grows) over the nodes and their pods (pod by pod in a
    small cluster, each node's pods as one filled column in a large one). Middle: desired, existing and ready
    pods over time. With ``scores=True`` (the live panel), bottom: why the latest pod bound by then went where it
    went, each scheduler plugin's weighted score for each feasible node."""

    title = "Kubernetes reconciling desired state"

    def __init__(self, scores: bool = False) -> None:
        self.scores = scores

    def figure(self, trace: Trace) -> go.Figure:
        rows = 3 if self.scores else 2
        heights = [0.5, 0.25, 0.25] if self.scores else [0.62, 0.38]
        fig = make_subplots(rows=rows, cols=1, row_heights=heights, vertical_spacing=0.11 if self.scores else 0.1,
                            subplot_titles=("",) * rows)
        self._cluster_traces(fig)
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
        legend_y = fig.layout.yaxis2.domain[1] + 0.005
        fig.update_layout(barmode="stack", legend=dict(orientation="h", x=0, y=legend_y, yanchor="bottom",
                                                       traceorder="normal"),
                          legend2=dict(orientation="h", x=0, y=1.0, yanchor="bottom", font=dict(size=12),
                                       title=dict(text="pods: ")))
        if self.scores:
            self._score_traces(fig)
        return apply_style(fig, title=self.title, height=940 if self.scores else 740, margin=dict(t=140))

    @staticmethod
    def _cluster_traces(fig: go.Figure) -> None:
        for name, colour in (("node Ready", "rgba(0,158,115,0.10)"), ("node NotReady", "rgba(213,94,0,0.18)")):
            fig.add_trace(go.Scatter(mode="lines", fill="toself", fillcolor=colour, name=name,
                                     line=dict(color="#555", width=1.5), hoverinfo="skip", showlegend=False),
                          row=1, col=1)
        for name, _key, colour in _AGGREGATE:  # a large cluster: each node's pods as one filled column
            fig.add_trace(go.Bar(name=f"aggregate {name}", marker=dict(color=colour, line=dict(width=0)),
                                 hoverinfo="text", showlegend=False), row=1, col=1)
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

    @staticmethod
    def _score_traces(fig: go.Figure) -> None:
        for plugin in _PLUGIN_SERIES:
            fig.add_trace(go.Bar(name=f"score: {plugin}", marker_color=_PLUGIN_COLORS[plugin], legend="legend3",
                                 hoverinfo="text"), row=3, col=1)
        fig.add_trace(go.Scatter(mode="markers", name="chosen node", legend="legend3", hoverinfo="skip",
                                 marker=dict(symbol="triangle-down", size=14, color=COLORS["black"])), row=3, col=1)
        fig.add_trace(go.Scatter(mode="text", name="why", showlegend=False, hoverinfo="skip",
                                 textposition="middle right", textfont=dict(size=13)), row=3, col=1)
        fig.update_xaxes(title_text="feasible node (its number)", row=3, col=1)
        fig.update_yaxes(title_text="weighted score", range=[0, 440], row=3, col=1)
        fig.update_layout(legend3=dict(orientation="h", x=0, y=fig.layout.yaxis3.domain[1] + 0.005,
                                       yanchor="bottom", font=dict(size=12), traceorder="normal"))

    def layout(self, trace: Trace) -> dict[str, Any]:
        nodes = trace.params["nodes"]
        width = nodes * (_BOX_W + _GAP)
        duration = float(trace.series["time_s"][-1])
        drawn = ("each pod a marker" if single_pods(trace) else
                 f"a column per node filled with its pods (it holds {trace.computed['node_room_pods']}): green ready v1, "
                 "blue ready v2, grey starting, vermillion on a lost node (its column shaded)")
        pad = max(0.3, 0.04 * width)  # room for the first node's name and, on the right, the pending pods
        out: dict[str, Any] = {
            "xaxis.range": [-pad, width + max(2.6, 0.16 * width)],  # "48 pending" fits on the right
            "xaxis2.range": [0, duration],
            "yaxis2.range": [0, self._top(trace)],
            "annotations": [dict(x=width, y=3.3, xref="x", yref="y", text="pending ▸", showarrow=False,
                                 xanchor="left"),
                            dict(x=0, y=-0.75, xref="x", yref="y", showarrow=False,
                                 text=f"{nodes} node{'s' if nodes != 1 else ''}, {drawn}", xanchor="left",
                                 yanchor="top", font=dict(size=12))],
        }
        if self.scores:
            out.update({"xaxis3.range": [-0.6, nodes - 0.4], "xaxis3.dtick": 1 if nodes <= 20 else 10,
                        "xaxis3.tick0": 0})
        return out

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
        ready = np.asarray(s["node_ready"][k], dtype=bool)
        acting = {e.actor for e in trace.between(t - 1, t)}
        rx, ry = _outline(np.flatnonzero(ready).tolist())
        dx, dy = _outline(np.flatnonzero(~ready).tolist())
        top = self._top(trace)
        now = reveal(s["time_s"], k)
        width = nodes * (_BOX_W + _GAP)
        single = single_pods(trace)
        pods = _single_pods(trace, k) if single else _pending_count(trace, k)
        out = {
            "node Ready": dict(x=rx, y=ry),
            "node NotReady": dict(x=dx, y=dy),
            **_aggregate_bars(trace, k, drawn=not single),
            "node names": _node_names(trace, ready),
            **pods,
            "components": dict(x=np.linspace(0.06, 0.94, len(ACTORS)) * width, y=[4.3] * len(ACTORS),
                               marker=dict(size=[40 if a in acting else 22 for a in ACTORS])),
            "desired": dict(x=now, y=reveal(s["desired"], k)),
            "existing": dict(x=now, y=reveal(s["pods"], k)),
            "ready": dict(x=now, y=reveal(s["ready"], k)),
            "ready v2": dict(x=now, y=reveal(s["ready_v2"], k)),
            "now": dict(x=[t, t], y=[0, top]),
            **{f"key: {name}": {} for name, *_ in _POD_KEY},
        }
        if self.scores:
            out.update(_score_frame(trace, t))
        return out

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


def _single_pods(trace: Trace, k: int) -> dict[str, dict[str, Any]]:
    """Every pod as a marker in its node's box (up to four a row), every pending pod named beside the cluster."""
    s = trace.series
    nodes = trace.params["nodes"]
    states, where, names, versions = s["pod_state"][k], s["pod_node"][k], s["pod_name"], s["pod_version"]
    slot = [0] * nodes
    px, py, colours, symbols, labels, edge = [], [], [], [], [], []
    pend_x, pend_y, pend_text = [], [], []
    for i in np.flatnonzero(states != PodState.NONE).tolist():
        st = PodState(int(states[i]))
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
        labels.append(f"{names[i]}: {_STATE_LABEL[st]} (v{versions[i]})")
    return {"pods": dict(x=px, y=py, text=labels, hovertext=labels,
                         marker=dict(color=colours, symbol=symbols, line=dict(color=edge, width=2))),
            "pending": dict(x=pend_x, y=pend_y, text=pend_text, hovertext=pend_text)}


def _pending_count(trace: Trace, k: int) -> dict[str, dict[str, Any]]:
    """A large cluster: no pod markers, the pending pods as one count beside the cluster."""
    empty: list[Any] = []
    pending = int(_counts(trace, k)["pending"][0])
    x = trace.params["nodes"] * (_BOX_W + _GAP) + 0.2
    shown = [f"{pending} pending"] if pending else []
    return {"pods": dict(x=empty, y=empty, text=empty, hovertext=empty,
                         marker=dict(color=empty, symbol=empty, line=dict(color=empty, width=2))),
            "pending": dict(x=[x] if pending else empty, y=[2.55] if pending else empty, text=shown,
                            hovertext=shown)}


def _counts(trace: Trace, k: int) -> dict[str, np.ndarray]:
    """Pods on each node at step ``k`` by what :data:`_AGGREGATE` counts, and the pending ones (one number)."""
    s = trace.series
    nodes = trace.params["nodes"]
    states, where, versions = s["pod_state"][k], s["pod_node"][k], s["pod_version"]
    v = versions[: len(states)]

    def on_nodes(mask: np.ndarray) -> np.ndarray:
        return np.bincount(where[mask & (where >= 0)], minlength=nodes)[:nodes]

    return {"ready_v1": on_nodes((states == PodState.READY) & (v != 2)),
            "ready_v2": on_nodes((states == PodState.READY) & (v == 2)),
            "starting": on_nodes(states == PodState.STARTING),
            "unknown": on_nodes(states == PodState.UNKNOWN),
            "pending": np.array([np.count_nonzero(states == PodState.PENDING)])}


def _aggregate_bars(trace: Trace, k: int, *, drawn: bool) -> dict[str, dict[str, Any]]:
    """Each node's box filled from the bottom with its pods, by state and version, in proportion to the pods the
    node holds (``node_room_pods``); a pending count beside the cluster."""
    names = [f"aggregate {name}" for name, *_ in _AGGREGATE]
    if not drawn:
        return {name: dict(type="bar", x=np.zeros(0), y=np.zeros(0), base=np.zeros(0), width=_BOX_W, hovertext=[])
                for name in names}
    nodes = trace.params["nodes"]
    room = max(int(trace.computed["node_room_pods"]), 1)
    counts = _counts(trace, k)
    centres = np.arange(nodes) * (_BOX_W + _GAP) + _BOX_W / 2
    scale = _BOX_H / room
    base = np.zeros(nodes)
    total = np.sum([counts[key] for _, key, _ in _AGGREGATE], axis=0)
    out = {}
    for (name, key, _colour), trace_name in zip(_AGGREGATE, names, strict=True):
        height = counts[key] * scale
        hover = [f"node-{n}: {counts[key][n]} {name} of {total[n]} pods (holds {room})" for n in range(nodes)]
        out[trace_name] = dict(type="bar", x=centres, y=height.astype(float), base=base.copy(), width=_BOX_W,
                               hovertext=hover)
        base = base + height
    return out


def _node_names(trace: Trace, ready: np.ndarray) -> dict[str, Any]:
    """Every node's name under its box in a small cluster; in a large one every tenth or so under the columns,
    and each NotReady node's name above its column (where no other name is in its way)."""
    nodes = trace.params["nodes"]
    if nodes <= SINGLE_PODS_MAX_NODES:
        return dict(x=[_box(n)[0] + _BOX_W / 2 for n in range(nodes)], y=[-0.35] * nodes,
                    text=[f"node-{n}{'' if ready[n] else ' — NotReady (Ready: Unknown)'}" for n in range(nodes)])
    every = max(1, round(nodes / 10))
    shown = [n for n in range(nodes) if n % every == 0 or not ready[n]]
    return dict(x=[_box(n)[0] + _BOX_W / 2 for n in shown],
                y=[-0.35 if ready[n] else _BOX_H + 0.3 for n in shown],
                text=[f"node-{n}" if ready[n] else f"node-{n} NotReady" for n in shown])


#: The panel's node sizes: (label, (allocatable millicores, allocatable MiB)). With the pods' default requests
#: (250m CPU, 256 MiB) the small node holds 8 pods and the large one 16, so 100 large nodes hold 1,600.
NODE_SIZES = (("2 CPU, 4 GiB", (2000, 4096)), ("4 CPU, 16 GiB", (4000, 16384)))


def kubernetes_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: replicas, nodes and their size, a scale target, the node to kill and when,
    maxSurge and maxUnavailable rerun the cluster model. Up to 100 nodes and 1,000 replicas (drawn in aggregate
    beyond a dozen nodes); the bottom row shows why the latest pod bound by the time shown went where it went."""
    from labsupport.sim.kubernetes import MAX_NODES, MAX_REPLICAS, ClusterParams, run_cluster

    def options(*values: int | str) -> list[tuple[str, int | str]]:  # labels and values (pairs for every one)
        return [(str(value), value) for value in values]

    controls = (
        # three small nodes hold 24 pods of 250m CPU; above 16, a node's death leaves pods Pending
        integer("replicas", "replicas", 0, MAX_REPLICAS),
        integer("nodes", "nodes", 1, MAX_NODES),
        dataclasses.replace(choice("node_size", "node size", NODE_SIZES), default=NODE_SIZES[0][1]),
        choice("scale_to", "at 100 s scale to", [("no scaling", None), *options(0, 2, 6, 12, 24, 100, 500, 1000)]),
        choice("kill_node", "kill node", [("none", None), *((f"node-{n}", n) for n in range(MAX_NODES))]),
        number("kill_at_s", "kill at", 0, 90, 5, unit="s"),
        choice("max_surge", "maxSurge", options(0, 1, 2, "25%", "50%", "100%")),
        choice("max_unavailable", "maxUnavailable", options(0, 1, 2, "25%", "50%")),
    )

    def run(*, node_size: tuple[int, int], **values: Any) -> Trace:
        return run_cluster(node_cpu_m=node_size[0], node_memory_mi=node_size[1], **values)

    return live_panel(ClusterScene(scores=True), run, ClusterParams, controls, initial, start_at_s=62,
                      fixed={"seed": 0})




# ---- why a pod went where it went ----------------------------------------------------------------------------


def _placement_row(trace: Trace, placement: int | str) -> int:
    """A bind's row in the trace's ``placement_*`` series: by its number, or a pod's name (its first bind)."""
    s = trace.series
    names = [str(name) for name in s["pod_name"]]
    pods = s["placement_pod"]
    if isinstance(placement, str):
        rows = [row for row, pod in enumerate(pods.tolist()) if names[pod] == placement]
        if not rows:
            raise ValueError(f"no bind of a pod named {placement!r} in this run; pods bound: "
                             f"{', '.join(sorted({names[p] for p in pods.tolist()})[:8])}, ...")
        return rows[0]
    if not 0 <= placement < len(pods):
        raise ValueError(f"placement must be a bind's number from 0 to {len(pods) - 1}, got {placement!r}")
    return placement


def _scores(trace: Trace, row: int) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, int, str]:
    """Bind ``row``'s feasible nodes, each plugin's weighted score on them, their totals, the chosen node and a
    sentence saying why it was chosen."""
    s = trace.series
    feasible = np.flatnonzero(s["score_total"][row] >= 0)
    weights = trace.computed["score_weights"]
    weighted = {plugin: s[key][row][feasible] * weights[plugin] for plugin, key in _PLUGIN_SERIES.items()}
    totals = s["score_total"][row][feasible]
    chosen = int(s["placement_node"][row])
    ties = int(s["placement_ties"][row])
    why = f"{ties} nodes tied at {int(totals.max())}: picked at random" if ties > 1 else "the highest total"
    name = str(s["pod_name"][s["placement_pod"][row]])
    sentence = f"{name} at {s['placement_time_s'][row]:g} s went to node-{chosen} ({why})"
    return feasible, weighted, totals, chosen, sentence


def _score_frame(trace: Trace, t: float) -> dict[str, dict[str, Any]]:
    """The live panel's bottom row at time ``t``: the scores of the latest bind at or before ``t``."""
    s = trace.series
    row = int(np.searchsorted(s["placement_time_s"], t, side="right")) - 1
    if row < 0:
        empty = np.zeros(0)
        bars = {f"score: {plugin}": dict(type="bar", x=empty, y=empty, hovertext=[]) for plugin in _PLUGIN_SERIES}
        return {**bars, "chosen node": dict(x=empty, y=empty),
                "why": dict(x=[-0.5], y=[415.0], text=["no pod bound yet"])}
    feasible, weighted, totals, chosen, why = _scores(trace, row)
    weights = trace.computed["score_weights"]
    out: dict[str, dict[str, Any]] = {}
    for plugin, values in weighted.items():
        hover = [f"node-{n}: {plugin} {v // weights[plugin]} × {weights[plugin]} = {v} (total {tot})"
                 for n, v, tot in zip(feasible.tolist(), values.tolist(), totals.tolist(), strict=True)]
        out[f"score: {plugin}"] = dict(type="bar", x=feasible.astype(float), y=values.astype(float),
                                       hovertext=hover)
    at = int(np.flatnonzero(feasible == chosen)[0])
    out["chosen node"] = dict(x=np.array([float(chosen)]), y=np.array([float(totals[at]) + 18.0]))
    out["why"] = dict(x=[-0.5], y=[415.0], text=[f"the latest bind: {why}"])
    return out


def placement_scores_figure(trace: Trace, placement: int | str = 0) -> go.Figure:
    """Why the scheduler bound a pod where it did: each plugin's weighted score for each feasible node.

    ``placement`` is a bind's number in the trace (0 = the first) or a pod's name (its first bind). One
    stacked bar per feasible node (plugin score × the plugin's weight, from the trace); the chosen node is
    outlined, and the title says how many nodes tied for the best total.
    """
    row = _placement_row(trace, placement)
    feasible, weighted, totals, chosen, title = _scores(trace, row)
    s = trace.series
    weights = trace.computed["score_weights"]
    labels = [f"node-{n}" if len(feasible) <= 12 else str(n) for n in feasible]
    fig = go.Figure()
    for plugin, key in _PLUGIN_SERIES.items():
        weight = weights[plugin]
        fig.add_trace(go.Bar(x=labels, y=weighted[plugin], name=f"{plugin} × {weight}",
                             marker_color=_PLUGIN_COLORS[plugin],
                             hovertemplate="%{x}: %{customdata} × " + str(weight) + " = %{y}<extra>" + plugin
                             + "</extra>", customdata=s[key][row][feasible]))
    fig.add_trace(go.Scatter(x=labels, y=totals, mode="text", text=[str(v) for v in totals],
                             textposition="top center", showlegend=False, hoverinfo="skip"))
    at = int(np.flatnonzero(feasible == chosen)[0])
    fig.add_shape(type="rect", xref="x", yref="y", x0=at - 0.45, x1=at + 0.45, y0=0, y1=float(totals[at]),
                  line={"color": COLORS["black"], "width": 3})
    fig.update_layout(barmode="stack", yaxis_title="weighted score", xaxis_title="feasible node",
                      xaxis_type="category", yaxis_range=[0, 420],
                      legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"})
    return apply_style(fig, title=title, height=420)
