"""Lesson 01's models: one machine with no caps (exact trace, properties) and placement (bin packing)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.packaging import (
    DEFAULT_MEMORY_MB,
    first_fit,
    oom_kill_order,
    optimal_packing,
    run_machine,
    run_placement,
)

DEFAULT_EVENTS = [
    (0.0, "start", "instance-0", "operator"),
    (0.0, "start", "instance-1", "operator"),
    (0.0, "start", "instance-2", "operator"),
    (0.0, "start", "instance-3", "operator"),
    (30.0, "misbehave", "instance-0", "fault"),
    (79.0, "swapping", "machine", "kernel"),
    (105.0, "oom-kill", "instance-0", "kernel"),
    (105.0, "swapping-stopped", "machine", "kernel"),
]


def test_default_run_gives_this_exact_trace() -> None:
    trace = run_machine(seed=0)
    assert [(e.time_s, e.kind, e.subject, e.actor) for e in trace.events] == DEFAULT_EVENTS
    s = trace.series
    assert float(s["requests"].sum()) == 19567.0
    assert float(s["latency_s"][:30].mean()) == pytest.approx(0.053087, abs=1e-6)
    assert float(s["failed_share"].sum()) == pytest.approx(46.897071, abs=1e-5)
    assert trace.first("oom-kill").data["rss_mb"] == 900 + 75 * 80  # its own 900 MB plus 75 s of leak


@pytest.mark.parametrize("seed", range(5))
def test_same_seed_same_trace_other_seed_other_requests(seed: int) -> None:
    a, b = run_machine(seed=seed), run_machine(seed=seed)
    assert a.events == b.events
    for name in a.series:
        np.testing.assert_array_equal(a.series[name], b.series[name])
    assert not np.array_equal(a.series["requests"], run_machine(seed=seed + 100).series["requests"])


@pytest.mark.parametrize("seed", range(4))
def test_a_noisy_neighbour_slows_everyone_not_just_itself(seed: int) -> None:
    s = run_machine(seed=seed, leak_mb_per_s=0.0).series
    before = np.nanmean(s["latency_s"][10:30], axis=0)
    after = np.nanmean(s["latency_s"][40:60], axis=0)
    assert np.all(after > 2 * before)  # every instance, the quiet ones too
    quiet = run_machine(seed=seed, leak_mb_per_s=0.0, burn_cores=0.0).series
    assert np.nanmean(quiet["latency_s"][40:60]) < np.nanmean(s["latency_s"][40:60]) / 2


@pytest.mark.parametrize("seed", range(3))
def test_memory_accounting_and_conservation(seed: int) -> None:
    trace = run_machine(seed=seed)
    s, p = trace.series, trace.params
    np.testing.assert_allclose(s["memory_used_mb"], s["memory_mb"].sum(axis=1))
    assert np.all(s["memory_used_mb"] <= p["memory_mb"] + p["swap_mb"])  # the OOM killer keeps it in bounds
    np.testing.assert_array_equal(s["memory_mb"][~s["alive"]], 0.0)
    assert np.all(s["cpu_used_cores"].sum(axis=1) <= p["cpu_cores"] + 1e-9)
    assert np.all(s["cpu_used_cores"] <= s["cpu_demand_cores"] + 1e-12)
    np.testing.assert_array_equal(s["failed_share"][~s["alive"]], 1.0)
    assert np.all((s["failed_share"] >= 0) & (s["failed_share"] <= 1))
    swapping = s["swap_used_mb"] > 0
    assert np.all(s["memory_used_mb"][swapping] > p["memory_mb"])


@pytest.mark.parametrize(("sizes", "leaker", "expected"), [
    ((1200.0, 900.0, 2600.0, 800.0), 1, ["instance-2", "instance-1"]),  # an innocent, larger process goes first
    ((1200.0, 900.0, 1000.0, 800.0), 1, ["instance-1"]),  # the leaker is the largest: only it goes
    ((3000.0, 2900.0, 500.0, 500.0), 3, ["instance-0", "instance-3"]),
])
def test_the_oom_killer_ends_the_largest_process_each_time(sizes, leaker, expected) -> None:
    trace = run_machine(instances=4, memory_mb=6144.0, swap_mb=1024.0, instance_memory_mb=sizes,
                        noisy_instance=leaker, noise_at_s=10.0, burn_cores=0.0, leak_mb_per_s=60.0, duration_s=300.0)
    assert oom_kill_order(trace) == expected
    for event in trace.of_kind("oom-kill"):  # at each kill, the victim held the most memory of those alive
        k = int(event.time_s)
        rss_before = np.array([sizes[i] + (60.0 * (k - 10) if i == leaker else 0.0) for i in range(4)])
        alive_before = trace.series["alive"][k - 1]
        assert event.data["rss_mb"] == pytest.approx(rss_before[alive_before].max())


def test_a_shared_application_server_takes_every_service_down() -> None:
    separate, shared = run_machine(seed=2), run_machine(seed=2, shared_server=True)
    assert separate.series["alive"][-1].sum() == 3
    assert shared.series["alive"][-1].sum() == 0
    assert oom_kill_order(shared) == ["app-server"]
    assert len(shared.of_kind("service-down")) == 4
    crash = run_machine(seed=2, shared_server=True, crash_at_s=50, leak_mb_per_s=0.0)
    assert crash.first("crash").time_s == 50 and not crash.series["alive"][50:].any()
    alone = run_machine(seed=2, crash_at_s=50, leak_mb_per_s=0.0)
    assert alone.series["alive"][60].tolist() == [False, True, True, True]


def test_no_misbehaviour_no_failures() -> None:
    s = run_machine(seed=1, burn_cores=0.0, leak_mb_per_s=0.0).series
    assert s["alive"].all() and s["failed_share"].max() < 1e-4
    assert run_machine(instances=8).params["instance_memory_mb"] == DEFAULT_MEMORY_MB


@pytest.mark.parametrize(("overrides", "message"), [
    ({"instances": 0}, "instances must be at least 1"),
    ({"instances": 9}, "instances must be at most 8"),
    ({"noisy_instance": 4}, "noisy_instance must be at most 3"),
    ({"instance_memory_mb": (100.0,)}, "one number per instance"),
    ({"instance_memory_mb": (100.0, -1.0, 1.0, 1.0)}, r"instance_memory_mb\[1\] must be greater than 0"),
    ({"cpu_cores": "4"}, "cpu_cores must be a number"),
    ({"shared_server": "yes"}, "shared_server must be True or False"),
    ({"noise_at_s": 500}, "noise_at_s must be at most 120"),
    ({"cores": 4}, "unknown parameter"),
])
def test_bad_parameters_get_clear_messages(overrides: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        run_machine(**overrides)


# ---- placement ----------------------------------------------------------------------------------------------

def _brute_force_fewest(sizes: list[float], capacity: float) -> int:
    n = len(sizes)
    for machines in range(1, n + 1):
        for assignment in itertools.product(range(machines), repeat=n):
            loads = np.zeros(machines)
            np.add.at(loads, list(assignment), sizes)
            if np.all(loads <= capacity):
                return machines
    return n


def _valid(packing, sizes, capacity) -> bool:
    placed = sorted(i for machine in packing for i in machine)
    return placed == list(range(len(sizes))) and all(sum(sizes[i] for i in m) <= capacity for m in packing)


def test_first_fit_follows_the_rule() -> None:
    assert first_fit([5, 4, 4, 3, 2, 2], 10) == ((0, 1), (2, 3, 4), (5,))
    assert first_fit([5, 4, 4, 3, 2, 2], 10, decreasing=True) == ((0, 1), (2, 3, 4), (5,))
    assert first_fit([2, 5, 4, 4, 3, 2], 10) == ((0, 1, 4), (2, 3, 5))
    assert len(optimal_packing([5, 4, 4, 3, 2, 2], 10)) == 2  # first-fit decreasing misses this one


@pytest.mark.parametrize("seed", range(12))
def test_optimal_packing_is_valid_and_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = [float(s) for s in rng.choice([1, 2, 3, 4, 5, 6], size=7)]
    best = optimal_packing(sizes, 8)
    assert _valid(best, sizes, 8) and _valid(first_fit(sizes, 8), sizes, 8)
    assert len(best) == _brute_force_fewest(sizes, 8)
    assert math.ceil(sum(sizes) / 8) <= len(best) <= len(first_fit(sizes, 8, decreasing=True)) <= len(first_fit(sizes, 8))


def test_run_placement_result() -> None:
    result = run_placement(seed=3)
    s = result.values
    assert len(s["size_mb"]) == 10 and result.params["capacity_mb"] == 4096
    for rule in ("first_fit", "first_fit_decreasing", "best"):
        machine_of = s[f"machine_{rule}"]
        loads = np.bincount(machine_of, weights=s["size_mb"])
        assert np.all(loads <= 4096)
        assert result.computed["machines"][rule] == machine_of.max() + 1
    assert run_placement([1000, 3000, 96], capacity_mb=4096).computed["machines"]["best"] == 1


@pytest.mark.parametrize(("sizes", "capacity", "message"), [
    ([5000], 4096, "need more than one machine"),
    ([100, "big"], 4096, r"sizes_mb\[1\] must be a number"),
    ("100", 4096, "must be a list of numbers"),
    ([100], 0, "capacity_mb must be greater than 0"),
])
def test_placement_rejects_bad_input(sizes, capacity, message) -> None:
    with pytest.raises(ParameterError, match=message):
        first_fit(sizes, capacity)
    with pytest.raises(ParameterError, match="at most 16"):
        optimal_packing([1.0] * 17, 10)
