"""Lesson 07: the comparison, the traffic sweep, first figure in a fresh kernel, one control change in the live panel."""

from __future__ import annotations

from _common import Row, control_change_ms, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.sim.choosing import compare, run_traffic_sweep
    from labsupport.views import animate
    from labsupport.views.choosing import SweepScene, choosing_panel, comparison_figure

    kernel_ms, figure_ms = first_figure_ms("07_choosing")
    panel = choosing_panel()
    trace = compare()
    sweep = run_traffic_sweep(peak_to_mean=1, isolation="none", max_monthly_usd=300)
    return [
        Row("07 model: compare() (default workload, four patterns)", median_ms(compare), "ms"),
        Row("07 model: compare(rate_per_s=20, peak_to_mean=10)",
            median_ms(lambda: compare(rate_per_s=20, peak_to_mean=10), repeat=5), "ms"),
        Row("07 model: run_traffic_sweep() (10 traffic levels)",
            median_ms(lambda: run_traffic_sweep(peak_to_mean=1, isolation="none", max_monthly_usd=300), repeat=3),
            "ms"),
        Row("07 view: comparison_figure()", median_ms(lambda: comparison_figure(trace), repeat=5), "ms"),
        Row("07 animation: animate() (10 frames)", median_ms(lambda: animate(SweepScene(), sweep), repeat=5), "ms"),
        Row("07 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("07 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("07 live panel: one control change (rerun + update)",
            control_change_ms(panel, "memory_mb", [256, 1024, 2048, 512, 768]), "ms", "target ≤ 50"),
    ]
