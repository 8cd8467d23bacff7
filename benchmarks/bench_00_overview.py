"""Lesson 00: model run, first figure in a fresh kernel, one control change in the live panel."""

from __future__ import annotations

from _common import Row, control_change_ms, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.sim.overview import run_overview
    from labsupport.views.overview import overview_panel

    kernel_ms, figure_ms = first_figure_ms("00_overview")
    panel = overview_panel()
    values = iter(range(10**6))

    def time_step() -> None:
        panel.play.value = next(values) % 120  # a step of the play button

    return [
        Row("00 model: run_overview() (120 s, ~3,400 requests)", median_ms(lambda: run_overview(seed=1)), "ms"),
        Row("00 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("00 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("00 live panel: one control change (rerun + update)", control_change_ms(panel, "instances", list(range(2, 8))), "ms",
            "target ≤ 50"),
        Row("00 live panel: one time step (update only)", median_ms(time_step), "ms"),
    ]
