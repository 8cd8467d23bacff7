"""Lesson 03's models: the layer cache, containers with cgroup limits on a VM, packing. Exact traces and properties."""

from __future__ import annotations

import numpy as np
import pytest

from labsupport.sim import ParameterError
from labsupport.sim.containers import (
    BACKOFF_MAX_S,
    CACHE_CHECK_S,
    BuildStep,
    HostParams,
    copies_changed,
    first_invalidated,
    oom_kills,
    pack_containers,
    restart_delay_s,
    run_build,
    run_host,
)
from labsupport.sim.packaging import run_machine

STEPS = [
    BuildStep("FROM", "python:3.12-slim", 8.0, 125.0),
    BuildStep("WORKDIR", "/app", 0.05),
    BuildStep("COPY", "requirements.txt .", 0.1, 0.01, ("requirements.txt",)),
    BuildStep("RUN", "pip install -r requirements.txt", 25.0, 40.0),
    BuildStep("COPY", "src/ src/", 0.2, 0.1, ("src/",)),
    BuildStep("CMD", '["python", "-m", "app"]', 0.05),
]


# ---- build cache ----------------------------------------------------------------------------------------

def test_a_source_change_reuses_everything_before_the_copy_of_the_source() -> None:
    trace = run_build(STEPS, ["src/app.py"])
    assert [(e.kind, e.subject) for e in trace.events] == [
        ("cache-hit", "step 1"), ("cache-hit", "step 2"), ("cache-hit", "step 3"), ("cache-hit", "step 4"),
        ("run", "step 5"), ("run", "step 6"), ("image-ready", "image")]
    assert trace.computed["first_rebuilt"] == 4
    assert trace.computed["total_s"] == pytest.approx(4 * CACHE_CHECK_S + 0.2 + 0.05)
    assert trace.computed["rebuilt_mb"] == pytest.approx(0.1)  # CMD adds no layer
    assert trace.series["step_reused"].tolist() == [True, True, True, True, False, False]


def test_a_requirements_change_reruns_the_install_and_everything_after() -> None:
    trace = run_build(STEPS, ["requirements.txt"])
    assert trace.computed["first_rebuilt"] == 2
    assert trace.computed["total_s"] == pytest.approx(2 * CACHE_CHECK_S + 0.1 + 25.0 + 0.2 + 0.05)


def test_an_edited_instruction_invalidates_it_and_every_later_step() -> None:
    trace = run_build(STEPS, edited=[1])
    assert trace.series["step_reused"].tolist() == [True, False, False, False, False, False]
    assert run_build(STEPS).computed["first_rebuilt"] is None  # nothing changed: all reused
    assert run_build(STEPS, cache=False).computed["total_s"] == pytest.approx(sum(s.build_s for s in STEPS))


def test_copy_matching() -> None:
    everything = BuildStep("COPY", ". .", sources=(".",))
    assert copies_changed(everything, ["README.md"]) and copies_changed(everything, ["./a/b.py"])
    folder = BuildStep("COPY", "src/ /app/src", sources=("./src/",))
    assert copies_changed(folder, ["src/x.py"]) and not copies_changed(folder, ["srcs/x.py"])
    assert copies_changed(BuildStep("ADD", "*.txt .", sources=("*.txt",)), ["req.txt"])
    assert not copies_changed(BuildStep("RUN", "cat src/x.py"), ["src/x.py"])  # RUN keys on its text only


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_build_properties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = [BuildStep("FROM", "x:1", 5.0, 100.0)] + [
        BuildStep("COPY", f"f{i} .", float(rng.uniform(0, 3)), 1.0, (f"f{i}",)) for i in range(6)]
    changed = [f"f{int(i)}" for i in rng.choice(6, size=2, replace=False)]
    trace = run_build(steps, changed)
    first = min(int(c[1:]) for c in changed) + 1
    reused = trace.series["step_reused"]
    assert reused.tolist() == [i < first for i in range(len(steps))]
    assert np.all(np.diff(trace.series["step_start_s"]) >= 0)
    assert trace.computed["total_s"] <= run_build(steps, cache=False).computed["total_s"] + 1e-9


def test_build_rejects_bad_input() -> None:
    with pytest.raises(ParameterError, match="at least one build step"):
        run_build([])
    with pytest.raises(ParameterError, match="must be a BuildStep"):
        run_build(["FROM x"])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="changed_files"):
        first_invalidated(STEPS, [3])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="edited step"):
        run_build(STEPS, edited=[9])


# ---- containers on a VM ---------------------------------------------------------------------------------

DEFAULT_EVENTS = [
    (0.0, "start", "container-0"), (0.0, "start", "container-1"), (0.0, "start", "container-2"),
    (0.0, "start", "container-3"), (20.0, "misbehave", "container-0"),
    (52.0, "oom-kill", "container-0"), (52.1, "restart", "container-0"), (53.1, "ready", "container-0"),
    (81.5, "oom-kill", "container-0"), (81.6, "restart", "container-0"), (82.6, "ready", "container-0"),
    (113.5, "oom-kill", "container-0"), (113.6, "restart", "container-0"), (114.6, "ready", "container-0"),
]


