"""Lesson 02's VM-deployment and packing models: exact traces and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labsupport.sim import ParameterError, Result
from labsupport.sim.catalogue import INSTANCE_TYPES
from labsupport.sim.vm import (
    ACTORS,
    Phase,
    refresh_batch_size,
    run_packing,
    run_vm,
)

DEFAULT_EVENTS = [
    (0.0, 'commit', 'v1', 'pipeline'),
    (0.0, 'build-start', 'v1', 'pipeline'),
    (120.0, 'bake-start', 'v1', 'pipeline'),
    (540.0, 'ami-ready', 'ami-v1', 'pipeline'),
    (540.0, 'launch-template-version', 'v1', 'pipeline'),
    (540.0, 'create-group', 'restaurant-service', 'auto-scaling'),
    (540.0, 'launch', 'i-01', 'auto-scaling'),
    (540.0, 'launch', 'i-02', 'auto-scaling'),
    (540.0, 'launch', 'i-03', 'auto-scaling'),
    (570.0, 'in-service', 'i-01', 'auto-scaling'),
    (570.0, 'register', 'i-01', 'load-balancer'),
    (570.0, 'in-service', 'i-02', 'auto-scaling'),
    (570.0, 'register', 'i-02', 'load-balancer'),
    (570.0, 'in-service', 'i-03', 'auto-scaling'),
    (570.0, 'register', 'i-03', 'load-balancer'),
    (605.0, 'health-check-failed', 'i-01', 'load-balancer'),
    (605.0, 'health-check-failed', 'i-02', 'load-balancer'),
    (605.0, 'health-check-failed', 'i-03', 'load-balancer'),
    (630.0, 'target-healthy', 'i-01', 'load-balancer'),
    (630.0, 'target-healthy', 'i-02', 'load-balancer'),
    (630.0, 'target-healthy', 'i-03', 'load-balancer'),
    (630.0, 'deploy-complete', 'v1', 'pipeline'),
    (1200.0, 'crash', 'i-01', 'fault'),
    (1205.0, 'health-check-failed', 'i-01', 'load-balancer'),
    (1235.0, 'health-check-failed', 'i-01', 'load-balancer'),
    (1235.0, 'target-unhealthy', 'i-01', 'load-balancer'),
    (1235.0, 'marked-unhealthy', 'i-01', 'auto-scaling'),
    (1235.0, 'terminate', 'i-01', 'auto-scaling'),
    (1235.0, 'deregister', 'i-01', 'load-balancer'),
    (1235.0, 'launch', 'i-04', 'auto-scaling'),
    (1265.0, 'in-service', 'i-04', 'auto-scaling'),
    (1265.0, 'register', 'i-04', 'load-balancer'),
    (1300.0, 'health-check-failed', 'i-04', 'load-balancer'),
    (1325.0, 'target-healthy', 'i-04', 'load-balancer'),
    (1500.0, 'commit', 'v2', 'pipeline'),
    (1500.0, 'build-start', 'v2', 'pipeline'),
    (1535.0, 'terminated', 'i-01', 'auto-scaling'),
    (1620.0, 'bake-start', 'v2', 'pipeline'),
    (2040.0, 'ami-ready', 'ami-v2', 'pipeline'),
    (2040.0, 'launch-template-version', 'v2', 'pipeline'),
    (2040.0, 'refresh-start', 'v2', 'auto-scaling'),
    (2040.0, 'refresh-batch', 'v2', 'auto-scaling'),
    (2040.0, 'terminate', 'i-02', 'auto-scaling'),
    (2040.0, 'deregister', 'i-02', 'load-balancer'),
    (2040.0, 'launch', 'i-05', 'auto-scaling'),
    (2070.0, 'in-service', 'i-05', 'auto-scaling'),
    (2070.0, 'register', 'i-05', 'load-balancer'),
    (2105.0, 'health-check-failed', 'i-05', 'load-balancer'),
    (2130.0, 'target-healthy', 'i-05', 'load-balancer'),
    (2340.0, 'terminated', 'i-02', 'auto-scaling'),
    (2370.0, 'refresh-batch', 'v2', 'auto-scaling'),
    (2370.0, 'terminate', 'i-03', 'auto-scaling'),
    (2370.0, 'deregister', 'i-03', 'load-balancer'),
    (2370.0, 'launch', 'i-06', 'auto-scaling'),
    (2400.0, 'in-service', 'i-06', 'auto-scaling'),
    (2400.0, 'register', 'i-06', 'load-balancer'),
    (2435.0, 'health-check-failed', 'i-06', 'load-balancer'),
    (2460.0, 'target-healthy', 'i-06', 'load-balancer'),
    (2670.0, 'terminated', 'i-03', 'auto-scaling'),
    (2700.0, 'refresh-batch', 'v2', 'auto-scaling'),
    (2700.0, 'terminate', 'i-04', 'auto-scaling'),
    (2700.0, 'deregister', 'i-04', 'load-balancer'),
    (2700.0, 'launch', 'i-07', 'auto-scaling'),
    (2730.0, 'in-service', 'i-07', 'auto-scaling'),
    (2730.0, 'register', 'i-07', 'load-balancer'),
    (2765.0, 'health-check-failed', 'i-07', 'load-balancer'),
    (2790.0, 'target-healthy', 'i-07', 'load-balancer'),
    (3000.0, 'terminated', 'i-04', 'auto-scaling'),
    (3030.0, 'refresh-complete', 'v2', 'auto-scaling'),
    (3030.0, 'deploy-complete', 'v2', 'pipeline'),
]


def test_default_run_gives_this_exact_trace() -> None:
    trace = run_vm(seed=0)
    assert [(e.time_s, e.kind, e.subject, e.actor) for e in trace.events] == DEFAULT_EVENTS
    assert [e.data["boot_s"] for e in trace.of_kind("launch")] == [47.5, 40.9, 36.7, 36.3, 50.6, 52.4, 46.9]
    assert list(trace.series["row_label"]) == ["pipeline v1", "i-01", "i-02", "i-03", "i-04", "pipeline v2",
                                               "i-05", "i-06", "i-07"]
    assert int(trace.series["healthy"].sum()) == 858
    assert int(trace.series["running"].sum()) == 1041


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_same_trace(seed: int) -> None:
    a, b = run_vm(seed=seed, boot_s=60.0), run_vm(seed=seed, boot_s=60.0)
    assert a.events == b.events
    for name in a.series:
        np.testing.assert_array_equal(a.series[name], b.series[name])


def test_seeds_change_boot_times_and_so_who_is_healthy_when() -> None:
    runs = [run_vm(seed=s, boot_s=60.0) for s in range(4)]
    healthy = {tuple((e.subject, e.time_s) for e in r.of_kind("target-healthy")) for r in runs}
    assert len(healthy) > 1


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("desired", [1, 3, 5])
def test_the_group_converges_to_the_desired_count(seed: int, desired: int) -> None:
    trace = run_vm(seed=seed, desired_capacity=desired, duration_s=5400.0)
    s = trace.series
    assert np.all(s["healthy"] == s["healthy_v1"] + s["healthy_v2"])
    assert np.all(s["in_service"] <= desired + refresh_batch_size(desired, 90))
    assert s["healthy"][-1] == desired and s["healthy_v2"][-1] == desired  # all on v2 at the end
    assert s["healthy"].max() <= desired + refresh_batch_size(desired, 90)
    # During the refresh, never fewer healthy than the minimum healthy percentage allows, once v1 was up.
    start = trace.first("refresh-start")
    end = trace.first("refresh-complete")
    assert start is not None and end is not None
    during = (s["time_s"] > start.time_s) & (s["time_s"] < end.time_s)
    assert s["healthy"][during].min() >= desired - refresh_batch_size(desired, 90)
    assert all(e.actor in ACTORS for e in trace.events)


@pytest.mark.parametrize(("crash", "interval", "timeout", "unhealthy"),
                         [(1200.0, 30, 5, 2), (1000.0, 10, 5, 3), (1111.0, 20, 10, 4), (1201.0, 15, 2, 2)])
def test_detection_follows_the_health_check_arithmetic(crash: float, interval: int, timeout: int,
                                                       unhealthy: int) -> None:
    trace = run_vm(crash_at_s=crash, health_check_interval_s=interval, health_check_timeout_s=timeout,
                   unhealthy_threshold=unhealthy, deploy_at_s=None, boot_jitter=0.0)
    registered = trace.first("register", "i-01")
    removed = next(e for e in trace.of_kind("target-unhealthy") if e.subject == "i-01" and e.time_s >= crash)
    assert registered is not None
    k = math.ceil((crash - registered.time_s) / interval)
    assert removed.time_s == pytest.approx(registered.time_s + (k + unhealthy - 1) * interval + timeout)
    fails = [e for e in trace.of_kind("health-check-failed") if e.subject == "i-01" and e.time_s > crash]
    assert len(fails) == unhealthy


def test_a_slow_boot_needs_the_healthy_threshold() -> None:
    fast = run_vm(boot_s=45.0, boot_jitter=0.0, crash_at_s=None, deploy_at_s=None)
    slow = run_vm(boot_s=100.0, boot_jitter=0.0, crash_at_s=None, deploy_at_s=None)
    reg = 570.0
    assert fast.first("target-healthy", "i-01").time_s == reg + 60  # one pass after one failure
    # Three failures while booting (2 make it unhealthy), then five passes in a row: checks 4..8.
    assert slow.first("target-healthy", "i-01").time_s == reg + 8 * 30
    assert slow.first("target-unhealthy", "i-01") is not None and not slow.of_kind("marked-unhealthy")


def test_no_grace_period_replaces_booting_instances_forever() -> None:
    trace = run_vm(grace_period_s=0.0, boot_s=80.0, boot_jitter=0.0, crash_at_s=None, deploy_at_s=None,
                   duration_s=1800.0)
    assert len(trace.of_kind("marked-unhealthy")) >= 3 * 8
    assert trace.series["healthy"].max() == 0
    kept = run_vm(grace_period_s=300.0, boot_s=80.0, boot_jitter=0.0, crash_at_s=None, deploy_at_s=None,
                  duration_s=1800.0)
    assert not kept.of_kind("marked-unhealthy") and kept.series["healthy"][-1] == 3


def test_ec2_health_checks_never_replace_a_dead_service() -> None:
    trace = run_vm(health_check_type="EC2", deploy_at_s=None)
    assert trace.first("target-unhealthy", "i-01") is not None
    assert not trace.of_kind("marked-unhealthy")
    assert trace.series["healthy"][-1] == 2
    assert trace.series["in_service"][-1] == 3  # the group still counts the VM with the dead service


def test_crashed_but_healthy_targets_are_counted_as_serving_errors() -> None:
    trace = run_vm()
    s = trace.series
    at = (s["time_s"] >= 1200) & (s["time_s"] < 1235)  # a step shows the state after its own events
    assert np.all(s["serving_errors"][at] == 1)
    assert s["serving_errors"].sum() == at.sum()


def test_segments_cover_each_row_in_time_order() -> None:
    trace = run_vm()
    s = trace.series
    assert len(s["segment_row"]) == len(s["segment_phase"]) == len(s["segment_start_s"])
    assert np.all(s["segment_end_s"] >= s["segment_start_s"])
    for row in range(len(s["row_label"])):
        mine = s["segment_row"] == row
        starts, ends = s["segment_start_s"][mine], s["segment_end_s"][mine]
        assert np.all(starts[1:] >= ends[:-1] - 1e-9)
    pipeline = s["segment_phase"][s["segment_row"] == 0].tolist()
    assert pipeline == [Phase.BUILD, Phase.BAKE]
    i01 = s["segment_phase"][s["segment_row"] == 1].tolist()
    assert i01 == [Phase.PENDING, Phase.BOOTING, Phase.HEALTHY, Phase.FAILING, Phase.UNHEALTHY, Phase.DRAINING]


@pytest.mark.parametrize(("desired", "pct", "batch"), [(3, 90, 1), (10, 90, 1), (20, 90, 2), (10, 50, 5), (4, 100, 1), (5, 0, 5)])
def test_refresh_batch_size(desired: int, pct: int, batch: int) -> None:
    assert refresh_batch_size(desired, pct) == batch


def test_a_bigger_batch_deploys_faster() -> None:
    slow = run_vm(desired_capacity=4, min_healthy_percentage=90)
    fast = run_vm(desired_capacity=4, min_healthy_percentage=50)
    def took(trace):
        return next(e for e in trace.of_kind("deploy-complete") if e.subject == "v2").data["seconds_since_commit"]
    assert took(fast) < took(slow)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"desired_capacity": 0}, "desired_capacity must be at least 1"),
    ({"instance_type": "m5.lrage"}, "instance_type must be one of"),
    ({"health_check_interval_s": 3}, "health_check_interval_s must be at least 5"),
    ({"health_check_timeout_s": 30}, "must be less than health_check_interval_s"),
    ({"unhealthy_threshold": 1}, "unhealthy_threshold must be at least 2"),
    ({"health_check_type": "ALB"}, "health_check_type must be 'ELB' or 'EC2'"),
    ({"crash_at_s": 9999}, "crash_at_s must be at most 3600"),
    ({"crash_instance": 3}, "crash_instance must be at most 2"),
    ({"colour": "red"}, "unknown parameter"),
])
def test_bad_parameters_get_clear_messages(overrides: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        run_vm(**overrides)


def test_packing_default_workload() -> None:
    result = run_packing()
    assert isinstance(result, Result) and result.model == "vm-packing"  # no time axis: not a Trace
    assert "time_s" not in result.values and result.computed == {}
    s = result.values
    assert list(s["type"][:3]) == ["m5.large", "c5.large", "c5.xlarge"]
    assert list(s["count"][:3]) == [3, 4, 2]
    np.testing.assert_allclose(s["usd_per_hour"][:3], [0.288, 0.34, 0.34])
    assert np.all(np.diff(s["usd_per_hour"]) >= 0)


@pytest.mark.parametrize(("vcpu", "mem", "least"), [(5.0, 12.0, 2), (0.5, 1.0, 3), (14.0, 10.0, 2), (1.0, 30.0, 1)])
def test_packing_properties(vcpu: float, mem: float, least: int) -> None:
    s = run_packing(need_vcpu=vcpu, need_memory_gib=mem, min_instances=least).values
    assert len(s["type"]) == len(INSTANCE_TYPES)
    assert np.all(s["count"] >= least)
    assert np.all(s["vcpu_idle"] >= -1e-9) and np.all(s["memory_idle_gib"] >= -1e-9)
    np.testing.assert_allclose(s["vcpu_used"] + s["vcpu_os"] + s["vcpu_idle"], s["vcpu_total"])
    np.testing.assert_allclose(s["memory_used_gib"] + s["memory_os_gib"] + s["memory_idle_gib"], s["memory_total_gib"])
    # One instance fewer of any type would not carry the workload (unless the minimum holds it up).
    types = {t.name: t for t in INSTANCE_TYPES}
    for name, count in zip(s["type"], s["count"], strict=True):
        t = types[str(name)]
        if count > least:
            fewer = count - 1
            assert fewer * (t.vcpu - 0.25) < vcpu - 1e-9 or fewer * (t.memory_gib - 0.75) < mem - 1e-9


def test_packing_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="need_vcpu must be greater than 0"):
        run_packing(need_vcpu=0)
    with pytest.raises(ParameterError, match="unknown parameter"):
        run_packing(cpus=3)
