"""Lesson 05: the mesh models, Istio manifest checks, animations, first figure in a fresh kernel, control changes."""

from __future__ import annotations

from _common import Row, control_change_ms, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.artifacts.istio import routes_at
    from labsupport.artifacts.kubernetes import validate_manifests
    from labsupport.sim.mesh import run_outlier, run_release
    from labsupport.views.mesh import OutlierScene, ReleaseScene, mesh_animate, outlier_panel, release_panel

    kernel_ms, figure_ms = first_figure_ms("05_mesh")
    release = run_release()
    outlier = run_outlier()
    panel = release_panel()
    o_panel = outlier_panel()
    text = routes_at(release, 100)
    validate_manifests(text)  # the first check imports Istio's types (measured below, once)
    values = iter(range(10**6))

    def time_step() -> None:
        panel.time.value = next(values) % 250

    return [
        Row("05 model: run_release() (300 s, 1 s steps, Flagger + routing)", median_ms(run_release, repeat=20), "ms"),
        Row("05 model: run_release(interval_s=2.5) (0.83 s steps)",
            median_ms(lambda: run_release(interval_s=2.5, step_weight=10, max_weight=50), repeat=20), "ms"),
        Row("05 model: run_outlier() (180 s, 40 requests/s)", median_ms(run_outlier, repeat=20), "ms"),
        Row("05 Istio: render + validate VirtualService and DestinationRule (cloudcoil types)",
            median_ms(lambda: validate_manifests(routes_at(release, 100)), repeat=20), "ms"),
        Row("05 release animation: mesh_animate(ReleaseScene, every=2) (151 frames)",
            median_ms(lambda: mesh_animate(ReleaseScene(), release, every=2), repeat=5), "ms"),
        Row("05 outlier animation: mesh_animate(OutlierScene) (181 frames)",
            median_ms(lambda: mesh_animate(OutlierScene(), outlier), repeat=5), "ms"),
        Row("05 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("05 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("05 release panel: v2 error rate 0-10 % (rerun + update)",
            control_change_ms(panel, "canary_error_rate", [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]), "ms", "target ≤ 50"),
        Row("05 release panel: step weight 5-50 (rerun + update)",
            control_change_ms(panel, "step_weight", [5, 10, 20, 25, 50]), "ms", "target ≤ 50"),
        Row("05 release panel: one time step (update only)", median_ms(time_step), "ms"),
        Row("05 outlier panel: endpoints 4-12 (rerun + update)",
            control_change_ms(o_panel, "endpoints", [4, 6, 8, 10, 12]), "ms", "target ≤ 50"),
    ]