def test_default_host_trace_is_exact() -> None:
    trace = run_host(seed=0)
    assert [(e.time_s, e.kind, e.subject) for e in trace.events] == DEFAULT_EVENTS
    kill = trace.first("oom-kill")
    assert kill is not None and kill.actor == "kernel" and kill.data["scope"] == "cgroup"
    assert kill.data["exit_code"] == 137


@pytest.mark.parametrize("seed", [0, 1, 5, 11])
def test_the_limit_contains_the_leak_and_neighbours_never_notice(seed: int) -> None:
    trace = run_host(seed=seed)
    s = trace.series
    assert {name for _, name in oom_kills(trace)} == {"container-0"}
    assert s["alive"][:, 1:].all()  # the neighbours serve throughout
    assert (s["memory_mb"] <= 512.0 + 10 * 0.5 + 1e-9).all()  # at most one step of leak over the limit
    assert not s["throttled"][:, 1:].any() and s["throttled"][:, 0].any()  # the CPU burner hits its own quota
    calm = run_host(seed=seed, leak_mb_per_s=0.0, burn_cores=0.0).series
    assert np.array_equal(s["latency_s"][:, 1:], calm["latency_s"][:, 1:])  # exactly as without the noisy one
    assert run_host(seed=seed).events == trace.events  # reruns are identical


def test_without_limits_the_noisy_container_hurts_everyone() -> None:
    trace = run_host(memory_limit_mb=None, cpu_limit_cores=None, leak_mb_per_s=100.0)
    kill = trace.first("oom-kill")
    assert kill is not None and kill.data["scope"] == "vm"  # the whole VM ran out first
    assert kill.time_s > 60  # with no limit the leak runs much longer before anything stops it
    assert np.nanmax(trace.series["latency_s"][:, 1:]) > 0.2  # neighbours starved of CPU


def test_without_limits_the_vm_oom_killer_may_pick_a_neighbour() -> None:
    """Lesson 01's lesson, in this model: the kernel kills the largest process, not the leaking one."""
    trace = run_host(memory_limit_mb=None, cpu_limit_cores=None, leak_mb_per_s=0.0, burn_cores=0.0,
                     containers=3, vm_memory_mb=1024.0, os_memory_mb=300.0, base_memory_mb=250.0,
                     gc_swing_mb=60.0)
    assert all(e.data["scope"] == "vm" for e in trace.of_kind("oom-kill"))
    old = run_machine(instances=2, leak_mb_per_s=0.0, burn_cores=0.0)  # the same machine model has no limits
    assert not old.of_kind("oom-kill")


def test_restart_policies_and_backoff() -> None:
    assert [restart_delay_s(n) for n in range(4)] == [0.1, 0.2, 0.4, 0.8]
    assert restart_delay_s(30) == BACKOFF_MAX_S
    never = run_host(restart_policy="no")
    assert not never.of_kind("restart") and not never.series["alive"][-1, 0]
    # a limit below what the service needs to run: killed at every start, waiting longer each time
    crashloop = run_host(memory_limit_mb=150.0, leak_mb_per_s=0.0, burn_cores=0.0, duration_s=60.0)
    waits = [e.data["waited_s"] for e in crashloop.of_kind("restart") if e.subject == "container-1"]
    assert waits[:4] == [0.1, 0.2, 0.4, 0.8] and waits == sorted(waits)


def test_host_rejects_bad_settings() -> None:
    with pytest.raises(ParameterError, match="restart_policy must be one of"):
        run_host(restart_policy="sometimes")
    with pytest.raises(ParameterError, match="memory_limit_mb must be at least 6"):
        run_host(memory_limit_mb=1)
    with pytest.raises(ParameterError, match="leaky_container must be at most 1"):
        run_host(containers=2, leaky_container=3)
    with pytest.raises(ParameterError, match="unknown parameter"):
        run_host(memory_mb=3)
    assert HostParams().validated() == HostParams()


# ---- packing --------------------------------------------------------------------------------------------

def test_packing_many_containers_on_few_vms_costs_less_than_a_vm_each() -> None:
    packed = pack_containers([512.0] * 6 + [1024.0] * 4 + [256.0] * 4, vm_type="m5.large")
    assert packed.computed["vms_best"] == 2 == packed.computed["machines"]["best"]
    assert packed.computed["usd_per_hour"] == pytest.approx(0.192)
    assert packed.computed["vm_per_instance_usd_per_hour"] == pytest.approx(14 * 0.085)  # c5.large each
    assert set(packed.params) == {"sizes_mb", "capacity_mb", "vm_type", "os_memory_mb"}  # inputs only
    with pytest.raises(ParameterError, match="instance_type must be one of"):
        pack_containers([512.0], vm_type="m5.huge")
