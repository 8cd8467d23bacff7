"""Lesson 01: model runs, first figure in a fresh kernel, one control change, real package builds and starts."""

from __future__ import annotations

import tempfile

from _common import Row, control_change_ms, first_figure_ms, median_ms


def rows() -> list[Row]:
    from labsupport.service import Launcher, build_wheel, build_zipapp, install_wheel
    from labsupport.sim.packaging import run_machine, run_placement
    from labsupport.views.packaging import packaging_panel

    kernel_ms, figure_ms = first_figure_ms("01_packaging")
    change_ms = control_change_ms(packaging_panel(), "instances", list(range(2, 8)))
    values = iter(range(10**6))

    with tempfile.TemporaryDirectory() as folder:
        zipapp_ms = median_ms(lambda: build_zipapp(folder), repeat=9)
        wheel_ms = median_ms(lambda: build_wheel(folder), repeat=9)
        app = build_zipapp(folder)
        install_ms = median_ms(lambda: install_wheel(build_wheel(folder), f"{folder}/site-{next(values)}"),
                               repeat=3, warmup=1)
        starts, memory = [], []
        with Launcher(app) as launcher:
            for _ in range(5):
                instance = launcher.start()
                starts.append(instance.start_ms)
                memory.append(instance.rss_mb() or 0.0)
    starts.sort()
    memory.sort()
    return [
        Row("01 model: run_machine() (120 s, 4 instances)", median_ms(lambda: run_machine(seed=1)), "ms"),
        Row("01 model: run_placement() (10 instances, exact search)", median_ms(lambda: run_placement(seed=1)), "ms"),
        Row("01 fresh kernel start-up (not the lesson's own cost)", kernel_ms, "ms"),
        Row("01 fresh kernel -> first figure shown", figure_ms, "ms", "target ≤ 1500"),
        Row("01 live panel: one control change (rerun + update)", change_ms, "ms", "target ≤ 50"),
        Row("01 build the zipapp", zipapp_ms, "ms"),
        Row("01 build the wheel", wheel_ms, "ms"),
        Row("01 install the wheel with pip (--no-deps --no-index)", install_ms, "ms"),
        Row("01 start one instance from the zipapp, until it listens", starts[len(starts) // 2], "ms"),
        Row("01 memory (RSS) of one instance just started", memory[len(memory) // 2], "MB"),
    ]
