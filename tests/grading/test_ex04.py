"""Lesson 04's exercises: common wrong answers fail with a useful message (solutions: test_every_exercise.py)."""

from __future__ import annotations

import math

from labsupport.grading import Status, check, lesson_exercises


def test_lesson_exercises() -> None:
    assert [ex.id for ex in lesson_exercises("04")] == [
        "04.last_old_pod_stops_s", "04.pending_after_node_dies", "04.who_acts"]


def test_who_acts_wrong_answers() -> None:
    right = {"apply": "api-server", "create-pod": "controller-manager", "bind": "scheduler",
             "pod-ready": "kubelet", "program-rules": "kube-proxy", "mark-not-ready": "controller-manager"}
    assert check("04.who_acts", right).status is Status.PASSED
    swapped = check("04.who_acts", {**right, "bind": "controller-manager", "create-pod": "scheduler"})
    assert "2 of 6 events" in str(swapped) and "api-server" not in str(swapped)
    unknown = check("04.who_acts", {**right, "apply": "etcd"})
    assert "not a component of the model: etcd" in str(unknown)
    assert "have no answer: bind" in str(check("04.who_acts", {k: v for k, v in right.items() if k != "bind"}))


def _batch(replicas, unavailable):
    if isinstance(unavailable, str):
        return max(1, math.floor(replicas * int(unavailable[:-1]) / 100))
    return unavailable


def test_last_old_pod_right_answer_passes() -> None:
    def right(replicas, unavailable, start):
        return (math.ceil(replicas / _batch(replicas, unavailable)) - 1) * (start + 2)

    assert check("04.last_old_pod_stops_s", right).status is Status.PASSED


def test_last_old_pod_wrong_answers() -> None:
    def when_rollout_ends(replicas, unavailable, start):  # counts the last batch too
        return math.ceil(replicas / _batch(replicas, unavailable)) * (start + 2)

    result = check("04.last_old_pod_stops_s", when_rollout_ends)
    assert result.points == 0 and "last batch starts" in str(result)

    def no_reaction_time(replicas, unavailable, start):  # forgets the two one-second steps of the controller
        return (math.ceil(replicas / _batch(replicas, unavailable)) - 1) * start

    assert check("04.last_old_pod_stops_s", no_reaction_time).points == 0

    def no_fencepost(replicas, unavailable, start):  # "10%" of 6 is 0 pods: divides by zero
        batch = math.floor(replicas * int(unavailable[:-1]) / 100) if isinstance(unavailable, str) else unavailable
        return (math.ceil(replicas / batch) - 1) * (start + 2)

    result = check("04.last_old_pod_stops_s", no_fencepost)
    assert [o.passed for o in result.outcomes] == [True, False]
    assert "ZeroDivisionError" in str(result)

    def rounds_up(replicas, unavailable, start):  # a percentage of maxUnavailable rounded up, as surge is
        batch = math.ceil(replicas * int(unavailable[:-1]) / 100) if isinstance(unavailable, str) else unavailable
        return (math.ceil(replicas / batch) - 1) * (start + 2)

    result = check("04.last_old_pod_stops_s", rounds_up)
    assert [o.passed for o in result.outcomes] == [True, False] and "rounded down" in str(result)
    assert "must return a number" in str(check("04.last_old_pod_stops_s", lambda r, u, s: "12"))


def test_pending_wrong_answers() -> None:
    def right(nodes, replicas, cpu, mem, pod_cpu, pod_mem):
        return max(0, replicas - (nodes - 1) * min(cpu // pod_cpu, mem // pod_mem))

    assert check("04.pending_after_node_dies", right).status is Status.PASSED

    def cpu_only(nodes, replicas, cpu, mem, pod_cpu, pod_mem):
        return max(0, replicas - (nodes - 1) * (cpu // pod_cpu))

    result = check("04.pending_after_node_dies", cpu_only)
    assert [o.passed for o in result.outcomes] == [True, False] and "scarcer resource" in str(result)

    def all_nodes(nodes, replicas, cpu, mem, pod_cpu, pod_mem):  # forgets that a node died
        return max(0, replicas - nodes * min(cpu // pod_cpu, mem // pod_mem))

    assert check("04.pending_after_node_dies", all_nodes).points == 0

    def negative(nodes, replicas, cpu, mem, pod_cpu, pod_mem):  # room to spare gives a negative count
        return replicas - (nodes - 1) * min(cpu // pod_cpu, mem // pod_mem)

    assert not check("04.pending_after_node_dies", negative).outcomes[0].passed

    def fractions(nodes, replicas, cpu, mem, pod_cpu, pod_mem):  # pods do not fit in halves
        return max(0, replicas - (nodes - 1) * min(cpu / pod_cpu, mem / pod_mem))

    assert check("04.pending_after_node_dies", fractions).points < 3

