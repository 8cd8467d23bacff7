"""Measuring helpers shared by the lesson benchmarks. Figures are printed, never asserted."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    target: str = ""
    digits: int = 1  # decimals shown (a probability such as 0.00135 needs more than one)

    def line(self) -> str:
        return f"{self.name:58} {self.value:10.{self.digits}f} {self.unit:4} {self.target}"


def median_ms(action: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def import_ms(module: str, repeat: int = 5) -> float:
    """Median wall time of importing ``module`` in a fresh interpreter (interpreter start-up excluded)."""
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(repeat)]
    return statistics.median(runs)


def fresh_call_ms(setup: str, call: str, repeat: int = 3) -> float:
    """Median wall time of the first ``call`` in a fresh interpreter, after ``setup`` (imports) has run: what a
    learner's first use costs in a new kernel."""
    code = (f"import time\n{setup}\nt = time.perf_counter()\n{call}\n"
            "print((time.perf_counter() - t) * 1000)")
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True).split()[-1])
            for _ in range(repeat)]
    return statistics.median(runs)


def first_figure_ms(slug: str) -> tuple[float, float]:
    """(kernel start-up, then time until the lesson's first plotly figure is shown), in a fresh kernel.

    Runs the student notebook's code cells in order in a new kernel, as "Run all" does, and stops at the
    first cell whose output is a plotly figure.
    """
    import nbformat
    from jupyter_client.manager import start_new_kernel

    nb = nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)
    started = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"))
    ready = time.perf_counter()
    try:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            msg_id = kc.execute(cell.source)
            shown = False
            while True:
                msg = kc.get_iopub_msg(timeout=120)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind = msg["msg_type"]
                if kind in ("execute_result", "display_data") and any(
                        "plotly" in mime for mime in msg["content"].get("data", {})):
                    shown = True
                if kind == "error":
                    raise RuntimeError(f"{slug}: a cell failed: {msg['content']['ename']}")
                if kind == "status" and msg["content"]["execution_state"] == "idle":
                    break
            if shown:
                return (ready - started) * 1000, (time.perf_counter() - ready) * 1000
        raise RuntimeError(f"{slug} shows no plotly figure")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def control_change_ms(panel: object, control: str, values: list[object]) -> float:
    """Median time of one change of ``panel``'s control ``control`` (rerun + figure update), cycling ``values``."""
    widget = panel.controls[control]  # type: ignore[attr-defined]
    counter = iter(range(10**6))

    def change() -> None:
        widget.value = values[next(counter) % len(values)]

    return median_ms(change)
