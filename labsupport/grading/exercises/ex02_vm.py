"""Lesson 02 exercises. Expected values come from the models, never from a table of answers."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.catalogue import INSTANCE_TYPES, instance_type
from labsupport.sim.vm import PackingParams, VmParams, run_packing, run_vm

# ---- 02.serving_again_at_s -------------------------------------------------------------------------------


def _model_serving_again(crash_at_s: float, p: VmParams) -> tuple[float, float]:
    """(when the first instance registered, when its replacement became healthy) in the model."""
    trace = run_vm(replace(p, crash_at_s=crash_at_s, crash_instance=0, deploy_at_s=None, boot_jitter=0.0,
                           duration_s=max(p.duration_s, crash_at_s + 1800.0)))
    registered = trace.first("register", "i-01")
    marked = trace.first("marked-unhealthy", "i-01")
    assert registered is not None and marked is not None, "the model did not replace the crashed instance"
    replacement = next(e.subject for e in trace.of_kind("launch") if e.time_s >= marked.time_s)
    healthy = trace.first("target-healthy", replacement)
    assert healthy is not None
    return registered.time_s, healthy.time_s


_CASES_LESSON = ((1200.0, VmParams()),)
_CASES_OTHER = (
    (1000.0, VmParams(health_check_interval_s=10, health_check_timeout_s=5, unhealthy_threshold=3)),
    (1111.0, VmParams(health_check_interval_s=20, health_check_timeout_s=10, unhealthy_threshold=4, launch_s=40.0,
                      boot_s=25.0)),
    (900.0, VmParams(build_s=60.0, bake_s=300.0, launch_s=20.0, boot_s=12.0, health_check_interval_s=15)),
)
_CASES_SLOW_BOOT = (
    (1200.0, VmParams(boot_s=100.0)),
    (1500.0, VmParams(health_check_interval_s=20, health_check_timeout_s=6, boot_s=75.0, healthy_threshold=3)),
)


def _serving_cases(cases: tuple[tuple[float, VmParams], ...]) -> Any:
    def test(answer: Any) -> None:
        for crash, p in cases:
            registered, expected = _model_serving_again(crash, p)
            got = answer(crash, registered, replace(p, boot_jitter=0.0))
            if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(got)):
                raise Wrong(f"serving_again_at_s must return a number of seconds; it returned {got!r}")
            if not math.isclose(float(got), expected, abs_tol=1e-6):
                settings = (f"checks every {p.health_check_interval_s} s with a {p.health_check_timeout_s} s timeout, "
                            f"unhealthy after {p.unhealthy_threshold}, healthy again after {p.healthy_threshold}, "
                            f"launch {p.launch_s:g} s, boot {p.boot_s:g} s")
                direction = "early" if got < expected else "late"
                raise Wrong(f"for a crash at {crash:g} s on an instance registered at {registered:g} s ({settings}), "
                            f"your function says {float(got):g} s, which is too {direction}",
                            "Walk the timeline: the first check at or after the crash; the failures a timeout after "
                            "each check; the launch; the replacement's registration; its checks every interval from "
                            "there. Did it fail enough checks while booting to become unhealthy first?")
    return test


@exercise("02.serving_again_at_s", "when a replacement instance serves again",
          expects="a function serving_again_at_s(crash_at_s, registered_at_s, p) that returns seconds",
          accepts=callable)
def _serving_again_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's settings", 1, _serving_cases(_CASES_LESSON)),
        PublicTest("other health-check settings", 2, _serving_cases(_CASES_OTHER)),
        PublicTest("a replacement that boots slower than its checks", 2, _serving_cases(_CASES_SLOW_BOOT)),
    ]


# ---- 02.cheapest -----------------------------------------------------------------------------------------

_TYPE_NAMES = tuple(t.name for t in INSTANCE_TYPES)


def _cheapest_cases(cases: tuple[tuple[float, float, int], ...]) -> Any:
    def test(answer: Any) -> None:
        os = PackingParams()
        for need_vcpu, need_mem, min_instances in cases:
            got = answer(need_vcpu, need_mem, min_instances)
            where = f"for {need_vcpu:g} vCPU, {need_mem:g} GiB and at least {min_instances} instance(s)"
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise Wrong(f"{where}, cheapest returned {got!r}; it must return a pair (type_name, count)",
                            "For example: return ('m5.large', 3)")
            name, count = got
            if name not in _TYPE_NAMES:
                raise Wrong(f"{where}, {name!r} is not one of the lesson's instance types",
                            f"Use a name from INSTANCE_TYPES: {', '.join(_TYPE_NAMES)}.")
            if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
                raise Wrong(f"{where}, the count must be a whole number; got {count!r}")
            t = instance_type(name)
            usable_cpu = count * (t.vcpu - os.os_vcpu)
            usable_mem = count * (t.memory_gib - os.os_memory_gib)
            if count < min_instances:
                raise Wrong(f"{where}, {count} × {name} is fewer instances than the minimum")
            if usable_cpu + 1e-9 < need_vcpu or usable_mem + 1e-9 < need_mem:
                short = "vCPUs" if usable_cpu + 1e-9 < need_vcpu else "memory"
                raise Wrong(f"{where}, {count} × {name} does not have enough {short} once each VM's operating "
                            f"system has taken its share",
                            f"Each VM loses {os.os_vcpu} vCPU and {os.os_memory_gib} GiB to its OS.")
            best = float(run_packing(need_vcpu=need_vcpu, need_memory_gib=need_mem,
                                     min_instances=min_instances).values["usd_per_hour"][0])
            price = count * t.usd_per_hour  # of the learner's choice; the cheapest comes from the model
            if price > best + 1e-9:
                raise Wrong(f"{where}, {count} × {name} carries the workload for ${price:.3f}/h, but a cheaper "
                            "choice exists",
                            "Try every type: for each, the count is the largest of the minimum, the count the "
                            "vCPUs need and the count the memory needs; then compare the prices.")
    return test


@exercise("02.cheapest", "the cheapest instance type and count for a workload",
          expects="a function cheapest(need_vcpu, need_memory_gib, min_instances) that returns (type_name, count)",
          accepts=callable)
def _cheapest_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's workload", 1, _cheapest_cases(((5.0, 12.0, 2),))),
        PublicTest("memory-heavy and CPU-heavy workloads", 2, _cheapest_cases(((1.0, 30.0, 2), (14.0, 10.0, 2)))),
        PublicTest("small workloads and larger minimums", 1, _cheapest_cases(((0.5, 1.0, 3), (3.0, 3.0, 1)))),
    ]
