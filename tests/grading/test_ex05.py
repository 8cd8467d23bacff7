"""Lesson 05's exercises: common wrong answers fail with a useful message (solutions: test_every_exercise.py)."""

from __future__ import annotations

import math
import warnings

import pytest

from labsupport.grading import Status, check, lesson_exercises

RIGHT = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: restaurant
spec:
  hosts: [restaurant]
  http:
  - match:
    - headers:
        x-tester: {exact: "true"}
    route:
    - destination: {host: restaurant, subset: v2}
  - route:
    - destination: {host: restaurant, subset: v1}
"""


def test_lesson_has_three_exercises() -> None:
    assert [ex.id for ex in lesson_exercises("05")] == ["05.analysis", "05.back_in_service", "05.tester_route"]


def test_tester_route_wrong_answers() -> None:
    assert check("05.tester_route", RIGHT).status is Status.PASSED
    catch_all_first = RIGHT.replace("  - match:", "  - route:\n    - destination: {host: restaurant, subset: v1}\n"
                                    "  - match:")
    result = check("05.tester_route", catch_all_first)
    assert [o.passed for o in result.outcomes] == [True, False, True]
    assert "first whose match fits wins" in str(result)
    misspelt = check("05.tester_route", RIGHT.replace("subset: v2", "subsett: v2"))
    assert misspelt.points == 0 and "unknown field 'subsett'" in str(misspelt)
    weighted = RIGHT.replace("    - destination: {host: restaurant, subset: v1}",
                             "    - destination: {host: restaurant, subset: v1}\n      weight: 90\n"
                             "    - destination: {host: restaurant, subset: v2}\n      weight: 10")
    assert "10 % to v2" in str(check("05.tester_route", weighted))
    assert "not valid YAML" in str(check("05.tester_route", "kind: [VirtualService"))
    assert "not to the Restaurant Service" in str(check("05.tester_route", RIGHT.replace("host: restaurant, subset: v1",
                                                                                         "host: menu, subset: v1")))
    assert check("05.tester_route", {"http": []}).status is Status.INVALID


def test_analysis_wrong_answers() -> None:
    defaults = {"interval_s": 30, "step_weight": 10, "max_weight": 50, "threshold": 5}
    result = check("05.analysis", defaults)
    assert [o.passed for o in result.outcomes] == [True, True, False] and "more than 20" in str(result)
    hasty = check("05.analysis", {"interval_s": 5, "step_weight": 1, "max_weight": 5, "threshold": 1})
    assert not hasty.outcomes[1].passed and "rolled back" in str(hasty) and "none, which Flagger" in str(hasty)
    slow = check("05.analysis", {"interval_s": 60, "step_weight": 5, "max_weight": 50, "threshold": 1})
    assert "later than 300 s" in str(slow)
    impossible = check("05.analysis", {"interval_s": 15, "step_weight": 60, "max_weight": 50, "threshold": 3})
    assert impossible.points == 0 and "Flagger would not accept" in str(impossible)
    assert "Give exactly these keys" in str(check("05.analysis", {"interval": 15}))


def test_back_in_service_wrong_answers() -> None:
    def no_tick(at, times, interval, base, cap=300):
        return at + min(base * times, max(cap, base))

    result = check("05.back_in_service", no_tick)
    assert result.points == 0 and "interval ticks" in str(result)

    def forgets_the_multiplier(at, times, interval, base, cap=300):
        return math.ceil((at + base) / interval) * interval

    forgot = check("05.back_in_service", forgets_the_multiplier)
    assert not forgot.outcomes[0].passed and "multiplies the base ejection time" in str(forgot)
    assert "must return a time in seconds" in str(check("05.back_in_service", lambda *a: "soon"))


def _hidden_cases():
    """Every (test function, keyword arguments) of the sample hidden tests for lesson 05, parameters expanded."""
    import importlib.util
    import inspect
    import itertools

    from tests.helpers import ROOT

    path = ROOT / "instructor" / "hidden_tests" / "05_mesh" / "test_mesh_hidden.py"
    spec = importlib.util.spec_from_file_location("hidden_05", path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # the grader registers the points mark; this plain import does not
        warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    for name, func in inspect.getmembers(module, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        grids = []
        for mark in getattr(func, "pytestmark", []):
            if mark.name == "parametrize":
                names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else mark.args[0]
                grids.append([dict(zip(names, v if len(names) > 1 else (v,), strict=True)) for v in mark.args[1]])
        for combo in itertools.product(*grids) if grids else [()]:
            yield func, {k: v for part in combo for k, v in part.items()}


def test_hidden_samples_pass_the_solution_and_fail_the_untouched_answers() -> None:
    import inspect

    from tests.helpers import lesson_answers

    solution = lesson_answers("05_mesh", "solution")
    student = lesson_answers("05_mesh", "student")
    cases = list(_hidden_cases())
    assert len(cases) >= 8
    for func, params in cases:
        answer_name = next(p for p in inspect.signature(func).parameters if p not in params)
        ex_id = f"05.{answer_name}"
        func(**{answer_name: solution[ex_id]}, **params)
        try:
            func(**{answer_name: student[ex_id]}, **params)
        except Exception:  # noqa: BLE001 - any failure is what an untouched answer must give
            continue
        raise AssertionError(f"{func.__name__}{params} passes on the untouched answer")
