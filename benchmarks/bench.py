"""Print the course's performance figures: ``python3 course.py bench`` (or ``python benchmarks/bench.py``).

Every ``benchmarks/bench_*.py`` module contributes rows; pass lesson numbers to run only some
(``python benchmarks/bench.py 00``). A module marked ``EXPLICIT`` runs only when named
(``python benchmarks/bench.py simfaas [--seeds N]``: the serverless model against SimFaaS;
``python benchmarks/bench.py browser [00 04 ...] [--repeat N]``: Run all and a live panel in real JupyterLab;
``python benchmarks/bench.py models [--against REV]``: every model run, this tree against an older one;
``python benchmarks/bench.py draw [00 04 ...]``: plotly.js's own redraw of each live panel after one change). Figures depend on the machine: read them, don't assert them.
"""

from __future__ import annotations

import importlib
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Row, import_ms  # noqa: E402


def main(argv: list[str]) -> int:
    import os

    if argv[:1] in (["browser"], ["draw"], ["simfaas"], ["models"]):  # each reads arguments of its own
        return int(importlib.import_module(f"bench_{argv[0]}").main(argv[1:]))

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    print(f"{'measure':58} {'median':>10} unit target")
    if not argv:
        print(Row("import labsupport (fresh interpreter)", import_ms("labsupport"), "ms").line())
    for path in sorted(HERE.glob("bench_*.py")):
        lesson = path.stem.split("_")[1]
        module = importlib.import_module(path.stem)
        if (argv or getattr(module, "EXPLICIT", False)) and lesson not in argv:
            continue  # an EXPLICIT module (a slow comparison) runs only when named: bench.py simfaas
        for row in module.rows():
            print(row.line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
