"""Lesson 01 exercises. Expected values come from the model, never from a table of answers."""

from __future__ import annotations

from typing import Any

from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.scenarios import MACHINE_MB, OOM_SCENARIO, PLACEMENT_MB
from labsupport.sim.packaging import oom_kill_order, optimal_packing, run_machine

__all__: list[str] = []  # the checks register themselves; the scenarios are in labsupport.scenarios

# ---- 01.placement --------------------------------------------------------------------------------------------



def _fewest_machines() -> int:
    return len(optimal_packing(list(PLACEMENT_MB.values()), MACHINE_MB))


def _is_list_of_lists(answer: Any) -> bool:
    return isinstance(answer, (list, tuple)) and all(isinstance(m, (list, tuple, set)) for m in answer)


def _placement_form(answer: Any) -> None:
    names = [name for machine in answer for name in machine]
    unknown = sorted({str(n) for n in names if n not in PLACEMENT_MB})
    if unknown:
        raise Wrong(f"not an instance of the exercise: {', '.join(unknown)}",
                    f"The instances are: {', '.join(PLACEMENT_MB)}.")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise Wrong(f"placed more than once: {', '.join(twice)}", "Each instance runs on exactly one machine.")
    missing = [n for n in PLACEMENT_MB if n not in names]
    if missing:
        raise Wrong(f"not placed on any machine: {', '.join(missing)}")


def _placement_fits(answer: Any) -> None:
    _placement_form(answer)
    for number, machine in enumerate(answer, start=1):
        total = sum(PLACEMENT_MB[n] for n in machine)
        if total > MACHINE_MB:
            raise Wrong(f"machine {number} would need {total} MB but has {MACHINE_MB} MB",
                        "With no caps nothing stops these processes from growing into each other: the kernel's "
                        "OOM killer would end one of them.")


def _placement_fewest(answer: Any) -> None:
    _placement_fits(answer)
    used = sum(1 for machine in answer if machine)
    if used > _fewest_machines():
        raise Wrong(f"your placement uses {used} machines; a placement on fewer machines exists",
                    "Add up all the memory and divide by one machine's: no placement can beat that bound. When "
                    "the bound is tight, every machine must be filled almost exactly: look for groups that add "
                    "up to nearly a whole machine.")


@exercise("01.placement", "place the instances on as few machines as possible",
          expects="a list of machines, each a list of instance names (for example [['order', 'review'], ...])",
          accepts=_is_list_of_lists)
def _placement_tests() -> list[PublicTest]:
    return [
        PublicTest("every instance is placed exactly once", 1, _placement_form),
        PublicTest("no machine holds more memory than it has", 1, _placement_fits),
        PublicTest("as few machines as possible", 2, _placement_fewest),
    ]


# ---- 01.oom_order --------------------------------------------------------------------------------------------



def _oom_form(answer: Any) -> None:
    if not all(isinstance(name, str) for name in answer):
        raise Wrong("every entry must be an instance name such as 'instance-0'")
    valid = {f"instance-{i}" for i in range(OOM_SCENARIO.instances)}
    unknown = sorted({n for n in answer if n not in valid})
    if unknown:
        raise Wrong(f"not an instance of the scenario: {', '.join(unknown)}",
                    f"The instances are {', '.join(sorted(valid))}.")
    if len(set(answer)) != len(answer):
        raise Wrong("an instance appears twice; a killed process stays dead (nothing restarts it here)")


def _oom_right(answer: Any) -> None:
    _oom_form(answer)
    expected = oom_kill_order(run_machine(OOM_SCENARIO))
    answer = list(answer)
    if answer[:1] != expected[:1]:
        raise Wrong("the first process the OOM killer ends is not the one you named",
                    "The kernel does not know who leaks. Which process holds the most memory at the moment the "
                    "RAM and the swap are full?")
    if len(answer) < len(expected):
        raise Wrong("the OOM killer acts again after the kill(s) you listed",
                    "After a kill the leak goes on, unless the leaking process was the one killed.")
    if answer != expected:
        raise Wrong("the order after the first kill is not right, or you list a kill that never happens",
                    "Recompute who is largest each time the memory runs out again.")


@exercise("01.oom_order", "who the OOM killer ends, in order",
          expects="a list of instance names in the order the OOM killer kills them, such as ['instance-0']",
          accepts=lambda a: isinstance(a, (list, tuple)))
def _oom_tests() -> list[PublicTest]:
    return [
        PublicTest("names instances of the scenario", 1, _oom_form),
        PublicTest("the kills, in the order they happen", 3, _oom_right),
    ]
