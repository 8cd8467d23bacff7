"""Lesson 01's exercises: wrong answers fail with a message that helps (tests/grading/test_every_exercise.py
checks that the solution passes and the stub reads as not attempted)."""

from __future__ import annotations

from labsupport.grading import Status, check, lesson_exercises
from tests.helpers import lesson_answers

IDS = [ex.id for ex in lesson_exercises("01")]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["01.oom_order", "01.placement"]


def test_placement_common_mistakes() -> None:
    right = lesson_answers("01_packaging", "solution")["01.placement"]
    first_fit = [["restaurant", "order", "kitchen"], ["delivery", "accounting", "consumer"],
                 ["notification", "payment"], ["review"]]
    result = check("01.placement", first_fit)
    assert result.status is Status.FAILED and result.points == 2
    assert "uses 4 machines; a placement on fewer machines exists" in str(result)
    assert "3 machines" not in str(result)  # never gives the answer away
    too_full = [["restaurant", "order", "payment"], ["consumer", "kitchen", "delivery"], right[2]]
    assert "would need" in str(check("01.placement", too_full))
    assert "placed more than once: order" in str(check("01.placement", [*right, ["order"]]))
    assert "not placed on any machine: review" in str(check("01.placement", [[n for n in m if n != "review"] for m in right]))
    assert "not an instance of the exercise: pizza" in str(check("01.placement", [*right, ["pizza"]]))
    wrong_type = check("01.placement", {"machine 1": ["order"]})
    assert wrong_type.status is Status.INVALID and "Expected a list of machines" in str(wrong_type)


def test_oom_order_common_mistakes() -> None:
    blame_the_leaker = check("01.oom_order", ["instance-1"])
    assert blame_the_leaker.status is Status.FAILED and "first process" in str(blame_the_leaker)
    only_first = check("01.oom_order", ["instance-2"])
    assert "acts again" in str(only_first)
    too_many = check("01.oom_order", ["instance-2", "instance-1", "instance-0"])
    assert "never happens" in str(too_many)
    assert "not an instance of the scenario: instance-9" in str(check("01.oom_order", ["instance-9"]))
    assert "appears twice" in str(check("01.oom_order", ["instance-2", "instance-2"]))
    assert "instance name" in str(check("01.oom_order", [2, 1]))
    assert check("01.oom_order", "instance-2").status is Status.INVALID
