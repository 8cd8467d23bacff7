"""Lesson 03 pictures: the layer cache at work, containers with cgroup limits on one VM, and packing."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Result, Trace
from labsupport.views._controls import choice, integer, live_panel, number, toggle
from labsupport.views._scene import LivePanel, Scene, event_list_html, reveal, step_events
from labsupport.views._style import COLORS, apply_style, log_ticks, no_math
from labsupport.views.packaging import INSTANCE_COLORS, placement_figure

__all__ = ["MAX_CONTAINERS", "BuildScene", "HostScene", "containers_panel", "packing_figure", "rebuild_figure"]

MAX_CONTAINERS = 12
_REUSED, _REBUILT, _WAITING, _DEAD = COLORS["green"], COLORS["orange"], COLORS["light"], COLORS["vermillion"]
_COLORS = [INSTANCE_COLORS[i % len(INSTANCE_COLORS)] for i in range(MAX_CONTAINERS)]
_DASHES = ["solid", "dot", "dash", "longdash", "dashdot", "longdashdot"] * 2


def _short(text: str, width: int = 46) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class BuildScene(Scene):
    """One row per Dockerfile instruction: reused from the cache (green) or run again (orange), over time."""

    title = "docker build, again: which steps come from the cache"

    def _labels(self, trace: Trace) -> list[str]:
        return [f"{i + 1:2d} {_short(str(t))}" for i, t in enumerate(trace.series["step_text"])]

    def figure(self, trace: Trace) -> go.Figure:
        labels = self._labels(trace)
        fig = go.Figure()
        fig.add_trace(go.Bar(orientation="h", name="to do", showlegend=False, hoverinfo="skip",
                             marker=dict(color="rgba(0,0,0,0)", line=dict(color=COLORS["grey"], width=1))))
        fig.add_trace(go.Bar(orientation="h", name="step", showlegend=False, textposition="outside",
                             cliponaxis=False, hoverinfo="text", textfont=dict(color="#222222")))
        for name, color in (("reused from the cache", _REUSED), ("run again", _REBUILT)):  # legend only
            fig.add_trace(go.Bar(x=[None], y=[labels[0]], orientation="h", name=name, marker=dict(color=color),
                                 hoverinfo="skip"))
        fig.update_layout(barmode="overlay", bargap=0.3)
        fig.update_yaxes(categoryorder="array", tickfont=dict(family="DejaVu Sans Mono"))
        fig.update_xaxes(title_text="seconds since the build started")
        return apply_style(fig, title=self.title, margin=dict(l=390, t=100, r=30))

    def layout(self, trace: Trace) -> dict[str, Any]:
        labels = self._labels(trace)
        total = float(trace.computed["total_s"])
        return {"yaxis.categoryarray": labels[::-1], "xaxis.range": [0, max(total, 1.0) * 1.35],
                "height": 140 + 34 * len(labels)}

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        labels = self._labels(trace)
        t = float(self.times(trace)[k])
        start, end = s["step_start_s"], s["step_end_s"]
        reused = s["step_reused"]
        progress = np.clip(t - start, 0.0, end - start)
        done = t >= end - 1e-9
        text, hover = [], []
        for i in range(len(labels)):
            size = f", +{s['step_size_mb'][i]:g} MB" if s["step_size_mb"][i] and not reused[i] else ""
            if reused[i]:
                word = "reused ✔" if done[i] else ("checking cache" if t >= start[i] else "")
            elif done[i]:
                word = f"ran {end[i] - start[i]:.1f} s{size}"
            elif t >= start[i]:
                word = f"running… {progress[i]:.1f} s"
            else:
                word = "waits"
            text.append(word)
            hover.append(f"{labels[i]}: {'reused' if reused[i] else 'run again'}; "
                         f"{end[i] - start[i]:.2f} s{size}" if t >= start[i] else f"{labels[i]}: waits")
        colors = np.where(reused, _REUSED, _REBUILT)
        width = np.where(reused & done, np.maximum(progress, 0.02 * max(float(end[-1]), 1.0)), progress)
        # A step that has not started shows neither its length nor where it will start: both tell which steps
        # run again, the lesson's Predict. It waits at the current time.
        started = t >= start - 1e-9
        base = np.where(started, start, t)
        return {"to do": dict(type="bar", x=np.where(started, np.maximum(end - start, 0.0), 0.0), base=base, y=labels),
                "step": dict(type="bar", x=width, base=base, y=labels, text=text, hovertext=hover,
                             marker=dict(color=colors)),
                "reused from the cache": dict(type="bar"), "run again": dict(type="bar")}

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        t = float(self.times(trace)[k])
        p = trace.params
        reran = int((~trace.series["step_reused"]).sum())
        steps = len(trace.series["step_reused"])
        finished = int(np.count_nonzero(trace.series["step_end_s"] <= t + 1e-9))
        done = trace.computed
        status = (f"{reran} of {steps} steps run again, {done['total_s']:.1f} s in all, "
                  f"{done['rebuilt_mb']:g} MB of new layers to push") if finished == steps \
            else f"{finished} of {steps} steps done"  # the totals only at the end: they answer the lesson's Predict
        changed = ", ".join(p["changed_files"]) or "nothing"
        return {"title.text": f"{self.title} — t = {t:.1f} s<br><sup>changed: {html.escape(changed)} · "
                              f"{status}</sup>"}


def rebuild_figure(traces: Mapping[tuple[str, str], Trace]) -> go.Figure:
    """Grouped bars: rebuild seconds for each (Dockerfile, change) pair of :func:`run_build` traces."""
    orders = list(dict.fromkeys(order for order, _ in traces))
    changes = list(dict.fromkeys(change for _, change in traces))
    fig = go.Figure()
    palette = [COLORS["vermillion"], COLORS["blue"], COLORS["green"], COLORS["purple"]]
    for j, order in enumerate(orders):
        seconds = [float(traces[(order, c)].computed["total_s"]) if (order, c) in traces else None for c in changes]
        fig.add_trace(go.Bar(x=changes, y=seconds, name=order, marker=dict(color=palette[j % len(palette)]),
                             text=[f"{v:.1f} s" if v is not None else "" for v in seconds], textposition="outside",
                             cliponaxis=False))
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="rebuild time (s)")
    fig.update_xaxes(title_text="what changed since the last build")
    return apply_style(fig, title="Rebuild time after a change, by the order of the Dockerfile's instructions",
                       height=420)


def _state_word(status: int) -> str:
    return {0: "✔ serving", 1: "↻ starting", 2: "✘ killed"}[int(status)]


class HostScene(Scene):
    """Top: each container now (memory against its limit, its state). Bottom: memory and latency over time."""

    title = "Containers on one VM"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=2, specs=[[{"colspan": 2}, None], [{}, {}]], row_heights=[0.38, 0.62],
                            vertical_spacing=0.2, horizontal_spacing=0.1,
                            subplot_titles=("", "memory of each container (MB)", "latency (log scale)"))
        fig.add_trace(go.Bar(orientation="h", name="now", showlegend=False, textposition="outside",
                             cliponaxis=False, textangle=0, hoverinfo="text", uid="memory now",
                             textfont=dict(color="#222222")), row=1, col=1)
        for i in range(MAX_CONTAINERS):
            fig.add_trace(go.Scatter(mode="lines", name=f"container-{i}", showlegend=False, uid=f"memory: container-{i}",
                                     line=dict(color=_COLORS[i], width=2, dash=_DASHES[i])), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=_DEAD, dash="dash", width=1.5), uid="limit",
                                 hoverinfo="name", showlegend=False), row=2, col=1)  # named by frame()
        fig.add_trace(go.Scatter(mode="markers", name="OOM kill", showlegend=False, hoverinfo="text",
                                 marker=dict(symbol="x", size=12, color=_DEAD, line=dict(width=1))),
                      row=2, col=1)
        for i in range(MAX_CONTAINERS):
            fig.add_trace(go.Scatter(mode="lines", name=f"container-{i}", showlegend=False, uid=f"latency: container-{i}",
                                     line=dict(color=_COLORS[i], width=2, dash=_DASHES[i])), row=2, col=2)
        for col, plot in ((1, "memory"), (2, "latency")):
            fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                     showlegend=False, name="now", uid=f"now: {plot}"), row=2, col=col)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=2)
        fig.update_yaxes(type="log", title_text="seconds", range=[np.log10(0.01), np.log10(1.0)],
                         **log_ticks(0.01, 1.0), row=2, col=2)
        fig.update_layout(barmode="overlay")
        return apply_style(fig, title=self._title(trace), height=740, margin=dict(t=120, l=110, r=150),
                           legend=dict(orientation="v", x=1.02, xanchor="left", y=0.0, yanchor="bottom"))

    @staticmethod
    def _line(trace: Trace) -> tuple[float, str]:
        """The dashed line on the memory plot: each container's limit, or with no limit what the VM has."""
        p = trace.params
        if p["memory_limit_mb"] is not None:
            return float(p["memory_limit_mb"]), f"memory limit {p['memory_limit_mb']:g} MB"
        usable = float(trace.computed["usable_memory_mb"])
        return usable, f"VM memory for containers {usable:,.0f} MB"

    @classmethod
    def _top_mb(cls, trace: Trace) -> float:
        """The top of the memory axes: the dashed line, and every container's memory and OOM kill, fit."""
        memory = trace.series["memory_mb"]
        peak = float(np.nanmax(memory)) if memory.size else 0.0
        kills = [float(e.data["memory_mb"]) for e in trace.of_kind("oom-kill")]
        return max(cls._line(trace)[0], peak, *kills, float(trace.params["base_memory_mb"]) * 2)

    def layout(self, trace: Trace) -> dict[str, Any]:
        p = trace.params
        duration = float(trace.series["time_s"][-1])
        line_mb, label = self._line(trace)
        top = self._top_mb(trace)
        names = [f"container-{i}" for i in range(p["containers"])]
        limited = p["memory_limit_mb"] is not None
        shapes = [dict(type="line", xref="x", yref="y domain", x0=line_mb, x1=line_mb, y0=0, y1=1,
                       line=dict(color=_DEAD, dash="dash", width=1.5))] if limited else []
        return {
            "xaxis.title.text": "memory now (MB" + ("; dashed: the limit)" if limited else ")"),
            "xaxis.range": [0, top * 1.3],
            "yaxis.categoryarray": names[::-1], "yaxis.categoryorder": "array",
            "xaxis2.range": [0, duration], "xaxis3.range": [0, duration],
            "yaxis2.range": [0, top * 1.08],
            "shapes": shapes,
            "annotations": [dict(x=duration, y=line_mb, xref="x2", yref="y2", text=label, showarrow=False,
                                 xanchor="right", yanchor="bottom", font=dict(color=_DEAD))],
        }

    def summary(self, trace: Trace) -> str:
        p, s = trace.params, trace.series
        kills = trace.of_kind("oom-kill")
        restarts = trace.of_kind("restart")
        if kills:
            first = kills[0]
            scope = "its cgroup limit" if first.data["scope"] == "cgroup" else "the VM's memory"
            killed = (f"{len(kills)} OOM kill{'s' if len(kills) > 1 else ''} (first: {first.subject} at "
                      f"{first.time_s:g} s, over {scope}), {len(restarts)} restart{'s' if len(restarts) != 1 else ''}")
        else:
            killed = "no OOM kill"
        others = [i for i in range(p["containers"]) if i != p["leaky_container"]]
        latency = s["latency_s"][:, others] * 1000
        calm = s["time_s"] < p["leak_at_s"]
        if others and np.isfinite(latency[calm]).any() and np.isfinite(latency[~calm]).any():
            neighbours = (f"; the neighbours' worst latency {np.nanmax(latency[calm]):.0f} ms before the "
                          f"misbehaviour, {np.nanmax(latency[~calm]):.0f} ms after")
        else:
            neighbours = ""
        return f"<b>This run:</b> {killed}{neighbours}."

    def _title(self, trace: Trace) -> str:
        p = trace.params
        if p["memory_limit_mb"] is None and p["cpu_limit_cores"] is None:
            caps = "no cgroup limits (lesson 01's machine)"
        else:
            mem = f"{p['memory_limit_mb']:g} MB" if p["memory_limit_mb"] is not None else "no memory limit"
            cpu = f"{p['cpu_limit_cores']:g} CPU" if p["cpu_limit_cores"] is not None else "no CPU quota"
            caps = f"each limited to {mem} and {cpu}"
        return f"{self.title}: {p['containers']} containers, {caps}"

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s, p = trace.series, trace.params
        n = p["containers"]
        names = [f"container-{i}" for i in range(n)]
        t = float(s["time_s"][k])
        mem = s["memory_mb"][k]
        status = s["status"][k]
        kills = [e for e in trace.of_kind("oom-kill") if e.time_s <= t + 1e-9]
        killed = {name: sum(1 for e in kills if e.subject == name) for name in names}
        text = []
        for i, name in enumerate(names):
            extra = f" · OOM-killed {killed[name]}×" if killed[name] else ""
            amount = "" if status[i] == 2 else f" {mem[i]:,.0f} MB"
            text.append(f"{_state_word(status[i])}{amount}{extra}")
        colors = np.where(status == 2, _DEAD, np.array(_COLORS[:n], dtype=object))
        top = self._top_mb(trace)
        line_mb, label = self._line(trace)
        duration = float(s["time_s"][-1])
        now = dict(type="bar", x=np.where(status == 2, top * 0.02, mem), y=names, text=text,
                   hovertext=[f"{name}: {words}" for name, words in zip(names, text, strict=True)],
                   marker=dict(color=colors))
        times = reveal(s["time_s"], k)
        lines: dict[str, dict[str, Any]] = {}
        for i in range(MAX_CONTAINERS):
            if i < n:
                running = reveal(np.where(s["status"][:, i] == 2, np.nan, s["memory_mb"][:, i]), k)  # a gap while dead
                lines[f"memory: container-{i}"] = dict(x=times, y=running, showlegend=True)
                lines[f"latency: container-{i}"] = dict(x=times, y=reveal(s["latency_s"][:, i], k))
            else:
                lines[f"memory: container-{i}"] = dict(x=[], y=[], showlegend=False)
                lines[f"latency: container-{i}"] = dict(x=[], y=[])
        marks = dict(x=np.array([e.time_s for e in kills], dtype=float),
                     y=np.array([float(e.data["memory_mb"]) for e in kills], dtype=float),
                     hovertext=[f"{e.subject} OOM-killed at {e.time_s:g} s ({e.data['scope']})" for e in kills])
        return {"memory now": now, **lines, "limit": dict(x=[0.0, duration], y=[line_mb, line_mb], name=label),
                "OOM kill": marks, "now: memory": dict(x=[t, t], y=[0, top * 1.08]),
                "now: latency": dict(x=[t, t], y=[0.01, 1.0])}

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s, p = trace.series, trace.params
        t = float(s["time_s"][k])
        used = float(s["memory_used_mb"][k])
        events = step_events(trace, t, float(p["step_s"]), ignore=("start",), when=lambda t: f"{t:g} s")
        latest = f"<br>{events}" if events else ""
        return {"title.text": f"{html.escape(self._title(trace))}<br><sup>t = {t:.1f} s · VM "
                              f"{p['vm_cpu_cores']:g} vCPU / {p['vm_memory_mb']:,.0f} MB · containers use "
                              f"{used:,.0f} MB{latest}</sup>"}

    def caption(self, trace: Trace, k: int) -> str:
        s = trace.series
        t = float(s["time_s"][k])
        step = float(trace.params["step_s"])
        recent = list(trace.between(t - step, t))
        if not recent:
            return f"<b>t = {t:.1f} s</b>: no new event."
        return f"<b>t = {t:.1f} s</b>:{event_list_html(recent)}"


