"""Lesson 04: models, manifest validation, animations, first figure in a fresh kernel, control changes."""

from __future__ import annotations

from _common import Row, control_change_ms, first_figure_ms, median_ms

#: A real cluster's size: 100 nodes of 4 CPUs and 16 GiB, 1,000 replicas, node-7 killed at 20 s, v2 rolled out
#: at 120 s (issue 15: within 500 ms). The default run took 7-8 ms (CPU time, busy machine) with the old
#: most-free-CPU scheduler and 9-12 ms with kube-scheduler's scoring; the old model refused more than 8 nodes.
AT_SCALE = {"nodes": 100, "replicas": 1000, "scale_to": None, "node_cpu_m": 4000, "node_memory_mi": 16384,
            "kill_node": 7}


def rows() -> list[Row]:
    from labsupport.artifacts.kubernetes import render_manifests, validate_manifests
    from labsupport.sim.kubernetes import run_cluster
    from labsupport.views import animate
    from labsupport.views.kubernetes import ClusterScene, kubernetes_panel

    kernel_ms, figure_ms = first_figure_ms("04_kubernetes")
    cluster = run_cluster()
    panel = kubernetes_panel()
    values = iter(range(10**6))

    def time_step() -> None:
        panel.play.value = next(values) % 180  # a step of the play button

    return [
        Row("04 model: run_cluster() (3 nodes, 180 s, kill + scale + rollout)", median_ms(run_cluster, repeat=30),
            "ms"),
        Row("04 model: run_cluster() at scale (100 nodes, 1,000 pods, kill + rollout)",
            median_ms(lambda: run_cluster(**AT_SCALE), repeat=7), "ms", "target ≤ 500"),
        Row("04 manifests: render + validate (Deployment, Service; kubernetes-validate)",
            median_ms(lambda: validate_manifests(render_manifests()), repeat=20), "ms"),
        Row("04 cluster animation: animate(ClusterScene, every=2) (91 frames)",
            median_ms(lambda: animate(ClusterScene(), cluster, every=2), repeat=9), "ms"),
        Row("04 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("04 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("04 cluster panel: replicas 2-8 (rerun + update)",
            control_change_ms(panel, "replicas", list(range(2, 9))), "ms", "target ≤ 50"),
        Row("04 cluster panel: kill at 0-90 s (rerun + update)",
            control_change_ms(panel, "kill_at_s", [0.0, 15.0, 30.0, 45.0, 60.0, 75.0, 90.0]), "ms", "target ≤ 50"),
        Row("04 cluster panel: one time step (update only)", median_ms(time_step), "ms"),
    ]
