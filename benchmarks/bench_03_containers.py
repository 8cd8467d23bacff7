"""Lesson 03: model runs, Dockerfile parse and hadolint (warm and cold), first figure in a fresh kernel, control
changes; where this machine can run containers, real runc containers: start time and the service's peak memory."""

from __future__ import annotations

import statistics
import tempfile

from _common import Row, control_change_ms, first_figure_ms, fresh_call_ms, median_ms


def container_rows(repeat: int = 5) -> list[Row]:
    """Real containers (lesson 03's "Run it for real"); none, with a line saying why, where they cannot run."""
    from labsupport.artifacts.oci import container_support, run_in_container, run_service

    support = container_support()
    if not support.ok:
        print(f"03 real containers: not measured here. {support.reason}")
        return []
    hello = [run_in_container(["python3", "-c", "print('up')"], memory_mb=64, support=support) for _ in range(repeat)]
    with tempfile.TemporaryDirectory() as workdir:
        served = [run_service(workdir, memory_mb=64, support=support) for _ in range(repeat)]
    name = support.runtime.rsplit("/", 1)[-1] if support.runtime else "runtime"
    return [
        Row(f"03 {name} run -> python3 prints (median of {repeat})",
            statistics.median(r.first_output_s or 0.0 for r in hello) * 1000, "ms"),
        Row(f"03 {name}: the whole run of python3 -c print, removal excluded",
            statistics.median(r.wall_s for r in hello) * 1000, "ms"),
        Row(f"03 {name} run -> the service's READY line",
            statistics.median(r.ready_s or 0.0 for r in served) * 1000, "ms"),
        Row(f"03 {name}: the service's peak memory (with ps and the client)",
            max(r.peak_memory_mb or 0.0 for r in served), "MB"),
    ]


def rows() -> list[Row]:
    from labsupport.artifacts._hadolint import run_hadolint
    from labsupport.artifacts.dockerfile import build_steps, lint_dockerfile, render_dockerfile
    from labsupport.sim.containers import pack_containers, run_build, run_host
    from labsupport.views import animate
    from labsupport.views.containers import BuildScene, HostScene, containers_panel

    kernel_ms, figure_ms = first_figure_ms("03_containers")
    text = render_dockerfile()
    steps = build_steps(text)
    host = run_host()
    panel = containers_panel()
    values = iter(range(10**6))

    def time_step() -> None:
        panel.play.value = next(values) % 240  # a step of the play button

    fleet = [512.0] * 6 + [1024.0] * 4 + [256.0] * 4
    return [
        Row("03 Dockerfile: render + parse + hadolint + checks (warm)", median_ms(lambda: lint_dockerfile(
            render_dockerfile()), repeat=30), "ms"),
        Row("03 Dockerfile: first lint in a fresh process (cold)",
            fresh_call_ms("from labsupport.artifacts.dockerfile import lint_dockerfile, render_dockerfile\n"
                          "text = render_dockerfile()", "lint_dockerfile(text)"), "ms"),
        Row("03 Dockerfile: the hadolint binary alone (one run)",
            median_ms(lambda: run_hadolint(text), repeat=30), "ms"),
        Row("03 model: run_build() after a source change (12 steps)",
            median_ms(lambda: run_build(steps, ["labsupport/service/_app.py"]), repeat=50), "ms"),
        Row("03 model: run_host() (4 containers, 120 s, 241 steps)", median_ms(run_host, repeat=30), "ms"),
        Row("03 model: pack_containers() (14 containers, exact search)",
            median_ms(lambda: pack_containers(fleet), repeat=30), "ms"),
        Row("03 build animation: animate(BuildScene) (61 frames)",
            median_ms(lambda: animate(BuildScene(), run_build(steps, ["labsupport/service/_app.py"])), repeat=9),
            "ms"),
        Row("03 host animation: animate(HostScene, every=2) (121 frames)",
            median_ms(lambda: animate(HostScene(), host, every=2), repeat=9), "ms"),
        Row("03 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("03 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("03 containers panel: one control change (rerun + update)",
            control_change_ms(panel, "memory_limit_mb", [256, 384, 512, 640, 768]), "ms", "target ≤ 50"),
        Row("03 containers panel: containers 1-8 (rerun + update)",
            control_change_ms(panel, "containers", list(range(1, 9))), "ms", "target ≤ 50"),
        Row("03 containers panel: one time step (update only)", median_ms(time_step), "ms"),
        *container_rows(),
    ]
