"""Lesson 00: model run, first figure in a fresh kernel, one control change in the live panel."""

from __future__ import annotations

from _common import Row, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.sim.overview import run_overview
    from labsupport.views.overview import overview_panel

    kernel_ms, figure_ms = first_figure_ms("00_overview")
    panel = overview_panel()
    instances = panel.controls["instances"]
    values = iter(range(10**6))

    def control_change() -> None:
        instances.value = 2 + next(values) % 6  # reruns the model and updates the figure in place

    def time_step() -> None:
        panel.time.value = next(values) % 120

    return [
        Row("00 model: run_overview() (120 s, ~3,400 requests)", median_ms(lambda: run_overview(seed=1)), "ms"),
        Row("00 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("00 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("00 live panel: one control change (rerun + update)", median_ms(control_change), "ms", "target ≤ 50"),
        Row("00 live panel: one time step (update only)", median_ms(time_step), "ms"),
    ]
