"""Lesson 03 exercises. Expected values come from the models and the course's own Dockerfile, never from a table."""

from __future__ import annotations

import math
from typing import Any

from labsupport.artifacts.dockerfile import (
    BASE_IMAGE,
    DockerfileError,
    build_steps,
    command_of,
    is_dependency_install,
    parse_dockerfile,
    render_dockerfile,
)
from labsupport.grading._check import NotAttempted
from labsupport.grading._registry import PublicTest, Wrong, exercise
from labsupport.scenarios import DEADLINE_S, LEAK_SCENARIO, LIMIT_SCENARIO, NAIVE_DOCKERFILE, SOURCE_FILE
from labsupport.sim.containers import copies_changed, run_build, run_host

__all__ = ["LEAK_CASES", "survives_in_model"]  # the checks register themselves; scenarios: labsupport.scenarios

# ---- 03.better_dockerfile ------------------------------------------------------------------------------------

_NAIVE_USER = next(line for line in NAIVE_DOCKERFILE.splitlines() if line.startswith("USER "))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _parsed(answer: str) -> Any:
    try:
        return parse_dockerfile(answer)
    except DockerfileError as error:
        raise Wrong(f"your Dockerfile does not parse: {error}",
                    "Start from the naive Dockerfile in the cell and move lines; keep one instruction per line.") from None


def _install_of(answer: str) -> tuple[Any, int]:
    """The instructions and the index of the dependency install, or Wrong("not checked ...") when the first
    check already reports why there is none (each problem is reported once, by the check it belongs to)."""
    try:
        instructions = parse_dockerfile(answer)
    except DockerfileError:
        raise Wrong("not checked: your Dockerfile does not parse (see the first check)") from None
    install = next((k for k, ins in enumerate(instructions) if is_dependency_install(ins)), None)
    if install is None:
        raise Wrong("not checked: nothing installs the dependencies (see the first check)")
    return instructions, install


def _keeps_the_service(answer: str) -> None:
    if _lines(answer) == _lines(NAIVE_DOCKERFILE):
        raise NotAttempted("The cell holds the naive Dockerfile unchanged: reorder its lines, then run the cell "
                           "and this check again.")
    instructions = _parsed(answer)
    final = instructions[max(k for k, ins in enumerate(instructions) if ins.name == "FROM"):]
    problems: list[str] = []
    hints: list[str] = []
    if final[0].args[0] != BASE_IMAGE:
        problems.append(f"the final image starts FROM {final[0].args[0]}, not the lesson's base image")
        hints.append("keep the FROM line as it is: the exercise is about order, not about the base")
    if command_of(instructions) != command_of(parse_dockerfile(NAIVE_DOCKERFILE)):
        problems.append("the image would not start the service the way the original does")
        hints.append("keep the CMD line unchanged, in its JSON form")
    if not any(is_dependency_install(i) for i in instructions):
        problems.append("nothing installs the service's dependencies any more")
        hints.append("keep the naive Dockerfile's pip install line, which installs from requirements.txt")
    if not any(copies_changed(s, [SOURCE_FILE]) for s in build_steps(instructions)):
        problems.append(f"no COPY brings the service's source ({SOURCE_FILE}) into the image")
        hints.append("the service is the folder labsupport/ (labsupport/__init__.py and labsupport/service/)")
    users = [i for i in final if i.name == "USER"]
    if not users:
        problems.append("there is no USER instruction, so the service would run as root")
        hints.append(f"keep the USER line of the original ({_NAIVE_USER}) before CMD")
    elif users[-1].args[0].split(":")[0] in ("root", "0"):
        problems.append(f"the last USER (line {users[-1].line}) is root, so the service would run as root")
        hints.append(f"keep the USER line of the original ({_NAIVE_USER}) before CMD")
    if problems:
        hint = "; ".join(hints)
        raise Wrong("; ".join(problems), hint[0].upper() + hint[1:] + ".")


