"""Lesson 05 exercises. Expected values come from the mesh models and Istio's routing rules, never from a table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import yaml

from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim import ParameterError
from labsupport.sim.mesh import route_shares, run_outlier, run_release

# ---- 05.tester_route -------------------------------------------------------------------------------------

HEADER = "x-tester"


def tester_rules(answer: Any) -> list[dict[str, Any]]:
    """The HTTP rules of the learner's VirtualService (YAML text), or :class:`Wrong` saying what is off."""
    from labsupport.artifacts.istio import istio_problems

    if not isinstance(answer, str):
        raise Wrong(f"tester_route must be the VirtualService as YAML text, got {type(answer).__name__}")
    try:
        docs = [d for d in yaml.safe_load_all(answer) if d is not None]
    except yaml.YAMLError as error:
        raise Wrong(f"the text is not valid YAML: {str(error).splitlines()[0]}",
                    "Indent with spaces only, and put a space after each colon.") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise Wrong(f"the text holds {len(docs)} YAML documents; give exactly one VirtualService")
    doc = docs[0]
    if doc.get("kind") != "VirtualService":
        raise Wrong(f"the document's kind is {doc.get('kind')!r}, not VirtualService")
    problems = istio_problems(doc)
    if problems:
        raise Wrong(f"Istio would reject it: {problems[0]}" + (f" (and {len(problems) - 1} more)"
                                                               if len(problems) > 1 else ""),
                    "Compare the field names with the VirtualService above: Istio accepts no unknown field.")
    http: list[dict[str, Any]] | None = (doc.get("spec") or {}).get("http")
    if not http:
        raise Wrong("the VirtualService has no spec.http rules")
    for rule in http:
        for dest in rule.get("route") or []:
            host = (dest.get("destination") or {}).get("host")
            if host != "restaurant":
                raise Wrong(f"a route sends requests to host {host!r}, not to the Restaurant Service",
                            "Every destination's host is restaurant; the subset says v1 or v2.")
    return http


def _goes_to(http: list[dict[str, Any]], headers: dict[str, str]) -> dict[str, float]:
    try:
        return route_shares(http, headers)
    except ParameterError as error:
        raise Wrong(f"for a request with headers {headers}: {error}") from None


def tester_route_sends(answer: Any, headers: dict[str, str], subset: str, who: str) -> None:
    shares = _goes_to(tester_rules(answer), headers)
    if shares != {subset: 1.0}:
        got = ", ".join(f"{math.floor(v * 100 + 0.5):g} % to {k}" for k, v in shares.items())
        raise Wrong(f"{who} ({headers or 'no header'}) would go {got}, not all to {subset}",
                    "Istio tries the rules in order and the first whose match fits wins; a rule without match "
                    "fits every request.")


def _accepted(answer: Any) -> None:
    tester_rules(answer)


def _everyone_else_stays(answer: Any) -> None:
    for headers in ({}, {HEADER: "false"}, {"user-agent": "curl/8.5"}):
        tester_route_sends(answer, headers, "v1", "an end user")


@exercise("05.tester_route", "testers to v2 by a header, everyone else to v1",
          expects="the VirtualService as YAML text (a str)", accepts=lambda a: isinstance(a, str))
def _tester_route_tests() -> list[PublicTest]:
    return [
        PublicTest("a VirtualService Istio accepts", 1, _accepted),
        PublicTest("testers reach v2", 1, lambda a: tester_route_sends(a, {HEADER: "true"}, "v2", "a tester")),
        PublicTest("everyone else stays on v1", 2, _everyone_else_stays),
    ]


# ---- 05.analysis -----------------------------------------------------------------------------------------

ANALYSIS_KEYS = ("interval_s", "step_weight", "max_weight", "threshold")
GOOD_V2 = {"canary_error_rate": 0.002, "header_routing": False}
BAD_V2 = {"canary_error_rate": 0.08, "header_routing": False}
PROMOTE_WITHIN_S = 300.0
MAX_USER_ERRORS = 20
PUBLIC_SEEDS = (0, 1, 2)


def analysis_release(answer: Any, v2: dict[str, Any], seed: int) -> Any:
    """The release of ``v2`` with the learner's analysis settings (a trace), or :class:`Wrong`."""
    if not isinstance(answer, dict) or set(answer) != set(ANALYSIS_KEYS):
        keys = sorted(map(str, answer)) if isinstance(answer, dict) else answer
        raise Wrong(f"the keys are {keys}", f"Give exactly these keys: {', '.join(ANALYSIS_KEYS)}.")
    blank = [k for k, v in answer.items() if v is Ellipsis]
    if blank:
        raise Wrong(f"still ... for: {', '.join(blank)}")
    try:
        return run_release(seed=seed, **answer, **v2)
    except ParameterError as error:
        raise Wrong(f"Flagger would not accept these settings: {error}") from None


