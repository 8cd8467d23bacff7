"""Lesson 02 pictures: the deployment timeline of a service run as VMs, and the capacity fixed VM sizes waste."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labsupport.sim import Result, Trace
from labsupport.sim.vm import Phase
from labsupport.views._controls import choice, integer, live_panel, number
from labsupport.views._scene import LivePanel, Scene, _step_s, event_list_html, reveal, step_events
from labsupport.views._style import COLORS, apply_style, no_math

__all__ = ["ACTOR_COLORS", "PHASE_STYLE", "PackingScene", "VmScene", "minutes", "packing_panel", "vm_panel"]

#: How each phase looks: (label, colour). Hovering a bar names its phase, so colour is not the only cue.
PHASE_STYLE = {
    Phase.BUILD: ("pipeline: build", COLORS["sky"]),
    Phase.BAKE: ("pipeline: bake AMI", COLORS["blue"]),
    Phase.PENDING: ("launching", COLORS["grey"]),
    Phase.BOOTING: ("booting, registered", COLORS["yellow"]),
    Phase.HEALTHY: ("healthy: gets requests", COLORS["green"]),
    Phase.FAILING: ("crashed, still gets requests", COLORS["vermillion"]),
    Phase.UNHEALTHY: ("unhealthy: no requests", COLORS["orange"]),
    Phase.DRAINING: ("draining, then gone", COLORS["purple"]),
}
ACTOR_COLORS = {"pipeline": COLORS["blue"], "auto-scaling": COLORS["orange"], "load-balancer": COLORS["green"],
                "fault": COLORS["vermillion"]}
_QUIET = {"health-check-failed", "register", "deregister", "launch-template-version"}


def minutes(t: float) -> str:
    """Seconds as ``m:ss``, for axis ticks and the animation's time slider."""
    return f"{int(t // 60)}:{int(t % 60):02d}"



