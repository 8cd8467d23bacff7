"""The serverless model against its anchor, SimFaaS, side by side in one run: ``python benchmarks/bench.py simfaas``.

SimFaaS's README case (0.9 requests/s, warm mean 1.991 s, cold mean 2.244 s, expiry after 600 s idle,
1,000,000 s) is run once by SimFaaS and once by ``run_serverless(service_time="exponential",
routing="newest", ...)`` with the same seed number (not the same random numbers: each draws its own), then by
the model with four more seeds, whose mean is what a single SimFaaS run's noise is judged against. Prints the
wall and CPU times, the speed-ups, each statistic and its difference, and the model's peak memory (tracemalloc) for a
run of 1,000,000 requests. SimFaaS is a benchmark-only dependency: without it the rows say how to install it.
Only run when asked for by name (it takes a few minutes).
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

from _common import Row
from _simfaas import INSTALL_HINT, README_CASE, have_simfaas, run_model, run_simfaas

EXPLICIT = True  # bench.py runs it only when named: SimFaaS alone takes about a minute
STATS = ("p_cold", "mean_instances", "mean_running")


def rows() -> list[Row]:
    from labsupport.sim.serverless import instance_stats, run_serverless

    out: list[Row] = []
    start, cpu = time.perf_counter(), time.process_time()
    model = instance_stats(run_model(seed=0))
    model_s, model_cpu = time.perf_counter() - start, time.process_time() - cpu
    more = [instance_stats(run_model(seed=seed)) for seed in range(1, 5)]
    mean = {name: statistics.fmean([model[name]] + [m[name] for m in more]) for name in STATS}
    out.append(Row("serverless model, SimFaaS mode, README case (1e6 s): wall", model_s, "s", digits=2))
    out.append(Row("  its CPU time", model_cpu, "s", digits=2))
    tracemalloc.start()
    run_serverless(service_time="exponential", routing="newest", request_rate_per_s=1.0, duration_s=1e6,
                   duration_ms=README_CASE["warm_s"] * 1000, cold_duration_ms=README_CASE["cold_s"] * 1000,
                   burst_every_s=None, step_s=1000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out.append(Row("  its peak memory, 1e6 s at 1 request/s (tracemalloc)", peak / 1e6, "MB"))
    if not have_simfaas():
        print(INSTALL_HINT)
        for name in STATS:
            out.append(Row(f"  model {name} (mean of 5 seeds; SimFaaS not installed)", mean[name], "", digits=6))
        return out
    anchor, anchor_s, anchor_cpu = run_simfaas(seed=0)
    out.append(Row("SimFaaS 0.2.2, README case (1e6 s): wall", anchor_s, "s", digits=2))
    out.append(Row("  its CPU time", anchor_cpu, "s", digits=2))
    out.append(Row("  speed-up of the model over SimFaaS, wall time", anchor_s / model_s, "x", "target ≥ 20"))
    # on a shared machine the wall time also counts other people's work: CPU time compares the two fairly
    out.append(Row("  speed-up of the model over SimFaaS, CPU time", anchor_cpu / model_cpu, "x", "target ≥ 20"))
    for name in STATS:
        digits = 6 if name == "p_cold" else 4
        out.append(Row(f"  {name}: SimFaaS (seed 0)", anchor[name], "", digits=digits))
        out.append(Row(f"  {name}: model (seed 0)", model[name], "", digits=digits))
        out.append(Row(f"  {name}: model, mean of seeds 0-4", mean[name], "", digits=digits))
        out.append(Row(f"  {name}: model (seed 0) against SimFaaS", 100 * (model[name] / anchor[name] - 1), "%",
                       "target within ±3"))
        out.append(Row(f"  {name}: model (5 seeds) against SimFaaS", 100 * (mean[name] / anchor[name] - 1), "%",
                       "target within ±3"))
    return out
