"""Lesson 04 exercises. Expected values come from the models, never from a table of answers."""

from __future__ import annotations

import math
from typing import Any

from labsupport.grading._choices import choice_map_tests
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.kubernetes import ACTORS, run_cluster

# ---- 04.who_acts -------------------------------------------------------------------------------------------

WHO_ACTS_EVENTS = ("apply", "create-pod", "bind", "pod-ready", "program-rules", "mark-not-ready")


def _actors() -> dict[str, str]:
    trace = run_cluster()
    return {kind: trace.first(kind).actor for kind in WHO_ACTS_EVENTS}  # type: ignore[union-attr]


@exercise("04.who_acts", "which Kubernetes component acts",
          expects=f"a dict mapping each of {', '.join(WHO_ACTS_EVENTS)} to a component name",
          accepts=lambda a: isinstance(a, dict))
def _who_acts_tests() -> list[PublicTest]:
    return choice_map_tests(
        WHO_ACTS_EVENTS, ACTORS, _actors, keys_word="events", not_a="not a component of the model",
        form_name="every event has one of the five components", right_name="every event has the right component",
        wrong_phrase="are given to the wrong component",
        hint="Ask whose job each one is: storing what users asked for, reconciling objects, choosing a "
             "node, running containers on a node, or forwarding Service traffic.")


# ---- 04.last_old_pod_stops_s -------------------------------------------------------------------------------



def _model_last_old_stop(replicas: int, max_unavailable: int | str, pod_start_s: int) -> float:
    """When the model's rolling update (maxSurge 0, started at 0 s) deletes its last old pod."""
    rollout_at = 10.0
    trace = run_cluster(replicas=replicas, max_surge=0, max_unavailable=max_unavailable, pod_start_s=pod_start_s,
                        kill_node=None, scale_to=None, rollout_at_s=rollout_at,
                        duration_s=rollout_at + (replicas + 2) * (pod_start_s + 3),
                        nodes=8, node_cpu_m=64000, node_memory_mi=262144)  # room for every pod: only the settings count
    return max(e.time_s for e in trace.of_kind("delete-pod")) - rollout_at


def _number(name: str, got: Any) -> float:
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
        raise Wrong(f"{name} must return a number; it returned {got!r}")
    return float(got)


def _last_old_cases(cases: tuple[tuple[int, int | str, int], ...], hint: str) -> Any:
    def test(answer: Any) -> None:
        for replicas, unavailable, start in cases:
            got = _number("last_old_pod_stops_s", answer(replicas, unavailable, start))
            want = _model_last_old_stop(replicas, unavailable, start)
            if not math.isclose(got, want, abs_tol=1e-6):
                raise Wrong(f"for replicas={replicas}, maxUnavailable={unavailable!r}, pods ready after {start} s "
                            f"your function says {got:g} s, which is not when the model deletes its last old pod",
                            hint)
    return test


@exercise("04.last_old_pod_stops_s", "when the last old pod of a rolling update stops",
          expects="a function last_old_pod_stops_s(replicas, max_unavailable, pod_start_s) that returns seconds",
          accepts=callable)
def _last_old_tests() -> list[PublicTest]:
    return [
        PublicTest("maxUnavailable a whole number", 1, _last_old_cases(
            ((4, 1, 4), (6, 2, 4), (7, 2, 3)),
            "Count the batches first: how many batches of maxUnavailable pods does it take to replace them all? "
            "The last old pod stops when the last batch starts, not when the rollout ends.")),
        PublicTest("maxUnavailable a percentage", 2, _last_old_cases(
            ((10, "25%", 2), (5, "50%", 6), (6, "10%", 4), (3, "100%", 5)),
            "A percentage of maxUnavailable is rounded down; if that leaves 0 pods with maxSurge 0, Kubernetes "
            "lets 1 pod be unavailable.")),
    ]


# ---- 04.pending_after_node_dies ----------------------------------------------------------------------------

def _model_pending(nodes: int, replicas: int, node_cpu_m: int, node_memory_mi: int, pod_cpu_m: int,
                   pod_memory_mi: int) -> int:
    """Pods left Pending once node-0 has died and its pods were evicted and replaced."""
    trace = run_cluster(nodes=nodes, replicas=replicas, node_cpu_m=node_cpu_m, node_memory_mi=node_memory_mi,
                        pod_cpu_m=pod_cpu_m, pod_memory_mi=pod_memory_mi, kill_node=0, kill_at_s=10.0,
                        scale_to=None, rollout_at_s=None, duration_s=100.0)
    return int(trace.series["pending"][-1])


PendingCase = tuple[int, int, int, int, int, int]


def _pending_cases(cases: tuple[PendingCase, ...], hint: str) -> Any:
    def test(answer: Any) -> None:
        for case in cases:
            got = _number("pending_after_node_dies", answer(*case))
            want = _model_pending(*case)
            if got != want:
                nodes, replicas, cpu, mem, pod_cpu, pod_mem = case
                raise Wrong(f"for {nodes} nodes of {cpu} m CPU and {mem} Mi, and {replicas} pods requesting "
                            f"{pod_cpu} m and {pod_mem} Mi, your function says {got:g} Pending, but the model "
                            f"leaves {want} Pending", hint)
    return test


@exercise("04.pending_after_node_dies", "how many pods stay Pending after a node dies",
          expects="a function pending_after_node_dies(nodes, replicas, node_cpu_m, node_memory_mi, pod_cpu_m, "
                  "pod_memory_mi) that returns a number of pods", accepts=callable)
def _pending_tests() -> list[PublicTest]:
    return [
        PublicTest("CPU is what runs out", 1, _pending_cases(
            ((3, 12, 2000, 4096, 500, 256), (4, 10, 1000, 4096, 300, 256), (3, 4, 2000, 4096, 250, 256)),
            "How many pods fit on one node? A pod fits only whole; then count the nodes that are left.")),
        PublicTest("memory can run out first", 2, _pending_cases(
            ((3, 12, 2000, 1024, 250, 300), (2, 5, 2000, 4096, 600, 1024), (5, 20, 4000, 2048, 500, 512)),
            "A pod needs room for both of its requests: a node holds as many as the scarcer resource allows.")),
    ]
