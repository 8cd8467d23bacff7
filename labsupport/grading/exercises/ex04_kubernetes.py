"""Lesson 04 exercises. Expected values come from the models, never from a table of answers."""

from __future__ import annotations

from typing import Any

from labsupport.grading._choices import choice_map_tests
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.sim.kubernetes import ACTORS, run_cluster

# ---- 04.who_acts -------------------------------------------------------------------------------------------

WHO_ACTS_EVENTS = ("apply", "create-pod", "bind", "pod-ready", "program-rules", "mark-not-ready")


def _actors() -> dict[str, str]:
    trace = run_cluster()
    return {kind: trace.first(kind).actor for kind in WHO_ACTS_EVENTS}  # type: ignore[union-attr]


@exercise("04.who_acts", "which Kubernetes component acts",
          expects=f"a dict mapping each of {', '.join(WHO_ACTS_EVENTS)} to a component name",
          accepts=lambda a: isinstance(a, dict))
def _who_acts_tests() -> list[PublicTest]:
    return choice_map_tests(
        WHO_ACTS_EVENTS, ACTORS, _actors, keys_word="events", not_a="not a component of the model",
        form_name="every event has one of the five components", right_name="every event has the right component",
        wrong_phrase="are given to the wrong component",
        hint="Ask whose job each one is: storing what users asked for, reconciling objects, choosing a "
             "node, running containers on a node, or forwarding Service traffic.")


# ---- 04.max_pods -------------------------------------------------------------------------------------------

def _model_max_pods(replicas: int, max_surge: int | str, max_unavailable: int | str) -> int:
    trace = run_cluster(replicas=replicas, max_surge=max_surge, max_unavailable=max_unavailable, kill_node=None,
                        scale_to=None, rollout_at_s=30.0, duration_s=240.0, nodes=8, node_cpu_m=64000,
                        node_memory_mi=262144)
    return int(trace.series["pods"][30:].max())


def _max_pods_cases(cases: tuple[tuple[int, int | str, int | str], ...]) -> Any:
    def test(answer: Any) -> None:
        for replicas, surge, unavailable in cases:
            got = answer(replicas, surge, unavailable)
            if isinstance(got, bool) or not isinstance(got, int):
                if isinstance(got, float) and got.is_integer():
                    got = int(got)
                else:
                    raise Wrong(f"max_pods must return a whole number of pods; it returned {got!r}")
            if got != _model_max_pods(replicas, surge, unavailable):
                raise Wrong(f"for replicas={replicas}, maxSurge={surge!r}, maxUnavailable={unavailable!r} your "
                            f"function says {got}, which is not the most pods the model ever runs",
                            "A percentage of maxSurge is rounded one way, of maxUnavailable the other; "
                            "only the surge adds pods.")
    return test


@exercise("04.max_pods", "the most pods a rolling update runs at once",
          expects="a function max_pods(replicas, max_surge, max_unavailable) that returns a number of pods",
          accepts=callable)
def _max_pods_tests() -> list[PublicTest]:
    return [
        PublicTest("whole numbers", 1, _max_pods_cases(((4, 1, 0), (6, 2, 1)))),
        PublicTest("percentages, rounded as Kubernetes rounds them", 2,
                   _max_pods_cases(((4, "25%", "25%"), (6, "25%", "25%"), (10, "30%", "10%"), (3, "10%", "0%")))),
    ]
