"""Lessons 00, 02, 04 and 06: each model records exactly the series it declares, at settings far from the defaults.

A run made through a model's ``SCHEMA`` is already checked for names and axis lengths when it is made; these tests
add what a schema promises a view: the declared axes really are the time grid, the pods or the requests, a count is
a whole number that is never negative, a share stays within 0..1, seconds are floats. They run each model at the
edges of its parameters (one instance, no traffic, the largest sizes, every branch of its rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from labsupport.sim import Result, Schema, Trace
from labsupport.sim.kubernetes import Cluster, run_cluster
from labsupport.sim.overview import Environment, run_overview
from labsupport.sim.serverless import (
    COST_CURVE_SCHEMA,
    CostCurveParams,
    LambdaFunction,
    SimFaaSFunction,
    run_cost_curve,
    run_serverless,
)
from labsupport.sim.vm import PACKING_SCHEMA, PackingParams, VmDeployment, run_packing, run_vm

_EXACT = {"service_time": "exponential", "cold_duration_ms": 2000.0}

#: (model, its schema, the settings): extremes of each parameter, and settings that reach each branch.
RUNS: list[tuple[Callable[..., Any], Schema, dict[str, Any]]] = [
    (run_overview, Environment.SCHEMA, {}),
    (run_overview, Environment.SCHEMA, {"instances": 1, "request_rate_per_s": 0.0, "crash_at_s": None}),
    (run_overview, Environment.SCHEMA, {"instances": 12, "request_rate_per_s": 500.0, "crash_instance": 11,
                                        "health_check_interval_s": 0.5, "unhealthy_threshold": 1, "restart_s": 0}),
    (run_overview, Environment.SCHEMA, {"duration_s": 10.0, "window_s": 1.0, "traffic_start_s": 10.0,
                                        "crash_at_s": None, "seed": 11}),
    (run_vm, VmDeployment.SCHEMA, {}),
    (run_vm, VmDeployment.SCHEMA, {"desired_capacity": 1, "boot_jitter": 0.0, "grace_period_s": 0.0,
                                   "deploy_at_s": None, "crash_at_s": None, "duration_s": 60.0, "step_s": 6.0}),
    (run_vm, VmDeployment.SCHEMA, {"desired_capacity": 20, "min_healthy_percentage": 0, "health_check_type": "EC2",
                                   "instance_warmup_s": 0.0, "deregistration_delay_s": 0.0, "seed": 4}),
    (run_vm, VmDeployment.SCHEMA, {"duration_s": 61.0, "step_s": 6.1, "crash_at_s": None, "deploy_at_s": None}),
    (run_cluster, Cluster.SCHEMA, {}),
    (run_cluster, Cluster.SCHEMA, {"nodes": 1, "kill_node": 0, "replicas": 0, "scale_to": None,
                                   "rollout_at_s": None, "kill_at_s": 0.0, "duration_s": 10.0}),
    (run_cluster, Cluster.SCHEMA, {"nodes": 2, "replicas": 30, "node_cpu_m": 500, "pod_cpu_m": 0,
                                   "pod_memory_mi": 0, "max_surge": 0, "max_unavailable": "100%", "seed": 5}),
    (run_cluster, Cluster.SCHEMA, {"nodes": 100, "replicas": 1000, "scale_to": None, "node_cpu_m": 4000,
                                   "node_memory_mi": 16384, "kill_node": 99, "rollout_at_s": 25.0, "duration_s": 30.0}),
    (run_serverless, LambdaFunction.SCHEMA, {}),
    (run_serverless, LambdaFunction.SCHEMA, {"request_rate_per_s": 0.0, "burst_every_s": None}),
    (run_serverless, LambdaFunction.SCHEMA, {"arrivals_s": (0.0, 0.0, 5.0), "provisioned": 1, "idle_expiry_s": 1.0,
                                             "timeout_s": 1, "duration_ms": 1500.0, "duration_jitter": 0.0}),
    (run_serverless, LambdaFunction.SCHEMA, {"concurrency_limit": 3, "scaling_per_10s": 1, "burst_size": 500,
                                             "routing": "newest", "step_s": 0.5, "duration_s": 90.0}),
    (run_serverless, SimFaaSFunction.SCHEMA, {**_EXACT, "request_rate_per_s": 0.9, "duration_s": 20_000.0}),
    (run_serverless, SimFaaSFunction.SCHEMA, {**_EXACT, "request_rate_per_s": 50.0, "concurrency_limit": 2,
                                              "idle_expiry_s": 1.0, "duration_s": 200.0}),
    (run_serverless, SimFaaSFunction.SCHEMA, {**_EXACT, "request_rate_per_s": 0.0, "burst_every_s": None}),
]


def _case_id(case: tuple[Callable[..., Any], Schema, dict[str, Any]]) -> str:
    run, _schema, settings = case
    return f"{run.__name__}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"[:90]


def _check_units(values: Any, schema: Schema) -> None:
    for series in schema.series:
        array = np.asarray(values[series.name])
        if series.unit == "count":
            assert array.dtype.kind in "iu", f"{series.name} counts, so it must be whole numbers: {array.dtype}"
            assert np.all(array >= 0), f"{series.name} counts, so it is never negative"
        elif series.unit == "share":
            assert np.all((array >= 0) & (array <= 1 + 1e-12)), f"{series.name} is a share: 0..1"
        elif series.unit in ("s", "ms", "USD"):
            assert array.dtype.kind == "f", f"{series.name} is in {series.unit}: a float, not {array.dtype}"


@pytest.mark.parametrize("case", RUNS, ids=[_case_id(c) for c in RUNS])
def test_the_trace_holds_exactly_the_declared_series(case: tuple[Callable[..., Any], Schema, dict[str, Any]]) -> None:
    run, schema, settings = case
    trace = run(**settings)
    assert isinstance(trace, Trace)
    assert trace.model == schema.model and trace.schema == schema
    assert sorted(trace.series) == sorted(schema.names)
    time = trace.series["time_s"]
    for series in schema.series:  # every series declared on the time axis runs along the time grid
        if series.axes[0] == "time":
            assert len(trace.series[series.name]) == len(time), series.name
    assert np.all(np.diff(time) > 0) and time[0] == 0.0
    assert time[-1] <= trace.params["duration_s"] + 1e-9
    _check_units(trace.series, schema)


@pytest.mark.parametrize("case", RUNS, ids=[_case_id(c) for c in RUNS])
def test_per_request_and_per_pod_axes_agree(case: tuple[Callable[..., Any], Schema, dict[str, Any]]) -> None:
    """The second axis of a (time, x) series is as long as x's own series."""
    run, schema, settings = case
    s = run(**settings).series
    if "pod_state" in s:
        assert s["pod_state"].shape == s["pod_node"].shape == (len(s["time_s"]), len(s["pod_name"]))
        assert len(s["pod_version"]) == len(s["pod_name"])
        assert s["score_total"].shape == (len(s["placement_time_s"]), len(s["node_ready"][0]))
    if "instance_state" in s and "instance_start_s" in s:
        assert s["instance_state"].shape == (len(s["time_s"]), len(s["instance_start_s"]))
    if "request_time_s" in s:
        n = len(s["request_time_s"])
        assert all(len(s[name]) == n for name in schema.names if name.startswith("request_"))
        assert int(np.sum(s["requests"])) == n  # each request counted in exactly one step


