"""Lesson 01 pictures: one machine shared by service processes with no caps, and placement on machines."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Trace
from labsupport.sim.packaging import MAX_INSTANCES
from labsupport.views._controls import integer, live_panel, number, toggle
from labsupport.views._scene import LivePanel, Scene, event_list_html, reveal, step_events
from labsupport.views._style import COLORS, apply_style, log_ticks

__all__ = ["INSTANCE_COLORS", "MachineScene", "packaging_panel", "placement_figure"]

#: One colour per instance (Okabe-Ito); red is kept for what went wrong.
INSTANCE_COLORS = [COLORS[c] for c in ("blue", "orange", "green", "purple", "sky", "yellow", "black", "grey")]
_DASHES = ["solid", "dot", "dash", "longdash", "dashdot", "longdashdot", "solid", "dot"]
_TEXT_ON = ["white", "black", "white", "black", "black", "black", "white", "black"]  # readable on each colour
_DEAD = COLORS["vermillion"]


def _killed_by(trace: Trace) -> dict[str, tuple[float, str]]:
    """For each instance that died: when, and how (OOM-killed, crashed, down with the app server)."""
    how = {"oom-kill": "OOM-killed", "crash": "crashed", "service-down": "server down"}
    out: dict[str, tuple[float, str]] = {}
    for e in trace.of_kind(*how):
        if e.subject.startswith("instance-") and e.subject not in out:
            out[e.subject] = (e.time_s, how[e.kind])
    return out


class MachineScene(Scene):
    """Top: the machine now (CPU and memory split between the instances, and each process's state).
    Bottom: each instance's latency and share of failed requests over time."""

    title = "One machine, several service instances, no caps"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=2, specs=[[{"colspan": 2}, None], [{}, {}]], row_heights=[0.4, 0.6],
                            vertical_spacing=0.2, horizontal_spacing=0.1,
                            subplot_titles=("", "latency (log scale)", "share of requests that fail"))
        for name in ("CPU used", "memory used"):  # stacked segments, one per instance
            fig.add_trace(go.Bar(orientation="h", name=name, textposition="inside", insidetextanchor="middle",
                                 textangle=0,
                                 hoverinfo="text", showlegend=False, marker=dict(line=dict(color="white", width=1)),
                                 textfont=dict(color="white")), row=1, col=1)
        fig.add_trace(go.Bar(orientation="h", name="processes", textposition="inside", insidetextanchor="middle",
                             textangle=0,
                             hoverinfo="text", showlegend=False, marker=dict(line=dict(color="white", width=2)),
                             textfont=dict(color="white")), row=1, col=1)
        for col, plot in ((1, "latency"), (2, "failed")):  # one line per possible instance
            for i in range(MAX_INSTANCES):
                fig.add_trace(go.Scatter(mode="lines", name=f"instance-{i}", showlegend=False, legendgroup=str(i),
                                         line=dict(color=INSTANCE_COLORS[i], width=2, dash=_DASHES[i]),
                                         uid=f"{plot}: instance-{i}"), row=2, col=col)
        fig.add_trace(go.Scatter(mode="lines", name="timeout", line=dict(color=COLORS["black"], dash="dash", width=1.5),
                                 hoverinfo="name", showlegend=False), row=2, col=1)
        for col, plot in ((1, "latency"), (2, "failed")):  # "now" cursors
            fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["grey"], width=1), hoverinfo="skip",
                                     showlegend=False, name="now", uid=f"now: {plot}"), row=2, col=col)
        fig.update_layout(barmode="overlay", bargap=0.25)
        fig.update_xaxes(title_text="% of the machine (dashed: all of it · red dotted: RAM + swap full)", row=1, col=1)
        fig.update_yaxes(categoryorder="array", categoryarray=["processes", "memory", "CPU"], row=1, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=1)
        fig.update_xaxes(title_text="time (s)", row=2, col=2)
        fig.update_yaxes(type="log", title_text="seconds", range=[np.log10(0.01), np.log10(10)],
                         **log_ticks(0.01, 10), row=2, col=1)
        fig.update_yaxes(tickformat=".0%", range=[-0.03, 1.05], row=2, col=2)
        return apply_style(fig, title=self.title, height=760, margin=dict(t=115, l=90, r=90),
                           legend=dict(orientation="v", x=1.01, xanchor="left", y=0.0, yanchor="bottom",
                                       title=dict(text="lines")))

    def layout(self, trace: Trace) -> dict[str, Any]:
        p = trace.params
        duration = float(trace.series["time_s"][-1])
        full = 100 * (p["memory_mb"] + p["swap_mb"]) / p["memory_mb"]  # RAM and swap full, in % of the RAM
        line = dict(type="line", xref="x", yref="y domain", y0=0, y1=1)
        return {
            "xaxis.range": [0, full + 12],
            "xaxis2.range": [0, duration], "xaxis3.range": [0, duration],
            "shapes": [dict(line, x0=100, x1=100, line=dict(color=COLORS["black"], dash="dash", width=1.5)),
                       dict(line, x0=full, x1=full, line=dict(color=_DEAD, dash="dot", width=1.5))],
            "annotations": [dict(x=duration, y=np.log10(p["timeout_s"]), xref="x2", yref="y2", showarrow=False,
                                 text=f"timeout {p['timeout_s']:g} s: the request fails", xanchor="right",
                                 yanchor="bottom")],
        }

    def summary(self, trace: Trace) -> str:
        s, p = trace.series, trace.params
        words = []
        for kind, what in (("swapping", "swapping from {t:.0f} s"), ("oom-kill", "OOM kill of {subject} at {t:.0f} s"),
                           ("service-down", "every instance down at {t:.0f} s"), ("crash", "crash at {t:.0f} s")):
            e = trace.first(kind)
            if e is not None:
                words.append(what.format(t=e.time_s, subject=e.subject))
        requests = s["requests"]
        failed = float((s["failed_share"] * requests).sum() / max(requests.sum(), 1))
        others = [i for i in range(p["instances"]) if i != p["noisy_instance"]]
        worst = (f"; the others' worst latency {float(np.nanmax(s['latency_s'][:, others])):.2f} s"
                 if others and np.isfinite(s["latency_s"][:, others]).any() else "")
        return (f"<b>This run:</b> {'; '.join(words) or 'no swapping, no kill'}; {failed:.0%} of all requests "
                f"failed{worst}; busiest CPU {float(np.max(s['cpu_utilisation'])):.0%}.")

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s, p = trace.series, trace.params
        n = p["instances"]
        names = [f"instance-{i}" for i in range(n)]
        alive = s["alive"][k]
        colors = np.array(INSTANCE_COLORS[:n], dtype=object)
        killed = _killed_by(trace)
        t = float(s["time_s"][k])

        def segments(values: np.ndarray, total: float, unit: str, label: str) -> dict[str, Any]:
            width = 100 * values / total
            base = np.concatenate([[0.0], np.cumsum(width)[:-1]])
            text = [names[i] if width[i] >= 12 else "" for i in range(n)]
            hover = [f"{names[i]}: {values[i]:,.{1 if unit == 'cores' else 0}f} {unit}" for i in range(n)]
            return dict(type="bar", x=width, base=base, y=[label] * n, text=text, hovertext=hover,
                        marker=dict(color=colors), textfont=dict(color=_TEXT_ON[:n]))

        cpu = segments(s["cpu_used_cores"][k], p["cpu_cores"], "cores", "CPU")
        memory = segments(s["memory_mb"][k], p["memory_mb"], "MB", "memory")
        states = []
        for i, name in enumerate(names):
            if alive[i]:
                states.append(f"{name} ✔")
            else:
                states.append(f"{name} ✘ {killed.get(name, (0, 'down'))[1]}")
        width = 100 / n
        procs = dict(type="bar", x=np.full(n, width), base=np.arange(n) * width, y=["processes"] * n, text=states, hovertext=states,
                     marker=dict(color=np.where(alive, colors, _DEAD)),
                     textfont=dict(color=np.where(alive, np.array(_TEXT_ON[:n], dtype=object), "white")))
        times = reveal(s["time_s"], k)
        lines: dict[str, dict[str, Any]] = {}
        for i in range(MAX_INSTANCES):
            if i < n:
                lines[f"latency: instance-{i}"] = dict(x=times, y=reveal(s["latency_s"][:, i], k), showlegend=True)
                lines[f"failed: instance-{i}"] = dict(x=times, y=reveal(s["failed_share"][:, i], k))
            else:
                lines[f"latency: instance-{i}"] = dict(x=[], y=[], showlegend=False)
                lines[f"failed: instance-{i}"] = dict(x=[], y=[])
        return {"CPU used": cpu, "memory used": memory, "processes": procs, **lines,
                "timeout": dict(x=[0.0, float(s["time_s"][-1])], y=[p["timeout_s"]] * 2),
                "now: latency": dict(x=[t, t], y=[0.01, 10]), "now: failed": dict(x=[t, t], y=[-0.03, 1.05])}

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s, p = trace.series, trace.params
        t = float(s["time_s"][k])
        used_cores = float(s["cpu_used_cores"][k].sum())
        used_mb = float(s["memory_used_mb"][k])
        swap = float(s["swap_used_mb"][k])
        title = self.title + (" (one shared application server)" if p["shared_server"] else "")
        status = (f"CPU {used_cores:.1f} of {p['cpu_cores']:g} cores · memory {used_mb:,.0f} of "
                  f"{p['memory_mb']:,.0f} MB RAM" + (f" + {swap:,.0f} MB swap" if swap > 0 else ""))
        events = step_events(trace, t, 1.0, ignore=("start",))
        latest = f"<br>{events}" if events else ""
        return {"title.text": f"{html.escape(title)} — t = {t:.0f} s<br><sup>{status}{latest}</sup>"}

    def caption(self, trace: Trace, k: int) -> str:
        t = float(trace.series["time_s"][k])
        recent = list(trace.between(t - 1, t))
        if not recent:
            return f"<b>t = {t:.0f} s</b>: no new event."
        return f"<b>t = {t:.0f} s</b>, what happened in the last second:{event_list_html(recent)}"


