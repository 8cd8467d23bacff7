"""SimFaaS, the serverless model's anchor, run the way its README shows, for the benchmarks only.

SimFaaS (PyPI ``simfaas``; N. Mahmoudi and H. Khazaei, "SimFaaS: A Performance Simulator for Serverless
Computing Platforms", CLOSER 2021) is not a dependency of the course: install it with
``.venv/bin/pip install -e '.[bench]'`` (or ``pip install simfaas``).
"""

from __future__ import annotations

import time

#: SimFaaS's README case: 0.9 requests/s, warm mean 1.991 s, cold mean 2.244 s, expiry after 600 s idle, 1e6 s.
README_CASE = {"arrival_rate": 0.9, "warm_s": 1.991, "cold_s": 2.244, "expiration_threshold": 600.0,
               "max_time": 1e6}
INSTALL_HINT = ("SimFaaS is not installed: it is a benchmark-only dependency. Install it with "
                "`.venv/bin/pip install -e '.[bench]'` (or `pip install simfaas`), then run this again.")


def have_simfaas() -> bool:
    try:
        import simfaas.ServerlessSimulator  # noqa: F401
    except ImportError:
        return False
    return True


def run_simfaas(seed: int, max_time: float = README_CASE["max_time"]) -> tuple[dict[str, float], float, float]:
    """One SimFaaS run of the README case: (p_cold, mean_instances, mean_running), its wall and CPU time in s.

    SimFaaS draws from numpy's global generator, so the seed goes there.
    """
    import numpy as np
    from simfaas.ServerlessSimulator import ServerlessSimulator

    c = README_CASE
    np.random.seed(seed)
    start, cpu = time.perf_counter(), time.process_time()
    sim = ServerlessSimulator(arrival_rate=c["arrival_rate"], warm_service_rate=1 / c["warm_s"],
                              cold_service_rate=1 / c["cold_s"], expiration_threshold=c["expiration_threshold"],
                              max_time=max_time)
    sim.generate_trace(debug_print=False, progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    result = sim.get_result_dict()
    return {"p_cold": float(result["prob_cold"]), "mean_instances": float(result["inst_count_avg"]),
            "mean_running": float(result["inst_running_count_avg"])}, seconds, cpu_seconds


def run_model(seed: int, duration_s: float = README_CASE["max_time"]):  # -> Trace
    """The course's model in its SimFaaS mode, on the README case."""
    from labsupport.sim.serverless import run_serverless

    c = README_CASE
    return run_serverless(service_time="exponential", routing="newest", request_rate_per_s=c["arrival_rate"],
                          duration_ms=c["warm_s"] * 1000, cold_duration_ms=c["cold_s"] * 1000,
                          idle_expiry_s=c["expiration_threshold"], duration_s=duration_s, burst_every_s=None,
                          step_s=duration_s / 1000, seed=seed)