@pytest.mark.parametrize(("run", "schema", "settings"), [
    (run_packing, PACKING_SCHEMA, {}),
    (run_packing, PACKING_SCHEMA, {"need_vcpu": 0.01, "need_memory_gib": 0.01, "min_instances": 1, "os_vcpu": 0.0,
                                   "os_memory_gib": 0.0}),
    (run_packing, PACKING_SCHEMA, {"need_vcpu": 512.0, "need_memory_gib": 2048.0, "min_instances": 100}),
    (run_cost_curve, COST_CURVE_SCHEMA, {}),
    (run_cost_curve, COST_CURVE_SCHEMA, {"points": 2, "max_rate_per_s": 0.001, "free_tier": True}),
    (run_cost_curve, COST_CURVE_SCHEMA, {"points": 5001, "max_rate_per_s": 100_000.0, "architecture": "arm64"}),
])
def test_a_result_without_time_holds_its_declared_values(run: Callable[..., Result], schema: Schema,
                                                         settings: dict[str, Any]) -> None:
    result = run(**settings)
    assert isinstance(result, Result) and not isinstance(result, Trace)
    assert result.model == schema.model and sorted(result.values) == sorted(schema.names)
    params_class = PackingParams if run is run_packing else CostCurveParams
    assert set(result.params) == {f.name for f in fields(params_class)}  # the inputs, and nothing else
    assert all(result.params[k] == v for k, v in settings.items())
    assert not set(result.computed) & set(result.params)  # a conclusion is never also an input
    lengths = {len(result.values[name]) for name in schema.names}
    assert len(lengths) == 1  # one axis: the types, or the rates
    _check_units(result.values, schema)


def test_the_break_even_rate_is_computed_not_an_input() -> None:
    curve = run_cost_curve()
    assert "break_even_rps" in curve.computed and "break_even_rps" not in curve.params
    rate, lam, vm = (curve.values[n] for n in ("rate_per_s", "lambda_usd", "vm_usd"))
    be = curve.computed["break_even_rps"]
    below, above = rate < be, rate > be
    assert np.all(lam[below] <= vm[below]) and np.all(lam[above] > vm[above])
