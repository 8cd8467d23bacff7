"""Lesson 02: model runs, template render and lint, first figure in a fresh kernel, control changes."""

from __future__ import annotations

from _common import Row, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.artifacts.cloudformation import lint_template, render_template, to_yaml
    from labsupport.sim.vm import run_packing, run_vm
    from labsupport.views.vm import packing_panel, vm_panel

    kernel_ms, figure_ms = first_figure_ms("02_vm")
    timeline = vm_panel()
    packing = packing_panel()
    values = iter(range(10**6))

    def timeline_change() -> None:
        timeline.controls["desired_capacity"].value = 1 + next(values) % 6  # rerun + update in place

    def timeline_step() -> None:
        timeline.play.value = next(values) % 360  # a step of the play button

    def packing_change() -> None:
        packing.controls["min_instances"].value = 1 + next(values) % 8

    template = render_template()
    lint_template(template)  # the first lint pays for cfn-lint's import and rules (about two seconds)
    return [
        Row("02 model: run_vm() (1 h, 7 instances, ~850 checks)", median_ms(lambda: run_vm(seed=1)), "ms"),
        Row("02 model: run_packing() (9 instance types)", median_ms(run_packing, repeat=50), "ms"),
        Row("02 template: render_template() + to_yaml()", median_ms(lambda: to_yaml(render_template()), repeat=50), "ms"),
        Row("02 template: lint_template() with cfn-lint (warm)", median_ms(lambda: lint_template(template), repeat=5,
                                                                           warmup=1), "ms"),
        Row("02 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("02 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("02 timeline panel: one control change (rerun + update)", median_ms(timeline_change), "ms", "target ≤ 50"),
        Row("02 timeline panel: one time step (update only)", median_ms(timeline_step), "ms"),
        Row("02 packing panel: one control change (rerun + update)", median_ms(packing_change), "ms", "target ≤ 50"),
    ]
