"""Lesson 02's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

import math

from labsupport.grading import Status, check, lesson_exercises

IDS = [ex.id for ex in lesson_exercises("02")]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["02.cheapest", "02.serving_again_at_s"]


def _without_the_cliff(crash_at_s, registered_at_s, p):
    """Forgets that a replacement which failed enough checks while booting needs healthy_threshold passes."""
    interval = p.health_check_interval_s
    k = max(1, math.ceil((crash_at_s - registered_at_s) / interval))
    unhealthy = registered_at_s + (k + p.unhealthy_threshold - 1) * interval + p.health_check_timeout_s
    return unhealthy + p.launch_s + max(1, math.ceil(p.boot_s / interval)) * interval


def test_serving_again_common_mistakes() -> None:
    cliff = check("02.serving_again_at_s", _without_the_cliff)
    assert [o.passed for o in cliff.outcomes] == [True, False, False]  # 10 s checks also fail 4 times in a 45 s boot
    assert "too early" in cliff.outcomes[2].message
    no_timeout = check("02.serving_again_at_s",
                       lambda c, r, p: _without_the_cliff(c, r, p) - p.health_check_timeout_s)
    assert no_timeout.status is Status.FAILED and no_timeout.points == 0
    assert "too early" in str(no_timeout) and "1325" not in str(no_timeout)  # never the expected answer
    text = check("02.serving_again_at_s", lambda c, r, p: "soon")
    assert "must return a number of seconds" in str(text)
    not_callable = check("02.serving_again_at_s", 125)
    assert not_callable.status is Status.INVALID and "a function serving_again_at_s" in str(not_callable)


def test_cheapest_common_mistakes() -> None:
    fixed = check("02.cheapest", lambda v, m, n: ("m5.large", 3))
    assert fixed.outcomes[0].passed and not all(o.passed for o in fixed.outcomes)
    ignores_os = check("02.cheapest", lambda v, m, n: ("c5.xlarge", max(n, math.ceil(v / 4), math.ceil(m / 8))))
    assert ignores_os.status is Status.FAILED
    assert "does not have enough" in str(ignores_os) or "cheaper choice exists" in str(ignores_os)
    unknown = check("02.cheapest", lambda v, m, n: ("t3.micro", 2))
    assert "not one of the lesson's instance types" in str(unknown)
    shape = check("02.cheapest", lambda v, m, n: "m5.large")
    assert "must return a pair (type_name, count)" in str(shape)
    fraction = check("02.cheapest", lambda v, m, n: ("m5.large", 2.5))
    assert "whole number" in str(fraction)
