"""The reference figures that tests/sim/test_serverless.py holds the SimFaaS mode to, made by SimFaaS itself.

``python benchmarks/simfaas_reference.py [runs] [horizon_s]`` runs SimFaaS's README case ``runs`` times (numpy
seeds 0, 1, ...) for ``horizon_s`` simulated seconds each and prints each statistic's mean over the runs and its
standard error. Needs SimFaaS (``.venv/bin/pip install -e '.[bench]'``). Default: 6 runs of 1e6 s (about 10
minutes on a busy 2-core machine).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simfaas import INSTALL_HINT, have_simfaas, run_simfaas  # noqa: E402


def main(argv: list[str]) -> int:
    if not have_simfaas():
        print(INSTALL_HINT)
        return 1
    runs = int(argv[0]) if argv else 6
    horizon = float(argv[1]) if len(argv) > 1 else 1e6
    results = []
    for seed in range(runs):
        stats, seconds, _ = run_simfaas(seed, horizon)
        results.append(stats)
        print(f"seed {seed}: {stats}  ({seconds:.1f} s)", flush=True)
    for name in ("p_cold", "mean_instances", "mean_running"):
        values = [r[name] for r in results]
        error = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
        print(f"{name}: mean {statistics.fmean(values):.6g}, standard error {error:.3g} ({runs} runs of {horizon:g} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
