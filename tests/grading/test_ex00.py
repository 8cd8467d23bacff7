"""Lesson 00's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

import math

from labsupport.grading import Status, check, lesson_exercises
from labsupport.sim.overview import OverviewParams, default_alert_rule
from tests.helpers import lesson_answers

IDS = [ex.id for ex in lesson_exercises("00")]


def test_lesson_has_at_least_two_exercises() -> None:
    assert len(IDS) >= 2


def test_who_acts_wrong_answers() -> None:
    right = lesson_answers("00_overview", "solution")["00.who_acts"]
    swapped = dict(right, restart="request-routing")
    result = check("00.who_acts", swapped)
    assert result.status is Status.FAILED and result.points == 1
    assert "1 of 7 events are given to the wrong part: restart" in str(result)  # which event, never which part
    typo = dict(right, deploy="kubectl")
    assert "not a part of the production environment: kubectl" in str(check("00.who_acts", typo))
    missing = {k: v for k, v in right.items() if k != "deploy"}
    assert "these events have no answer: deploy" in str(check("00.who_acts", missing))


def test_removed_at_common_mistakes() -> None:
    off_by_one = check("00.removed_at_s", lambda c, i, t: math.ceil(c / i) * i + t * i)
    assert off_by_one.status is Status.FAILED and off_by_one.points == 0
    floor = check("00.removed_at_s", lambda c, i, t: math.floor(c / i) * i + (t - 1) * i)
    assert floor.status is Status.FAILED
    wrong_type = check("00.removed_at_s", lambda c, i, t: "50 s")
    assert "must return a number of seconds" in str(wrong_type)


def test_alert_rule_common_mistakes() -> None:
    only_errors = check("00.alert_rule", lambda w: w.requests > 0 and w.errors / w.requests > 0.05)
    assert [o.passed for o in only_errors.outcomes] == [True, True, False, False, True, True]
    divides = check("00.alert_rule", lambda w: w.errors / w.requests > 0.05 or w.p95_latency_s > 0.5)
    assert "divides by zero" in str(divides)
    always = check("00.alert_rule", lambda w: True)
    assert not always.outcomes[0].passed and "fires for a healthy window" in always.outcomes[0].message
    strings = check("00.alert_rule", lambda w: "fire")
    assert "must return True or False" in str(strings)


def test_alert_rule_at_or_above_fails_a_public_check() -> None:
    """'>=' instead of 'above' must not pass every public check (it used to fail only a hidden test)."""
    at_or_above = check("00.alert_rule", lambda w: w.requests > 0 and (w.errors / w.requests >= 0.05
                                                                       or w.p95_latency_s > 0.5))
    assert [o.name for o in at_or_above.outcomes if not o.passed] == ["silent at exactly the thresholds, fires just above"]
    assert "fires at exactly 5 % errors (10 of 200 requests)" in str(at_or_above) and at_or_above.points == 5
    latency = check("00.alert_rule", lambda w: w.requests > 0 and (w.errors / w.requests > 0.05
                                                                   or w.p95_latency_s >= 0.5))
    assert "fires when the p95 latency is exactly 0.5 s" in str(latency) and latency.points == 5


def test_alert_rule_checks_are_the_models_defaults() -> None:
    assert check("00.alert_rule", default_alert_rule(OverviewParams())).status is Status.PASSED
    for other in (OverviewParams(alert_error_rate=0.04), OverviewParams(alert_error_rate=0.06),
                  OverviewParams(alert_p95_latency_s=0.4), OverviewParams(alert_p95_latency_s=0.6)):
        result = check("00.alert_rule", default_alert_rule(other))
        assert result.status is Status.FAILED, other
