"""Every model of lessons 01, 03, 05 and 07 records exactly the series its schema declares, with each axis as long
as the setting that defines it, at the extremes of its parameters as well as its defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from labsupport.sim import Result, Schema, Trace
from labsupport.sim.choosing import COMPARE_SCHEMA, PATTERNS, SWEEP_SCHEMA, compare, run_traffic_sweep
from labsupport.sim.containers import (
    BUILD_SCHEMA,
    HOST_SCHEMA,
    PACKING_SCHEMA,
    BuildStep,
    pack_containers,
    run_build,
    run_host,
)
from labsupport.sim.mesh import OUTLIER_SCHEMA, RELEASE_SCHEMA, SAMPLES_PER_STEP, run_outlier, run_release
from labsupport.sim.packaging import MACHINE_SCHEMA, PLACEMENT_SCHEMA, run_machine, run_placement


def axes(schema: Schema, arrays: Mapping[str, Any]) -> dict[str, int]:
    """The length of every axis the schema names, as the arrays have it (each must agree across series)."""
    lengths: dict[str, set[int]] = {}
    for series in schema.series:
        shape = np.shape(arrays[series.name])
        assert len(shape) == len(series.axes), series.name
        for axis, n in zip(series.axes, shape, strict=True):
            lengths.setdefault(axis, set()).add(n)
    assert all(len(ns) == 1 for ns in lengths.values()), lengths
    return {axis: ns.pop() for axis, ns in lengths.items()}


def recorded(run: Trace | Result, schema: Schema) -> dict[str, int]:
    assert run.schema is schema and run.model == schema.model
    arrays = run.series if isinstance(run, Trace) else run.values
    assert sorted(arrays) == sorted(schema.names)
    for series in schema.series:  # a unit is declared for every series: "" only for flags, labels and codes
        values = np.asarray(arrays[series.name])
        if series.unit == "":
            assert values.dtype.kind in "biuU", series.name
    return axes(schema, arrays)


@pytest.mark.parametrize("settings", [
    {}, {"instances": 1, "duration_s": 10, "noise_at_s": 5.0}, {"instances": 8, "duration_s": 3600, "leak_mb_per_s": 0},
    {"shared_server": True, "crash_at_s": 10.0, "swap_mb": 0}, {"cpu_cores": 0.5, "burn_cores": 256},
])
def test_machine(settings: dict[str, Any]) -> None:
    trace = run_machine(**settings)
    assert recorded(trace, MACHINE_SCHEMA) == {"time": math.floor(trace.params["duration_s"]) + 1,
                                               "instance": trace.params["instances"]}


@pytest.mark.parametrize("sizes", [[1.0], [4096.0] * 3, [512.0, 3072.0, 2560.0, 1024.0, 768.0] * 3])
def test_placement_and_packing(sizes: list[float]) -> None:
    assert recorded(run_placement(sizes, capacity_mb=4096), PLACEMENT_SCHEMA) == {"instance": len(sizes)}
    packed = pack_containers([min(s, 7000.0) for s in sizes], vm_type="m5.large")
    assert recorded(packed, PACKING_SCHEMA) == {"instance": len(sizes)}
    assert set(packed.computed) >= {"vms_best", "usd_per_hour", "machines"} and "vms_best" not in packed.params


@pytest.mark.parametrize(("n", "frames", "cache"), [(1, 1, True), (3, 60, False), (20, 1000, True)])
def test_build(n: int, frames: int, cache: bool) -> None:
    steps = [BuildStep("FROM", "python"), *(BuildStep("RUN", f"step {i}", 0.5, 1.0) for i in range(n - 1))]
    assert recorded(run_build(steps, edited=[n - 1], cache=cache, frames=frames), BUILD_SCHEMA) == {
        "time": frames + 1, "step": n}


@pytest.mark.parametrize("settings", [
    {}, {"containers": 1, "duration_s": 10, "step_s": 1.0, "leak_at_s": 5.0}, {"containers": 12, "memory_limit_mb": None,
                                                             "cpu_limit_cores": None},
    {"restart_policy": "no", "leak_mb_per_s": 100_000, "step_s": 0.05, "duration_s": 10, "leak_at_s": 0.0},
])
def test_host(settings: dict[str, Any]) -> None:
    trace = run_host(**settings)
    p = trace.params
    assert recorded(trace, HOST_SCHEMA) == {"time": math.floor(p["duration_s"] / p["step_s"] + 1e-9) + 1,
                                            "container": p["containers"]}


@pytest.mark.parametrize("settings", [
    {}, {"canary_error_rate": 0.5}, {"interval_s": 2.5, "step_weight": 50, "max_weight": 100},
    {"request_rate_per_s": 0, "tester_rate_per_s": 0, "duration_s": 60.0}, {"step_weights": (1, 100)},
])
def test_release(settings: dict[str, Any]) -> None:
    trace = run_release(**settings)
    lengths = recorded(trace, RELEASE_SCHEMA)
    assert lengths["sample"] == SAMPLES_PER_STEP and lengths["time"] == len(trace.series["time_s"]) > 0
    if trace.params["duration_s"] is not None:
        step = trace.params["interval_s"] / math.ceil(trace.params["interval_s"])
        assert lengths["time"] == math.ceil(trace.params["duration_s"] / step - 1e-9)


@pytest.mark.parametrize("settings", [
    {}, {"endpoints": 1, "bad_endpoint": 0, "duration_s": 10, "fail_from_s": 2.0, "fail_until_s": 8.0}, {"endpoints": 50, "interval_s": 0.1, "duration_s": 30},
    {"failure": "connect-failure", "retries": 0, "request_rate_per_s": 0.1},
])
def test_outlier(settings: dict[str, Any]) -> None:
    trace = run_outlier(**settings)
    p = trace.params
    assert recorded(trace, OUTLIER_SCHEMA) == {"time": math.floor(p["duration_s"]) + 1, "endpoint": p["endpoints"],
                                               "tick": math.floor(p["duration_s"] / p["interval_s"] + 1e-9)}


@pytest.mark.parametrize("settings", [{}, {"long_running": True, "isolation": "own-kernel", "max_monthly_usd": 1},
                                      {"rate_per_s": 0, "services": 50}, {"rate_per_s": 100, "peak_to_mean": 1}])
def test_compare_and_sweep(settings: dict[str, Any]) -> None:
    result = compare(**settings)
    assert recorded(result, COMPARE_SCHEMA) == {"pattern": len(PATTERNS)}
    assert set(result.computed) == {"recommended", "reasons"} and not set(result.computed) & set(result.params)
    rates = (0.1, 100.0) if settings.get("peak_to_mean", 10) == 1 else (0.1,)
    sweep = run_traffic_sweep(**settings, rates=rates)
    assert recorded(sweep, SWEEP_SCHEMA) == {"time": len(rates), "pattern": len(PATTERNS)}
    for k, rate in enumerate(rates):  # each step is compare() at that rate, its pick an index into PATTERNS
        pick = compare(**{**settings, "rate_per_s": rate}).computed["recommended"]
        assert sweep.series["recommended"][k] == (PATTERNS.index(pick) if pick else -1)