def _requirements_first(answer: str) -> None:
    instructions, install = _install_of(answer)
    steps = build_steps(instructions)
    if not any(copies_changed(s, ["requirements.txt"]) for s in steps[:install]):
        raise Wrong(f"pip install on line {instructions[install].line} reads requirements.txt before any COPY has "
                    "put it into the image: the build would fail there",
                    "A step sees only what earlier steps put into the image.")


def _source_change_is_cheap(answer: str) -> None:
    instructions, install = _install_of(answer)
    steps = build_steps(instructions)
    if not any(copies_changed(s, ["requirements.txt"]) for s in steps[:install]):
        raise Wrong(f"not checked: the build would stop at pip install on line {instructions[install].line} "
                    "(see the check above)")
    mine = run_build(steps, [SOURCE_FILE])
    ours = run_build(build_steps(render_dockerfile()), [SOURCE_FILE])
    rerun = int((~mine.series["step_reused"]).sum())
    if not mine.series["step_reused"][install]:
        raise Wrong(f"after a change to {SOURCE_FILE} your build runs {rerun} steps again, the dependency "
                    f"install on line {instructions[install].line} among them",
                    "The cache is reused up to the first step whose input changed. Which COPY sees the "
                    "source change, and what comes after it?")
    if mine.computed["total_s"] > ours.computed["total_s"] + 0.5:
        raise Wrong(f"after a change to {SOURCE_FILE} your build still takes {mine.computed['total_s']:.1f} s; "
                    "a better order exists",
                    "Put the steps that change least often first.")


@exercise("03.better_dockerfile", "order a Dockerfile so a source change rebuilds little",
          expects="the text of a Dockerfile (a str)", accepts=lambda a: isinstance(a, str))
def _better_dockerfile_tests() -> list[PublicTest]:
    return [
        PublicTest("parses and still builds and runs the same service", 1, _keeps_the_service),
        PublicTest("requirements.txt is in the image before pip install reads it", 1, _requirements_first),
        PublicTest("a source change reuses the installed dependencies", 2, _source_change_is_cheap),
    ]


# ---- 03.memory_limit_mb --------------------------------------------------------------------------------------



def _is_megabytes(answer: Any) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer) and answer > 0


def _run(answer: float, seed: int = 0) -> Any:
    if answer < 6:
        raise Wrong(f"{answer:g} MB is below the smallest memory limit Docker accepts (6 MB)")
    return run_host(LIMIT_SCENARIO, seed=seed, memory_limit_mb=float(answer))


def _healthy_survive(answer: float) -> None:
    trace = _run(answer)
    leaky = f"container-{LIMIT_SCENARIO.leaky_container}"
    for e in trace.of_kind("oom-kill"):
        if e.subject != leaky or e.time_s < LIMIT_SCENARIO.leak_at_s:
            raise Wrong(f"with a limit of {answer:g} MB, {e.subject} is OOM-killed at {e.time_s:g} s although it "
                        "does not leak",
                        "A healthy container's memory rises and falls with garbage collection. What is the most it "
                        "ever uses?")


def _leak_stopped(answer: float) -> None:
    trace = _run(answer)
    leaky = f"container-{LIMIT_SCENARIO.leaky_container}"
    kill = trace.first("oom-kill", leaky)
    if kill is None:
        raise Wrong(f"with a limit of {answer:g} MB the leaking container is never killed in "
                    f"{LIMIT_SCENARIO.duration_s:g} s",
                    "Where is the leaking container's memory at the deadline, at the least?")
    if kill.data["scope"] == "vm":
        raise Wrong(f"with a limit of {answer:g} MB the limit never stops the leaking container: the whole VM runs "
                    f"out of memory first, at {kill.time_s:g} s, and the VM's OOM killer acts",
                    "A limit only helps if it is reached before the VM's memory is.")
    if kill.time_s > DEADLINE_S:
        raise Wrong(f"with a limit of {answer:g} MB the leaking container is first killed at {kill.time_s:g} s, "
                    f"after the {DEADLINE_S:g} s deadline",
                    "It leaks from 10 s on; work out its memory at the deadline, counting only what it surely "
                    "holds.")


