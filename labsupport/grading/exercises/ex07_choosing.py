"""Lesson 07 exercises. Expected values come from the model's recommendation, never from a table of answers."""

from __future__ import annotations

from typing import Any

from labsupport.grading._choices import choice_map_tests
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.scenarios import SERVICES
from labsupport.sim.choosing import PATTERNS, Workload, compare, measures, recommend

# ---- 07.pick ---------------------------------------------------------------------------------------------



def model_pick(name: str) -> str:
    """The pattern the model recommends for the lesson's service ``name`` (each of them has one)."""
    pick = model_decide(SERVICES[name])
    if pick is None:
        raise ValueError(f"the model picks no pattern for the service {name!r}")
    return pick


@exercise("07.pick", "pick the pattern for three services",
          expects=f"a dict mapping each of {', '.join(SERVICES)} to one of {', '.join(PATTERNS)}",
          accepts=lambda a: isinstance(a, dict))
def _pick_tests() -> list[PublicTest]:
    return choice_map_tests(
        tuple(SERVICES), PATTERNS, lambda: {name: model_pick(name) for name in SERVICES}, keys_word="services",
        not_a="not a pattern", form_name="every service has one of the four patterns",
        right_name="every service has the pattern the order picks",
        wrong_phrase="get a pattern the order would not pick",
        hint="Go down the order (serverless, containers, VMs, language-specific packages) and stop at the "
             "first pattern that meets every requirement of the service, not the first one you like.")


# ---- 07.decide -------------------------------------------------------------------------------------------

def model_decide(workload: Workload) -> str | None:
    """The model's recommendation for ``workload``; None when no pattern meets its requirements."""
    return recommend(workload).pattern


def _describe(w: Workload) -> str:
    needs = [f"{w.rate_per_s:g} req/s (peak × {w.peak_to_mean:g})", f"isolation {w.isolation}"]
    if w.long_running:
        needs.append("long-running")
    for name, text in (("max_p99_ms", "p99 ≤ {:g} ms"), ("max_deploy_s", "deploy ≤ {:g} s"),
                       ("max_monthly_usd", "budget ${:,.0f}/month")):
        if getattr(w, name) is not None:
            needs.append(text.format(getattr(w, name)))
    return ", ".join(needs)


def _decide_cases(cases: tuple[Workload, ...], hint: str) -> Any:
    def test(answer: Any) -> None:
        for w in cases:
            got = answer(w, measures(compare(w)))
            if got is not None and got not in PATTERNS:
                raise Wrong(f"decide must return one of {', '.join(PATTERNS)} or None; it returned {got!r}")
            if got != model_decide(w):
                choice = "None" if got is None else repr(got)
                raise Wrong(f"for a workload with {_describe(w)}, your answer {choice} is not the most "
                            "lightweight pattern that meets every requirement", hint)
    return test


@exercise("07.decide", "the decision rule as a function",
          expects="a function decide(workload, measures) that returns a pattern name or None",
          accepts=callable)
def _decide_tests() -> list[PublicTest]:
    return [
        PublicTest("the lesson's default workload", 1, _decide_cases(
            (Workload(),), "Start with the most lightweight pattern and keep it unless a requirement rules it out.")),
        PublicTest("long-running processes and isolation", 2, _decide_cases(
            (Workload(long_running=True), Workload(long_running=True, isolation="own-kernel"),
             Workload(isolation="own-kernel"), Workload(long_running=True, isolation="none")),
            "Lambda cannot host a long-running process; compare each pattern's isolation score with "
            "ISOLATION_NEEDS[workload.isolation].")),
        PublicTest("latency, deploy time and budget", 2, _decide_cases(
            (Workload(max_p99_ms=300), Workload(long_running=True, isolation="none", max_deploy_s=130),
             Workload(rate_per_s=50, peak_to_mean=1, isolation="none", max_monthly_usd=300),
             Workload(rate_per_s=50, peak_to_mean=1, max_monthly_usd=100)),
            "Every requirement that is not None is a limit on one of the measures: p99_ms, deploy_s or "
            "monthly_usd. When no pattern meets them all, the answer is None.")),
    ]
