"""``check(exercise_id, answer)``: immediate feedback on one answer, in the notebook and in the grader."""

from __future__ import annotations

from typing import Any

from labsupport.grading._registry import Exercise, Wrong, all_exercises, get
from labsupport.grading._result import CheckResult, Status, TestOutcome

__all__ = ["NotAttempted", "check", "is_unanswered", "not_attempted_hint", "run_tests"]


def not_attempted_hint(ex: Exercise, answer: Any) -> str:
    """What to do when ``answer`` is still the stub: name the cell to edit and run, by what it defines.

    The check only sees what the answer's cell left in the kernel when it last ran, so an edited cell that was
    not run again reads as the stub: say so, and name that cell (its tag, and the name it defines).
    """
    name = ex.answer_name
    if callable(answer):
        stub = f"`{name}` still raises NotImplementedError, as the stub does"
        cell = f"the cell that defines `def {name}(...)`"
    else:
        stub = f"`{name}` still holds `...`, as the stub does"
        cell = f"the cell that sets `{name} = ...`"
    return (f"{stub}. Write your answer in {cell} (tagged {ex.tag}), then run that cell (Shift+Enter) and this "
            "check again: an edited cell changes nothing until it runs.")


class NotAttempted(Exception):
    """Raised inside a test when the learner's code says it is not written yet (or the answer is still the
    starting point the stub gave); a message, when given, is the hint shown instead of the default one."""


def is_unanswered(answer: Any) -> bool:
    """True for the stubs the student build leaves: ``...``, or a container holding only ``...``."""
    if answer is Ellipsis:
        return True
    if isinstance(answer, dict) and answer:
        return all(is_unanswered(v) for v in answer.values())
    if isinstance(answer, (list, tuple)) and answer:
        return all(is_unanswered(v) for v in answer)
    return False


def _describe(answer: Any) -> str:
    text = repr(answer)
    return f"{type(answer).__name__} {text[:60] + '…' if len(text) > 60 else text}"


def run_tests(ex: Exercise, answer: Any, tests: Any = None) -> CheckResult:
    """Run ``tests`` (the exercise's public tests by default) on ``answer``; never raises."""
    tests = ex.tests if tests is None else tests
    if is_unanswered(answer):
        return CheckResult(ex.id, ex.title, Status.NOT_ATTEMPTED, hint=not_attempted_hint(ex, answer))
    try:
        accepted = bool(ex.accepts(answer))
    except Exception:  # noqa: BLE001 - an odd object must not break the check
        accepted = False
    if not accepted:
        return CheckResult(ex.id, ex.title, Status.INVALID,
                           message=f"Expected {ex.expects}; got {_describe(answer)}.",
                           outcomes=tuple(TestOutcome(t.name, False, 0, t.points, "not run: the answer has the wrong form")
                                          for t in tests))
    outcomes: list[TestOutcome] = []
    for test in tests:
        try:
            test.run(answer)
        except (NotImplementedError, NotAttempted) as stub:
            own = str(stub) if isinstance(stub, NotAttempted) else ""
            hint = f"{own} (tagged {ex.tag})" if own else not_attempted_hint(ex, answer)
            return CheckResult(ex.id, ex.title, Status.NOT_ATTEMPTED, hint=hint)
        except Wrong as wrong:
            outcomes.append(TestOutcome(test.name, False, 0, test.points, wrong.message, wrong.hint))
        except RecursionError:
            outcomes.append(TestOutcome(test.name, False, 0, test.points, "your code recursed without end"))
        except Exception as error:  # noqa: BLE001 - the learner's code failed: say how, not where in ours
            outcomes.append(TestOutcome(test.name, False, 0, test.points,
                                        f"your code raised {type(error).__name__}: {error}"))
        else:
            outcomes.append(TestOutcome(test.name, True, test.points, test.points))
    status = Status.PASSED if all(o.passed for o in outcomes) else Status.FAILED
    return CheckResult(ex.id, ex.title, status, tuple(outcomes))


def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check ``answer`` against exercise ``exercise_id``'s public tests and show the result.

    It never raises: an unknown exercise, an unanswered stub, an answer of the wrong type and an answer
    whose code fails all come back as a result that says what is wrong and what would be valid.
    """
    if not isinstance(exercise_id, str) or get(exercise_id) is None:
        known = ", ".join(all_exercises()) or "none"
        return CheckResult(str(exercise_id), "unknown exercise", Status.INVALID,
                           message=f"There is no exercise called {exercise_id!r}. Known exercises: {known}.")
    ex = get(exercise_id)
    assert ex is not None
    return run_tests(ex, answer)