def _fits_on_the_vm(answer: float) -> None:
    usable = LIMIT_SCENARIO.vm_memory_mb - LIMIT_SCENARIO.os_memory_mb
    total = LIMIT_SCENARIO.containers * answer
    if total > usable:
        raise Wrong(f"{LIMIT_SCENARIO.containers} containers × {answer:g} MB = {total:g} MB, more than the "
                    f"{usable:g} MB the VM has for containers",
                    "If every container may grow to its limit, the limits together must fit, or the VM's own OOM "
                    "killer picks a victim again.")


@exercise("03.memory_limit_mb", "a memory limit that stops the leak and spares the healthy",
          expects="a number of megabytes (for example 300)", accepts=_is_megabytes)
def _memory_limit_tests() -> list[PublicTest]:
    return [
        PublicTest("no healthy container is ever OOM-killed", 1, _healthy_survive),
        PublicTest(f"the leaking container is killed by {DEADLINE_S:g} s", 1, _leak_stopped),
        PublicTest("the seven limits fit in the VM's memory", 1, _fits_on_the_vm),
    ]


# ---- 03.survives_leak ----------------------------------------------------------------------------------------

#: (memory limit MB, leak MB/s, seconds): the public cases; none lies within a step of the limit.
LEAK_CASES = ((128.0, 10.0, 10.0), (64.0, 10.0, 10.0), (256.0, 20.0, 15.0), (512.0, 5.0, 60.0), (100.0, 8.0, 10.0))


def survives_in_model(memory_limit_mb: float, leak_mb_per_s: float, seconds: float) -> bool:
    """Does lesson 03's model keep the container of ``LEAK_SCENARIO`` alive, unkilled, for ``seconds``?"""
    trace = run_host(LEAK_SCENARIO, memory_limit_mb=float(memory_limit_mb), leak_mb_per_s=float(leak_mb_per_s),
                     duration_s=float(seconds))
    return trace.first("oom-kill") is None


def _verdict_of(rule: Any, case: tuple[float, float, float]) -> bool:
    verdict = rule(*case)
    if not isinstance(verdict, bool) and type(verdict).__name__ != "bool_":
        raise Wrong(f"survives_leak{case} returned {verdict!r}: it must return True (survives) or False (OOM-killed)",
                    "End your function with a comparison, for example return needed_mb < memory_limit_mb.")
    return bool(verdict)


def _case_test(case: tuple[float, float, float]) -> Any:
    limit, leak, seconds = case

    def test(rule: Any) -> None:
        expected = survives_in_model(*case)
        if _verdict_of(rule, case) != expected:
            raise Wrong(f"a {limit:g} MB limit with a {leak:g} MB/s leak for {seconds:g} s: your rule says "
                        f"{'survives' if not expected else 'OOM-killed'}, the model says "
                        f"{'survives' if expected else 'OOM-killed'}",
                        f"The healthy service holds {LEAK_SCENARIO.base_memory_mb:g} MB (LEAK_SCENARIO) and leaks from "
                        "its start: how much does it hold at the end, and what does the kernel do at the limit?")
    return test


@exercise("03.survives_leak", "predict whether a memory limit survives a leak",
          expects="a function survives_leak(memory_limit_mb, leak_mb_per_s, seconds) returning True or False",
          accepts=lambda a: callable(a))
def _survives_leak_tests() -> list[PublicTest]:
    return [PublicTest(f"{limit:g} MB, leaking {leak:g} MB/s, for {seconds:g} s", 1, _case_test((limit, leak, seconds)))
            for limit, leak, seconds in LEAK_CASES]
