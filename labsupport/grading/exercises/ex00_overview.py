"""Lesson 00 exercises. Expected values come from the model, never from a table of answers."""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from labsupport.grading._choices import choice_map_tests
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.overview import PARTS, MonitoringWindow, OverviewParams, default_alert_rule, run_overview


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
# The thresholds and the verdicts come from the model's own default rule: change the model's defaults and the
# checks follow.

_PARAMS = OverviewParams()
_RATE, _P95 = _PARAMS.alert_error_rate, _PARAMS.alert_p95_latency_s
_MODEL_RULE = default_alert_rule(_PARAMS)
_RULE_IN_WORDS = f"Fire only when the error rate is above {_RATE * 100:g} % or the p95 latency is above {_P95:g} s."


def _errors_below(requests: int) -> int:
    """The most errors among ``requests`` that still leave the error rate below the threshold."""
    return math.ceil(requests * _RATE) - 1


def _at_the_rate() -> MonitoringWindow:
    """A window whose error rate is exactly the threshold, in floating point too."""
    requests = next(n for n in range(200, 100_001, 20) if round(n * _RATE) / n == _RATE)
    return _window(requests, round(requests * _RATE), _P95 / 2)


def _expect(rule: Any, window: MonitoringWindow, fires: bool, message: str, hint: str) -> None:
    assert _MODEL_RULE(window) is fires, f"the model's rule disagrees on {window}"
    if _verdict(rule, window) is not fires:
        raise Wrong(message, hint)


def _quiet(rule: Any) -> None:
    for window in (_window(300, 0, _P95 * 0.36), _window(300, _errors_below(300) // 4, _P95 * 0.6),
                   _window(250, _errors_below(250), _P95 * 0.9)):
        _expect(rule, window, False, f"your rule fires for a healthy window: {window.errors} errors in "
                f"{window.requests} requests, p95 latency {window.p95_latency_s:g} s", _RULE_IN_WORDS)


def _errors(rule: Any) -> None:
    for window in (_window(300, math.ceil(300 * _RATE * 2), _P95 * 0.36), _window(40, 12, _P95 / 5)):
        _expect(rule, window, True, f"your rule stays silent when {window.errors} of {window.requests} requests fail",
                f"The error rate is errors / requests; compare it with {_RATE * 100:g} % ({_RATE:g}).")


def _latency(rule: Any) -> None:
    window = _window(300, 0, _P95 * 1.8)
    _expect(rule, window, True, f"your rule stays silent when the 95th percentile latency is {window.p95_latency_s:g} s",
            f"Users feel slowness as much as errors: compare p95_latency_s with {_P95:g}.")


def _at_the_thresholds(rule: Any) -> None:
    rate = _at_the_rate()
    strictly = "Above means strictly greater: use > rather than >=."
    _expect(rule, rate, False, f"your rule fires at exactly {_RATE * 100:g} % errors ({rate.errors} of {rate.requests} "
            "requests)", strictly)
    latency = _window(rate.requests, 0, _P95)
    _expect(rule, latency, False, f"your rule fires when the p95 latency is exactly {_P95:g} s", strictly)
    more = _window(rate.requests, rate.errors + 1, _P95 / 2)
    _expect(rule, more, True, f"your rule stays silent at {more.errors} errors in {more.requests} requests, just above "
            f"{_RATE * 100:g} %", _RULE_IN_WORDS)
    slower = _window(rate.requests, 0, _P95 * 1.02)
    _expect(rule, slower, True, f"your rule stays silent when the p95 latency is {slower.p95_latency_s:g} s, just above "
            f"{_P95:g} s", _RULE_IN_WORDS)


def _empty(rule: Any) -> None:
    window = _window(0, 0, 0.0)
    try:
        fired = _verdict(rule, window)
    except ZeroDivisionError:
        raise Wrong("your rule divides by zero when the window holds no requests",
                    "Before any traffic arrives, requests is 0: decide what to do before dividing.") from None
    if fired is not _MODEL_RULE(window):
        raise Wrong("your rule fires when there is no traffic at all", "No requests means no errors to alert on.")


def _in_the_model(rule: Any) -> None:
    trace = run_overview(alert_rule=rule, seed=7)
    crash = trace.first("crash")
    firing = trace.of_kind("alert-firing")
    assert crash is not None
    if not firing:
        raise Wrong(f"plugged into the model, your rule never fires, although an instance crashes at "
                    f"{crash.time_s:g} s", "Run the model with your rule and watch the error-rate plot.")
    if firing[0].time_s < crash.time_s:
        raise Wrong(f"plugged into the model, your rule fires at {firing[0].time_s:g} s, before anything went wrong")


@exercise("00.alert_rule", "the alert rule monitoring needs",
          expects="a function alert_rule(window) that returns True or False", accepts=_is_function_of_one)
def _alert_rule_tests() -> list[PublicTest]:
    return [
        PublicTest("silent while the service is healthy", 1, _quiet),
        PublicTest("fires on a high error rate", 1, _errors),
        PublicTest("fires on high latency", 1, _latency),
        PublicTest("silent at exactly the thresholds, fires just above", 1, _at_the_thresholds),
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
