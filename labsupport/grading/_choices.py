"""Public tests for one kind of exercise: map each of some keys to one of a few named choices.

Lessons use it for "which part acts at each event", "which component acts", "which pattern for each
service". The form is checked first (every key answered, no unknown key, every value one of the choices), then
the content against what the model says; the message names the wrong keys, so the learner knows where to look,
but never the right choice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from labsupport.grading._registry import PublicTest, Wrong

__all__ = ["choice_map_tests"]


def choice_map_tests(keys: Sequence[str], choices: Sequence[str], expected: Callable[[], dict[str, str]], *,
                     keys_word: str, not_a: str, form_name: str, right_name: str, wrong_phrase: str,
                     hint: str, form_points: float = 1, right_points: float = 3) -> list[PublicTest]:
    """Two tests: the answer's form (``form_points``) and its content (``right_points``).

    ``keys_word`` names the keys in messages ("events"); ``not_a`` starts the message for a value that is not
    a choice ("not a pattern"); ``wrong_phrase`` follows the count of wrong keys ("are given to the wrong part"),
    and the wrong keys themselves come after it, in the exercise's order.
    """

    def form(answer: Any) -> None:
        missing = [k for k in keys if k not in answer]
        if missing:
            raise Wrong(f"these {keys_word} have no answer: {', '.join(missing)}")
        extra = [str(k) for k in answer if k not in keys]
        if extra:
            raise Wrong(f"these keys are not {keys_word} of the exercise: {', '.join(extra)}",
                        f"The {keys_word} are: {', '.join(keys)}.")
        unknown = sorted({str(v) for v in answer.values() if v not in choices and v is not Ellipsis})
        if unknown:
            raise Wrong(f"{not_a}: {', '.join(unknown)}", f"Use exactly one of: {', '.join(choices)}.")
        blank = [k for k, v in answer.items() if v is Ellipsis]
        if blank:
            raise Wrong(f"still ... for: {', '.join(blank)}")

    def right(answer: Any) -> None:
        truth = expected()
        wrong = [k for k in keys if answer.get(k) != truth[k]]
        if wrong:
            raise Wrong(f"{len(wrong)} of {len(keys)} {keys_word} {wrong_phrase}: {', '.join(wrong)}", hint)

    return [PublicTest(form_name, form_points, form), PublicTest(right_name, right_points, right)]
