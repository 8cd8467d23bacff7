"""Lesson 06: model runs, the handler, the SAM template linted (warm and cold), first figure in a fresh kernel, one control change in the live panel."""

from __future__ import annotations

from _common import Row, control_change_ms, first_figure_ms, fresh_call_ms, median_ms


def rows() -> list[Row]:
    from labsupport.artifacts import render_sam_template
    from labsupport.artifacts.cloudformation import lint_template
    from labsupport.artifacts.lambda_handler import SAMPLE_EVENTS, make_handler, sample_event
    from labsupport.sim.serverless import run_cost_curve, run_serverless
    from labsupport.views import animate
    from labsupport.views.serverless import ServerlessScene, serverless_panel

    kernel_ms, figure_ms = first_figure_ms("06_serverless")
    panel = serverless_panel()
    values = iter(range(10**6))

    def time_step() -> None:
        panel.play.value = next(values) % 181  # a step of the play button

    events = [sample_event(name) for name in SAMPLE_EVENTS]
    handler = make_handler()

    def invoke_all() -> None:
        for event in events:
            handler(event, None)

    trace = run_serverless(seed=1)
    return [
        Row("06 model: run_serverless() (15 min, ~1,900 requests)", median_ms(lambda: run_serverless(seed=1)), "ms"),
        Row("06 model: run_serverless(burst_size=300)", median_ms(lambda: run_serverless(seed=1, burst_size=300)), "ms"),
        Row("06 model: run_cost_curve() (201 rates)", median_ms(run_cost_curve), "ms"),
        Row("06 animation: animate() (91 frames)", median_ms(lambda: animate(ServerlessScene(), trace, every=2),
                                                             repeat=5), "ms"),
        Row("06 handler: 10 sample API Gateway events", median_ms(invoke_all, repeat=50), "ms"),
        Row("06 SAM template: first cfn-lint in a fresh process (cold)",
            fresh_call_ms("from labsupport.artifacts import render_sam_template\n"
                          "from labsupport.artifacts.cloudformation import lint_template\n"
                          "sam = render_sam_template()", "lint_template(sam)"), "ms"),
        Row("06 SAM template: render + cfn-lint (warm)",
            median_ms(lambda: lint_template(render_sam_template()), repeat=10), "ms"),
        Row("06 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("06 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("06 live panel: one control change (rerun + update)",
            control_change_ms(panel, "burst_size", [40, 80, 120, 160, 200]), "ms", "target ≤ 50"),
        Row("06 live panel: one time step (update only)", median_ms(time_step), "ms"),
    ]
