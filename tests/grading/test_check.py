"""check(): results for right, wrong, unanswered, mistyped and failing answers; never raises."""

from __future__ import annotations

import pytest

from labsupport.grading import PublicTest, Status, Wrong, check, exercise, get, is_unanswered, run_tests


def test_unknown_exercise_lists_the_known_ones() -> None:
    result = check("99.nothing", 1)
    assert result.status is Status.INVALID
    assert "00.alert_rule" in result.message
    assert check(42, 1).status is Status.INVALID  # type: ignore[arg-type]


@pytest.mark.parametrize("stub", [..., {"a": ..., "b": ...}, [..., ...]])
def test_stubs_read_as_not_attempted(stub) -> None:
    assert is_unanswered(stub)
    assert check("00.who_acts", stub).status is Status.NOT_ATTEMPTED


def test_function_raising_not_implemented_is_not_attempted() -> None:
    def alert_rule(window):
        raise NotImplementedError("exercise not attempted yet")

    result = check("00.alert_rule", alert_rule)
    assert result.status is Status.NOT_ATTEMPTED
    assert "not attempted yet" in str(result) and "not attempted yet" in result._repr_html_()


def test_a_stub_names_the_cell_to_run() -> None:
    """An answer edited but not run again still reads as the stub: the hint names the cell to run, by its tag and
    by what it defines, for a value stub and for a function stub."""
    value = check("00.who_acts", {"deploy": ..., "start": ...})
    assert "`who_acts` still holds `...`" in value.hint and "the cell that sets `who_acts = ...`" in value.hint
    assert "tagged exercise:00.who_acts" in value.hint and "run that cell (Shift+Enter) and this check again" in value.hint

    def removed_at_s(crash_at_s, interval_s, threshold):
        raise NotImplementedError("exercise not attempted yet")

    function = check("00.removed_at_s", removed_at_s)
    assert "`removed_at_s` still raises NotImplementedError" in function.hint
    assert "the cell that defines `def removed_at_s(...)` (tagged exercise:00.removed_at_s)" in function.hint
    assert "run that cell" in str(function) and "run that cell" in function._repr_html_()


CHOICE_MAPS = ("00.who_acts", "04.who_acts", "07.pick")


@pytest.mark.parametrize("ex_id", CHOICE_MAPS)
def test_choice_map_names_the_wrong_keys_never_the_right_choice(ex_id: str) -> None:
    """Whatever the exercise's cases, a wrong answer's message lists exactly the keys that are wrong."""
    from tests.grading.test_every_exercise import SLUGS
    from tests.helpers import lesson_answers

    right = lesson_answers(SLUGS[ex_id.split(".")[0]], "solution")[ex_id]
    keys = list(right)
    wrong_keys = [keys[0], keys[-1]]
    answer = dict(right)
    for key in wrong_keys:
        answer[key] = next(v for v in right.values() if v != right[key])
    result = check(ex_id, answer)
    failed = [o for o in result.outcomes if not o.passed]
    assert len(failed) == 1, str(result)
    count, _, named = failed[0].message.partition(": ")
    assert count.startswith(f"2 of {len(keys)} ")
    assert named.split(", ") == wrong_keys
    assert not any(right[key] in failed[0].message for key in wrong_keys)


def test_wrong_type_says_what_is_expected() -> None:
    result = check("00.alert_rule", 0.05)
    assert result.status is Status.INVALID
    assert "Expected a function alert_rule(window)" in result.message and "float 0.05" in result.message
    assert result.points == 0 and result.max_points == get("00.alert_rule").max_points


def test_learners_exception_is_reported_not_raised() -> None:
    result = check("00.alert_rule", lambda w: 1 / 0)
    assert result.status is Status.FAILED
    assert any("ZeroDivisionError" in o.message for o in result.outcomes)


def test_partial_credit_and_html() -> None:
    result = check("00.alert_rule", lambda w: w.errors > 0.05 * max(w.requests, 1))  # ignores latency
    assert result.status is Status.FAILED
    assert 0 < result.points < result.max_points
    assert "fires on high latency" in str(result)
    html = result._repr_html_()
    assert "data-status='failed'" in html and "Hint" in html


def test_feedback_never_shows_test_code() -> None:
    result = check("00.removed_at_s", lambda c, i, t: 0.0)
    text = str(result) + result._repr_html_()
    assert "def " not in text and "_model_removed_at" not in text and "ceil" not in text


def test_registering_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        exercise("00.alert_rule", "x", expects="x", accepts=lambda a: True)(lambda: [])


def test_run_tests_with_custom_tests() -> None:
    ex = get("00.alert_rule")

    def never(answer):
        raise Wrong("always wrong", "a hint")

    result = run_tests(ex, lambda w: False, [PublicTest("t", 2, never)])
    assert result.points == 0 and result.max_points == 2 and result.outcomes[0].hint == "a hint"