def promotes_good(answer: Any, seeds: tuple[int, ...] = PUBLIC_SEEDS) -> None:
    for seed in seeds:
        trace = analysis_release(answer, GOOD_V2, seed)
        promoted = trace.first("promote")
        if promoted is None:
            failed = [e for e in trace.of_kind("analysis") if not e.data["passed"]]
            why = f": {failed[0].data['why']}" if failed else ""
            raise Wrong(f"a good v2 (0.2 % errors) is rolled back with seed {seed}{why}",
                        "A check needs requests: with a small weight and a short interval the canary may get too "
                        "few (or none, which Flagger counts as a failure), and one unlucky error weighs a lot.")
        if promoted.time_s > PROMOTE_WITHIN_S:
            raise Wrong(f"a good v2 is promoted only at {promoted.time_s:g} s (seed {seed}), later than "
                        f"{PROMOTE_WITHIN_S:g} s after the deploy",
                        "Count the runs: detect, first step, one check per further step up to maxWeight, then "
                        "one more to promote.")


def rolls_back_bad(answer: Any, seeds: tuple[int, ...] = PUBLIC_SEEDS) -> None:
    for seed in seeds:
        trace = analysis_release(answer, BAD_V2, seed)
        if trace.first("promote") is not None:
            raise Wrong(f"a bad v2 (8 % errors) is promoted with seed {seed}")
        errors = int(np.sum(trace.series["user_canary_errors"]))
        if errors > MAX_USER_ERRORS:
            raise Wrong(f"end users saw {errors} errors from the bad v2 before the rollback (seed {seed}), more "
                        f"than {MAX_USER_ERRORS}",
                        "Errors add up while the canary gets traffic: every failed check costs one interval at "
                        "the current weight, and the rollback comes one run after the threshold.")


@exercise("05.analysis", "analysis settings that promote a good release in time and stop a bad one early",
          expects=f"a dict with the keys {', '.join(ANALYSIS_KEYS)}", accepts=lambda a: isinstance(a, dict))
def _analysis_tests() -> list[PublicTest]:
    return [
        PublicTest("settings Flagger accepts", 1, lambda a: analysis_release(a, GOOD_V2, 0) and None),
        PublicTest(f"a good v2 is promoted within {PROMOTE_WITHIN_S:g} s", 2, promotes_good),
        PublicTest(f"a bad v2 is rolled back before more than {MAX_USER_ERRORS} end users see an error", 2,
                   rolls_back_bad),
    ]


# ---- 05.back_in_service ----------------------------------------------------------------------------------

def model_returns(**settings: Any) -> list[tuple[float, int, float]]:
    """``(ejected_at_s, multiplier, returned_at_s)`` for every ejection that ended in :func:`run_outlier`."""
    trace = run_outlier(**settings)
    open_: dict[str, tuple[float, int]] = {}
    out = []
    for e in trace.events:
        if e.kind == "eject":
            open_[e.subject] = (e.time_s, int(e.data["multiplier"]))
        elif e.kind == "return" and e.subject in open_:
            at, times = open_.pop(e.subject)
            out.append((at, times, e.time_s))
    return out


def back_in_service_matches(answer: Any, settings: dict[str, Any], hint: str) -> None:
    p = run_outlier(**settings).params
    for at, times, returned in model_returns(**settings):
        got = answer(at, times, p["interval_s"], p["base_ejection_s"], p["max_ejection_s"])
        if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
            raise Wrong(f"back_in_service must return a time in seconds; it returned {got!r}")
        if not math.isclose(float(got), returned, abs_tol=1e-6):
            raise Wrong(f"ejected at {at:.3f} s for the {times}. time in a row (interval {p['interval_s']:g} s, "
                        f"base {p['base_ejection_s']:g} s): your function says {float(got):.3f} s, which is not "
                        "when Envoy returned it", hint)


_TICKS = ("Envoy looks at ejected hosts only at its interval ticks (interval, 2 × interval, ...): the host comes "
          "back at the first tick at which its ejection time has passed.")


@exercise("05.back_in_service", "when an ejected endpoint gets traffic again",
          expects="a function back_in_service(ejected_at_s, ejections, interval_s, base_ejection_s, "
                  "max_ejection_s) that returns seconds", accepts=callable)
def _back_in_service_tests() -> list[PublicTest]:
    return [
        PublicTest("Istio's defaults", 1, lambda a: back_in_service_matches(a, {}, _TICKS)),
        PublicTest("an interval that does not divide the ejection time", 2,
                   lambda a: back_in_service_matches(a, {"interval_s": 7.0, "base_ejection_s": 12.0}, _TICKS)),
        PublicTest("ejected again and again", 2, lambda a: back_in_service_matches(
            a, {"interval_s": 4.0, "base_ejection_s": 9.0, "fail_until_s": 170.0},
            "Each ejection in a row multiplies the base ejection time: 1×, 2×, 3×, ...")),
    ]
