"""Lesson 07's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

from labsupport.grading import Status, check, lesson_exercises
from labsupport.sim.choosing import ISOLATION_NEEDS, PATTERNS

IDS = [ex.id for ex in lesson_exercises("07")]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["07.decide", "07.pick"]


def test_pick_common_mistakes() -> None:
    everything_in_containers = check("07.pick", dict.fromkeys(("order-history", "kitchen-consumer", "card-vault"),
                                                              "containers"))
    assert [o.passed for o in everything_in_containers.outcomes] == [True, False]
    assert "2 of 3 services" in str(everything_in_containers)
    for name in ("serverless", "vms"):  # never the answer
        assert f"'{name}'" not in str(everything_in_containers)
    missing = check("07.pick", {"order-history": "serverless"})
    assert "no answer: kitchen-consumer, card-vault" in str(missing)
    typo = check("07.pick", {"order-history": "lambda", "kitchen-consumer": "containers", "card-vault": "vms"})
    assert "not a pattern: lambda" in str(typo)
    assert check("07.pick", "serverless").status is Status.INVALID


def _rule(*, order=PATTERNS, long_running=True, isolation=True, limits=True):
    def decide(w, m):
        for p in order:
            if long_running and p == "serverless" and w.long_running:
                continue
            if isolation and m[p]["isolation"] < ISOLATION_NEEDS[w.isolation]:
                continue
            if limits and any(getattr(w, lim) is not None and m[p][key] > getattr(w, lim) for lim, key in (
                    ("max_p99_ms", "p99_ms"), ("max_deploy_s", "deploy_s"), ("max_monthly_usd", "monthly_usd"))):
                continue
            return p
        return None
    return decide


def test_decide_common_mistakes() -> None:
    assert check("07.decide", _rule()).status is Status.PASSED
    reversed_order = check("07.decide", _rule(order=PATTERNS[::-1]))
    assert reversed_order.points == 0 and "not the most lightweight" in str(reversed_order)
    no_long_running = check("07.decide", _rule(long_running=False))
    assert [o.passed for o in no_long_running.outcomes] == [True, False, True]
    no_isolation = check("07.decide", _rule(isolation=False))
    assert [o.passed for o in no_isolation.outcomes] == [True, False, True]
    no_limits = check("07.decide", _rule(limits=False))
    assert [o.passed for o in no_limits.outcomes] == [True, True, False]
    assert "None" in no_limits.outcomes[2].hint
    cheapest = check("07.decide", lambda w, m: min(PATTERNS, key=lambda p: m[p]["monthly_usd"]))
    assert cheapest.status is Status.FAILED
    odd = check("07.decide", lambda w, m: "kubernetes")
    assert "one of serverless, containers, vms, packages or None" in str(odd)
