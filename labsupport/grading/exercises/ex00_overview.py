"""Lesson 00 exercises. Expected values come from the model, never from a table of answers."""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from labsupport.grading._choices import choice_map_tests
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.overview import PARTS, MonitoringWindow, run_overview


def _is_function_of_one(answer: Any) -> bool:
    if not callable(answer):
        return False
    try:
        inspect.signature(answer).bind(None)
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: let the tests speak
        return True
    return True


def _verdict(rule: Any, window: MonitoringWindow) -> bool:
    result = rule(window)
    if not isinstance(result, (bool, np.bool_)):
        raise Wrong(f"alert_rule must return True or False; for {window} it returned {type(result).__name__} {result!r}",
                    "Comparisons such as a > b already give True or False.")
    return bool(result)


def _window(requests: int, errors: int, p95: float) -> MonitoringWindow:
    return MonitoringWindow(end_s=60.0, window_s=10.0, requests=requests, errors=errors, p95_latency_s=p95)


# ---- 00.alert_rule ---------------------------------------------------------------------------------------

def _quiet(rule: Any) -> None:
    for window in (_window(300, 0, 0.18), _window(300, 3, 0.30), _window(250, 12, 0.45)):
        if _verdict(rule, window):
            raise Wrong(f"your rule fires for a healthy window: {window.errors} errors in {window.requests} requests, "
                        f"p95 latency {window.p95_latency_s} s",
                        "Fire only when the error rate is above 5 % or the p95 latency is above 0.5 s.")


def _errors(rule: Any) -> None:
    for window in (_window(300, 30, 0.18), _window(40, 12, 0.1)):
        if not _verdict(rule, window):
            raise Wrong(f"your rule stays silent when {window.errors} of {window.requests} requests fail",
                        "The error rate is errors / requests; compare it with 5 % (0.05).")


def _latency(rule: Any) -> None:
    window = _window(300, 0, 0.9)
    if not _verdict(rule, window):
        raise Wrong("your rule stays silent when the 95th percentile latency is 0.9 s",
                    "Users feel slowness as much as errors: compare p95_latency_s with 0.5.")


def _empty(rule: Any) -> None:
    try:
        fired = _verdict(rule, _window(0, 0, 0.0))
    except ZeroDivisionError:
        raise Wrong("your rule divides by zero when the window holds no requests",
                    "Before any traffic arrives, requests is 0: decide what to do before dividing.") from None
    if fired:
        raise Wrong("your rule fires when there is no traffic at all", "No requests means no errors to alert on.")


def _in_the_model(rule: Any) -> None:
    trace = run_overview(alert_rule=rule, seed=7)
    crash = trace.first("crash")
    firing = trace.of_kind("alert-firing")
    if not firing:
        raise Wrong("plugged into the model, your rule never fires, although an instance crashes at 42 s",
                    "Run the model with your rule and watch the error-rate plot.")
    assert crash is not None
    if firing[0].time_s < crash.time_s:
        raise Wrong(f"plugged into the model, your rule fires at {firing[0].time_s:g} s, before anything went wrong")


@exercise("00.alert_rule", "the alert rule monitoring needs",
          expects="a function alert_rule(window) that returns True or False", accepts=_is_function_of_one)
def _alert_rule_tests() -> list[PublicTest]:
    return [
        PublicTest("silent while the service is healthy", 1, _quiet),
        PublicTest("fires on a high error rate", 1, _errors),
        PublicTest("fires on high latency", 1, _latency),
        PublicTest("copes with a window with no requests", 1, _empty),
        PublicTest("fires after the crash in the model, not before", 1, _in_the_model),
    ]


# ---- 00.who_acts -----------------------------------------------------------------------------------------

WHO_ACTS_EVENTS = ("deploy", "start", "add-to-pool", "health-check-failed", "remove-from-pool", "restart",
                   "alert-firing")


def _actors() -> dict[str, str]:
    trace = run_overview()
    return {kind: trace.first(kind).actor for kind in WHO_ACTS_EVENTS}  # type: ignore[union-attr]


@exercise("00.who_acts", "which part of the environment acts",
          expects=f"a dict mapping each of {', '.join(WHO_ACTS_EVENTS)} to the name of a part",
          accepts=lambda a: isinstance(a, dict))
def _who_acts_tests() -> list[PublicTest]:
    return choice_map_tests(
        WHO_ACTS_EVENTS, PARTS, _actors, keys_word="events", not_a="not a part of the production environment",
        form_name="every event has one of the four parts", right_name="every event has the right part",
        wrong_phrase="are given to the wrong part",
        hint="Ask, for each event, whose job it is: deploying on request, keeping instances running, "
             "deciding where requests go, or watching and alerting.")


# ---- 00.removed_at_s -------------------------------------------------------------------------------------

def _model_removed_at(crash_at_s: float, interval_s: float, threshold: int) -> float:
    trace = run_overview(crash_at_s=crash_at_s, health_check_interval_s=interval_s, unhealthy_threshold=threshold,
                         duration_s=max(120.0, crash_at_s + (threshold + 2) * interval_s), restart_s=1.0)
    removed = trace.first("remove-from-pool")
    assert removed is not None
    return removed.time_s


def _removed_cases(cases: tuple[tuple[float, float, int], ...]) -> Any:
    def test(answer: Any) -> None:
        for crash, interval, threshold in cases:
            got = answer(crash, interval, threshold)
            if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
                raise Wrong(f"removed_at_s must return a number of seconds; it returned {got!r}")
            if not math.isclose(got, _model_removed_at(crash, interval, threshold), abs_tol=1e-6):
                raise Wrong(f"for a crash at {crash:g} s, checks every {interval:g} s and {threshold} failures "
                            f"needed, your function says {got:g} s, which is not when the model removes it",
                            "Checks happen at interval, 2 × interval, 3 × interval, ... The first check at or "
                            "after the crash is the first failure; count on from there.")
    return test


@exercise("00.removed_at_s", "when routing stops sending requests to a crashed instance",
          expects="a function removed_at_s(crash_at_s, interval_s, threshold) that returns seconds",
          accepts=lambda a: callable(a))
def _removed_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's settings", 1, _removed_cases(((42.0, 5.0, 2),))),
        PublicTest("other intervals and thresholds", 2, _removed_cases(((13.0, 10.0, 3), (61.5, 4.0, 1), (7.2, 2.5, 4)))),
    ]
