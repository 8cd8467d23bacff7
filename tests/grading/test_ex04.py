"""Lesson 04's exercises: common wrong answers fail with a useful message (solutions: test_every_exercise.py)."""

from __future__ import annotations

import math

from labsupport.grading import Status, check, lesson_exercises


def test_lesson_has_two_exercises() -> None:
    assert [ex.id for ex in lesson_exercises("04")] == ["04.max_pods", "04.who_acts"]


def test_who_acts_wrong_answers() -> None:
    right = {"apply": "api-server", "create-pod": "controller-manager", "bind": "scheduler",
             "pod-ready": "kubelet", "program-rules": "kube-proxy", "mark-not-ready": "controller-manager"}
    assert check("04.who_acts", right).status is Status.PASSED
    swapped = check("04.who_acts", {**right, "bind": "controller-manager", "create-pod": "scheduler"})
    assert "2 of 6 events" in str(swapped) and "api-server" not in str(swapped)
    unknown = check("04.who_acts", {**right, "apply": "etcd"})
    assert "not a component of the model: etcd" in str(unknown)
    assert "have no answer: bind" in str(check("04.who_acts", {k: v for k, v in right.items() if k != "bind"}))


def test_max_pods_wrong_answers() -> None:
    def floor_surge(replicas, surge, unavailable):
        if isinstance(surge, str):
            surge = math.floor(replicas * int(surge[:-1]) / 100)
        return replicas + surge

    result = check("04.max_pods", floor_surge)
    assert [o.passed for o in result.outcomes] == [True, False]
    assert "rounded one way" in str(result)

    def adds_both(replicas, surge, unavailable):
        return replicas + int(surge) + int(unavailable)

    assert check("04.max_pods", adds_both).points == 0
    assert "must return a whole number" in str(check("04.max_pods", lambda r, s, u: "5"))
