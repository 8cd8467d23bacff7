"""Results of checking one answer: small frozen records that show themselves in a notebook."""

from __future__ import annotations

import html
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CheckResult", "Status", "TestOutcome"]

HIDDEN_LATER = "Your instructor may also grade this exercise with hidden tests, later."

class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted yet"
    INVALID = "invalid answer"  # wrong type or shape: nothing could be checked


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """One test of an answer: its name, points earned, and what to tell the learner (never the test code)."""

    name: str
    passed: bool
    points: float
    max_points: float
    message: str = ""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    exercise_id: str
    title: str
    status: Status
    outcomes: tuple[TestOutcome, ...] = ()
    message: str = ""
    hint: str = ""

    @property
    def points(self) -> float:
        return sum(o.points for o in self.outcomes)

    @property
    def max_points(self) -> float:
        return sum(o.max_points for o in self.outcomes)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def summary(self) -> str:
        if self.status is Status.PASSED:  # public checks only: hidden tests, if any, are graded later
            return f"all {len(self.outcomes)} public checks passed"
        if self.status is Status.FAILED:
            failed = sum(not o.passed for o in self.outcomes)
            return f"{failed} of {len(self.outcomes)} checks failed"
        return str(self.status.value)

    def __str__(self) -> str:
        mark = {"passed": "✔", "failed": "✘", "not attempted yet": "…", "invalid answer": "✘"}[self.status.value]
        lines = [f"{mark} {self.exercise_id} ({self.title}): {self.summary()}"
                 + (f" — {self.points:g}/{self.max_points:g} points" if self.outcomes else "")]
        if self.status is Status.PASSED:
            lines.append(f"  {HIDDEN_LATER}")
        if self.message:
            lines.append(f"  {self.message}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        for o in self.outcomes:
            if not o.passed:
                lines.append(f"  ✘ {o.name}: {o.message}")
                if o.hint:
                    lines.append(f"    hint: {o.hint}")
            else:
                lines.append(f"  ✔ {o.name}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"passed": "#009E73", "failed": "#D55E00", "not attempted yet": "#8C8C8C",
                  "invalid answer": "#D55E00"}[self.status.value]
        head = (f"<b>{html.escape(self.exercise_id)}</b> — {html.escape(self.title)}: "
                f"<b>{html.escape(self.summary())}</b>")
        if self.outcomes:
            head += f" ({self.points:g}/{self.max_points:g} points)"
        body = f"<div><i>{html.escape(HIDDEN_LATER)}</i></div>" if self.status is Status.PASSED else ""
        if self.message:
            body += f"<div>{html.escape(self.message)}</div>"
        if self.hint:
            body += f"<div><i>Hint:</i> {html.escape(self.hint)}</div>"
        items = []
        for o in self.outcomes:
            if o.passed:
                items.append(f"<li>✔ {html.escape(o.name)}</li>")
            else:
                hint = f"<br><i>Hint:</i> {html.escape(o.hint)}" if o.hint else ""
                items.append(f"<li>✘ {html.escape(o.name)}: {html.escape(o.message)}{hint}</li>")
        if items:
            body += "<ul style='margin:4px 0'>" + "".join(items) + "</ul>"
        return (f"<div class='labsupport-check' data-status='{self.status.value}' style='border-left:6px solid "
                f"{colour};padding:6px 10px;margin:6px 0;background:#fafafa'>{head}{body}</div>")