def placement_figure(trace: Trace, rules: tuple[str, ...] = ("first_fit", "best")) -> go.Figure:
    """Machines as stacked columns, one panel per placement rule, from a :func:`run_placement` trace."""
    s, p = trace.series, trace.params
    sizes = s["size_mb"]
    capacity = p["capacity_mb"]
    titles = {"first_fit": "first-fit, in the given order", "first_fit_decreasing": "first-fit decreasing",
              "best": "the best packing (exact search)"}
    used = {rule: int(s[f"machine_{rule}"].max()) + 1 for rule in rules}
    fig = make_subplots(rows=1, cols=len(rules), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[f"{titles.get(r, r)}: {used[r]} machines" for r in rules])
    most = max(used.values())
    for col, rule in enumerate(rules, start=1):
        machine_of = s[f"machine_{rule}"]
        base = np.zeros(most)
        for i, size in enumerate(sizes):
            m = int(machine_of[i])
            fig.add_trace(go.Bar(x=[f"machine {m + 1}"], y=[size], base=[base[m]], name=f"instance {i}",
                                 text=[f"#{i}: {size:,.0f}"], textposition="inside", textangle=0,
                                 insidetextanchor="middle", showlegend=False,
                                 textfont=dict(color=_TEXT_ON[i % len(_TEXT_ON)]),
                                 marker=dict(color=INSTANCE_COLORS[i % len(INSTANCE_COLORS)],
                                             line=dict(color="white", width=1)),
                                 hovertemplate=f"instance {i}: {size:,.0f} MB<extra></extra>"), row=1, col=col)
            base[m] += size
        fig.add_hline(y=capacity, line=dict(color=_DEAD, dash="dash"), row=1, col=col)
        fig.update_xaxes(categoryorder="array", categoryarray=[f"machine {m + 1}" for m in range(most)],
                         row=1, col=col)
    fig.update_yaxes(title_text="memory (MB)", range=[0, capacity * 1.08], row=1, col=1)
    fig.update_layout(barmode="overlay")
    return apply_style(fig, title=f"{len(sizes)} instances on machines of {capacity:,.0f} MB "
                                  "(dashed: what one machine has)", height=460)


def packaging_panel(**initial: Any) -> LivePanel:
    """The lesson's live panel: instance count, CPU burn, leak rate and a shared app server rerun the model."""
    from labsupport.sim.packaging import MachineParams, run_machine

    controls = (integer("instances", "instances", 1, MAX_INSTANCES),
                number("burn_cores", "noisy CPU burn", 0, 4, 0.1, unit="cores"),
                number("leak_mb_per_s", "noisy leak", 0, 200, 5, unit="MB/s"),
                toggle("shared_server", "one shared application server"))
    return live_panel(MachineScene(), run_machine, MachineParams, controls, initial, start_at_s=100,
                      fixed={"seed": 0})