class VmScene(Scene):
    """Top: one row per pipeline run and per instance, coloured by phase. Bottom: healthy instances by version."""

    title = "Service as VMs: bake, launch, check, serve, replace"

    def figure(self, trace: Trace) -> go.Figure:
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.66, 0.34], vertical_spacing=0.07)
        for phase in Phase:
            label, colour = PHASE_STYLE[phase]
            fig.add_trace(go.Scatter(mode="lines", name=label, line=dict(color=colour, width=13),
                                     hovertemplate="%{x:.0f} s<extra>" + label + "</extra>", connectgaps=False),
                          row=1, col=1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["black"], width=1), hoverinfo="skip",
                                 showlegend=False, name="now", uid="now: timeline"), row=1, col=1)
        # Two areas from zero rather than a stack: plotly's stacked areas glitch between animation frames.
        fig.add_trace(go.Scatter(mode="lines", name="healthy, v1 and v2", fill="tozeroy",
                                 line=dict(color=COLORS["green"], width=2.5, shape="hv")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="healthy v2", fill="tozeroy",
                                 line=dict(color=COLORS["blue"], width=2.5, shape="hv")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="healthy but crashed", line=dict(color=COLORS["vermillion"], width=2,
                                                                                     dash="dot", shape="hv")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", name="desired",
                                 line=dict(color=COLORS["black"], width=1.5, dash="dash")), row=2, col=1)
        fig.add_trace(go.Scatter(mode="lines", line=dict(color=COLORS["black"], width=1), hoverinfo="skip",
                                 showlegend=False, name="now", uid="now: instances"), row=2, col=1)
        fig.update_xaxes(title_text="time since the first commit (min:s)", row=2, col=1)
        fig.update_yaxes(title_text="instances", row=2, col=1)
        fig = apply_style(fig, title=self.title, height=760)
        # Title on top, the legend between it and the plots; the plots keep the full width, so the animation's
        # play buttons and time slider (placed as fractions of that width) do not overlap.
        fig.update_layout(margin=dict(l=90, r=30, t=180),
                          legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, font=dict(size=11)))
        return fig

    def layout(self, trace: Trace) -> dict[str, Any]:
        s = trace.series
        duration = float(s["time_s"][-1])
        ticks = np.arange(0, duration + 1, 300 if duration <= 4 * 3600 else 1800)
        axis = {"range": [0, duration], "tickvals": ticks, "ticktext": [minutes(t) for t in ticks]}
        labels = list(s["row_label"])
        n = len(labels)
        return {
            "xaxis": axis, "xaxis2": axis,
            # Every row labelled while they fit; with dozens of replacements, every few rows.
            "yaxis.tickvals": list(range(n - 1, -1, -1))[:: max(1, n // 20)],
            "yaxis.ticktext": labels[:: max(1, n // 20)],
            "yaxis.range": [-0.7, n - 0.3],
            "yaxis2.range": [0, self._top(trace)],
        }

    @staticmethod
    def _top(trace: Trace) -> float:
        s = trace.series
        return float(max(np.max(s["desired"]), np.max(s["healthy"]), np.max(s["serving_errors"])) + 1.5)

    def summary(self, trace: Trace) -> str:
        s = trace.series
        launched = trace.of_kind("launch")
        served = {e.subject for e in trace.of_kind("target-healthy")}
        never = [e.subject for e in launched if e.subject not in served]
        crash = trace.first("crash")
        words = [f"{len(launched)} instances launched" + (f", {len(never)} of them never served a request"
                                                          if never else "")]
        if crash is not None:
            out = trace.first("target-unhealthy", crash.subject)
            replaced = next((e for e in trace.of_kind("terminate") if e.subject == crash.subject
                             and e.data.get("reason") == "unhealthy"), None)
            words.append(f"the crash at {minutes(crash.time_s)} "
                         + (f"taken out of the load balancer at {minutes(out.time_s)}" if out else "never noticed")
                         + (f", replaced at {minutes(replaced.time_s)}" if replaced else ", never replaced"))
        step = _step_s(s["time_s"])
        words.append(f"{float(np.sum(s['serving_errors'])) * step / 60:.0f} instance-minutes serving errors")
        done = [e for e in trace.of_kind("deploy-complete") if e.subject != "v1"]
        if trace.first("commit", "v2") is not None:
            words.append(f"v2 deployed at {minutes(done[0].time_s)}" if done else "the v2 deploy not finished by the end")
        return "<b>This run:</b> " + "; ".join(words) + "."

    def frame(self, trace: Trace, k: int) -> dict[str, dict[str, Any]]:
        s = trace.series
        t = float(s["time_s"][k])
        rows = s["segment_row"]
        start = s["segment_start_s"]
        end = np.minimum(s["segment_end_s"], t)
        shown = start < t
        y_of_row = self._row_y(trace)
        updates: dict[str, dict[str, Any]] = {}
        for phase in Phase:
            mask = shown & (s["segment_phase"] == int(phase))
            n = int(mask.sum())
            x = np.full(3 * n, np.nan)
            y = np.full(3 * n, np.nan)
            x[0::3], x[1::3] = start[mask], end[mask]
            y[0::3] = y[1::3] = y_of_row[rows[mask]]
            updates[PHASE_STYLE[phase][0]] = dict(x=x, y=y, line=dict(width=self._bar_width(trace)))
        times = reveal(s["time_s"], k)
        desired = float(s["desired"][0])
        return {
            **updates,
            "now: timeline": dict(x=[t, t], y=[-0.5, len(s["row_label"]) - 0.5]),
            "healthy, v1 and v2": dict(x=times, y=reveal(s["healthy"], k)),
            "healthy v2": dict(x=times, y=reveal(s["healthy_v2"], k)),
            "healthy but crashed": dict(x=times, y=reveal(s["serving_errors"], k)),
            "desired": dict(x=[0.0, float(s["time_s"][-1])], y=[desired, desired]),
            "now: instances": dict(x=[t, t], y=[0, self._top(trace)]),
        }

    @staticmethod
    def _bar_width(trace: Trace) -> float:
        """Thick bars for a few rows; thinner ones when the group has launched many instances."""
        return float(min(13.0, max(2.0, 260.0 / len(trace.series["row_label"]))))

    @staticmethod
    def _row_y(trace: Trace) -> np.ndarray:
        n = len(trace.series["row_label"])
        return (n - 1 - np.arange(n)).astype(float)  # the first row on top

    def layout_at(self, trace: Trace, k: int) -> dict[str, Any]:
        s = trace.series
        t = float(s["time_s"][k])
        healthy = int(s["healthy"][k])
        desired = int(s["desired"][0])
        crashed = int(s["serving_errors"][k])
        note = f", {crashed} of them crashed" if crashed else ""
        step = _step_s(s["time_s"])
        events = step_events(trace, t, step, ignore=_QUIET, when=minutes)
        latest = f"<br><sup>{events}</sup>" if events else ""
        return {"title.text": f"{self.title}<br><sup>t = {minutes(t)} — {healthy} of {desired} desired instances "
                              f"healthy{note}</sup>{latest}"}

    def caption(self, trace: Trace, k: int) -> str:
        s = trace.series
        t = float(s["time_s"][k])
        step = _step_s(s["time_s"])
        recent = list(trace.between(t - step, t))
        if not recent:
            return f"<b>{minutes(t)}</b>: nothing changes in this step."
        listed = event_list_html(recent, ACTOR_COLORS, limit=12, when=lambda e: minutes(e.time_s))
        return f"<b>{minutes(t)}</b>, what happened in the last {step:g} s:{listed}"


#: How each share of a VM looks, and its series (``vcpu_<part>``, ``memory_<part>_gib``): (label, colour, hatch, part).
_SHARES = (("used by the service", COLORS["green"], "", "used"), ("used by each VM's OS", COLORS["grey"], "/", "os"),
           ("idle", COLORS["orange"], "x", "idle"))


def _packing(result: Trace | Result) -> Result:
    """:func:`~labsupport.sim.vm.run_packing`'s result (it has no time axis: a :class:`Result`, not a trace)."""
    if not isinstance(result, Result):
        raise TypeError(f"PackingScene draws run_packing()'s Result, not a {result.model} trace")
    return result


class PackingScene(Scene[Result]):
    """For each instance type: what the workload uses, what the operating systems use, and what sits idle."""

    title = "What fixed VM sizes cost: one service instance per VM"

    def figure(self, trace: Trace | Result) -> go.Figure:
        fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                            subplot_titles=("vCPUs you pay for", "memory you pay for (GiB)"))
        for col, resource in ((1, "vcpu"), (2, "memory")):
            for label, colour, pattern, part in _SHARES:
                fig.add_trace(go.Bar(orientation="h", name=label, marker=dict(color=colour, pattern_shape=pattern),
                                     showlegend=col == 1, legendgroup=label, hovertemplate="%{x:.2f}<extra>" + label
                                     + "</extra>", uid=f"{resource}-{part}"), row=1, col=col)
        fig.add_trace(go.Scatter(mode="text", textposition="middle right", showlegend=False, hoverinfo="skip",
                                 name="labels", textfont=dict(size=12)), row=1, col=2)
        fig.update_layout(barmode="stack", margin=dict(l=90, r=20, t=90, b=80),
                          legend=dict(orientation="h", yanchor="top", y=-0.12, x=0))
        fig.update_yaxes(autorange="reversed", row=1, col=1)
        return apply_style(fig, title=self.title, height=480)

    def frame(self, trace: Trace | Result, k: int) -> dict[str, dict[str, Any]]:
        s = _packing(trace).values
        names = s["type"]
        labels = [no_math(f"{c} × {n} · ${u:.3f}/h")
                  for c, n, u in zip(s["count"], names, s["usd_per_hour"], strict=True)]
        # uids of letters and dashes only: plotly.js builds CSS selectors from a grouped legend's trace uids
        updates = {f"{resource}-{part}": dict(y=names, x=s[f"{resource}_{part}{unit}"])
                   for resource, unit in (("vcpu", ""), ("memory", "_gib")) for _label, _c, _p, part in _SHARES}
        return {**updates, "labels": dict(y=names, x=s["memory_total_gib"], text=labels)}

    def layout(self, trace: Trace | Result) -> dict[str, Any]:
        result = _packing(trace)
        s, p = result.values, result.params
        best = int(np.argmin(s["usd_per_hour"]))
        idle = s["vcpu_idle"][best] / s["vcpu_total"][best]
        return {
            "title.text": no_math(f"{self.title}<br><sup>workload: {p['need_vcpu']:g} vCPU, {p['need_memory_gib']:g} GiB, "
                           f"at least {p['min_instances']} instances — cheapest: {s['count'][best]} × "
                           f"{s['type'][best]} at ${s['usd_per_hour'][best]:.3f}/h, {idle:.0%} of its vCPUs idle</sup>"),
            "xaxis2": {"range": [0, float(np.max(s["memory_total_gib"])) * 2.1]},
            # Cheapest on top, after every rerun: a category axis otherwise keeps its first order.
            "yaxis": {"categoryorder": "array", "categoryarray": [str(n) for n in s["type"]]},
        }

    def times(self, trace: Trace | Result) -> np.ndarray:
        return np.zeros(1)


def vm_panel(**initial: Any) -> LivePanel:
    """The lesson's live timeline: instances, boot time, grace period, health checks and crash time rerun the model."""
    from labsupport.sim.vm import VmParams, run_vm

    controls = (integer("desired_capacity", "desired instances", 1, 6),
                number("boot_s", "boot", 5, 180, 5, unit="s"),
                number("grace_period_s", "grace period", 0, 600, 10, unit="s"),
                integer("health_check_interval_s", "check interval", 10, 120, 5, unit="s"),
                integer("unhealthy_threshold", "unhealthy threshold", 2, 10),
                number("crash_at_s", "crash at", 600, 3000, 10, unit="s"),
                choice("health_check_type", "ASG health check", ["ELB", "EC2"]))
    # just after the replacement is healthy
    return live_panel(VmScene(), run_vm, VmParams, controls, initial, start_at_s=1330, fixed={"seed": 0}, play_ms=120)


def packing_panel(**initial: Any) -> LivePanel[Result]:
    """The lesson's live view of wasted capacity: the workload's size and the minimum instance count."""
    from labsupport.sim.vm import PackingParams, run_packing

    controls = (number("need_vcpu", "service needs vCPU", 0.5, 32, 0.5),
                number("need_memory_gib", "service needs GiB", 0.5, 128, 0.5),
                integer("min_instances", "min instances", 1, 8))
    return live_panel(PackingScene(), run_packing, PackingParams, controls, initial, timeless=True)