def packing_figure(result: Result) -> go.Figure:
    """Containers on VMs (from :func:`~labsupport.sim.containers.pack_containers`): lesson 01's picture."""
    p = {**result.params, **result.computed}
    fig = placement_figure(result, rules=("first_fit", "best"))
    fig.update_layout(title=dict(text=no_math(f"{len(result.values['size_mb'])} containers on {p['vm_type']} VMs: "
                                              f"${p['usd_per_hour']:.3f}/h<br><sup>{p['capacity_mb']:,.0f} MB of "
                                              f"each VM for containers (dashed); a VM per instance would cost "
                                              f"${p['vm_per_instance_usd_per_hour']:.3f}/h</sup>")),
                      margin=dict(t=110))
    return fig


def containers_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: containers, limits, the leak and the restart policy rerun :func:`run_host`."""
    from labsupport.sim.containers import RESTART_POLICIES, HostParams, run_host

    controls = (integer("containers", "containers", 1, 8),
                integer("memory_limit_mb", "memory limit", 64, 2048, 32, unit="MB"),
                number("cpu_limit_cores", "CPU quota", 0.1, 2.0, 0.05, unit="cores"),
                number("leak_mb_per_s", "leak", 0, 200, 5, unit="MB/s"),
                number("burn_cores", "CPU burn", 0, 4, 0.25, unit="cores"),
                toggle("limits", "cgroup limits on", default=True),
                choice("restart_policy", "restart policy", list(RESTART_POLICIES)))

    def run(limits: bool, memory_limit_mb: float, cpu_limit_cores: float, **values: Any) -> Trace:
        return run_host(memory_limit_mb=memory_limit_mb if limits else None,
                        cpu_limit_cores=cpu_limit_cores if limits else None, **values)

    return live_panel(HostScene(), run, HostParams, controls, initial, start_at_s=60, fixed={"seed": 0})
