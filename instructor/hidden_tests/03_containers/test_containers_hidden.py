"""Hidden tests for lesson 03: a sample. Copy this folder, keep it private, and grade with --hidden.

Each test asks for an answer by its name (``better_dockerfile``, ``memory_limit_mb``, ``survives_leak``) and says what it is worth
with ``@pytest.mark.points(n)``. Learners see each test's first docstring line and passed/failed only.
Expected values come from the course's models and its own Dockerfile, as in the public checks.
"""

from __future__ import annotations

import pytest

from labsupport.artifacts.dockerfile import build_steps, lint_dockerfile, render_dockerfile
from labsupport.grading.exercises.ex03_containers import survives_in_model
from labsupport.scenarios import LIMIT_SCENARIO, NAIVE_DOCKERFILE, SOURCE_FILE
from labsupport.sim.containers import run_build, run_host


@pytest.mark.points(2)
@pytest.mark.parametrize("changed", ["labsupport/__init__.py", "labsupport/service/_server.py"])
def test_other_source_changes_keep_the_dependencies(better_dockerfile, changed):
    """other source files change without reinstalling the dependencies"""
    steps = build_steps(better_dockerfile)
    mine = run_build(steps, [changed])
    ours = run_build(build_steps(render_dockerfile()), [changed])
    install = next(i for i, s in enumerate(steps) if s.instruction == "RUN" and "pip install" in s.arguments)
    assert mine.series["step_reused"][install]  # so that an empty Dockerfile, which builds at once, fails
    assert mine.computed["total_s"] <= ours.computed["total_s"] + 0.5


def test_a_requirements_change_still_reinstalls(better_dockerfile):
    """a change to requirements.txt reinstalls the dependencies (no stale packages)"""
    steps = build_steps(better_dockerfile)
    trace = run_build(steps, ["requirements.txt"])
    install = next(i for i, s in enumerate(steps) if s.instruction == "RUN" and "pip install" in s.arguments)
    assert not trace.series["step_reused"][install]
    # and still reordered: the naive Dockerfile (the stub) reinstalls on every change, so it earns nothing here
    assert run_build(steps, [SOURCE_FILE]).series["step_reused"][install]


def test_the_dockerfile_has_no_errors(better_dockerfile):
    """the reordered Dockerfile lints without errors"""
    assert better_dockerfile.split() != NAIVE_DOCKERFILE.split(), "the naive Dockerfile, unchanged"
    assert lint_dockerfile(better_dockerfile).ok


@pytest.mark.points(2)
@pytest.mark.parametrize("seed", [3, 8])
def test_memory_limit_with_other_garbage_collection_phases(memory_limit_mb, seed):
    """the memory limit when the garbage collector runs at other moments"""
    trace = run_host(LIMIT_SCENARIO, seed=seed, memory_limit_mb=float(memory_limit_mb))
    kills = trace.of_kind("oom-kill")
    assert all(e.subject == "container-0" and e.data["scope"] == "cgroup" for e in kills)
    assert kills and kills[0].time_s <= 35.0


@pytest.mark.points(2)
@pytest.mark.parametrize("case", [(20.0, 0.0, 10.0), (64.0, 0.0, 30.0), (1024.0, 50.0, 30.0), (200.0, 2.0, 60.0)])
def test_survives_leak_in_other_cases(survives_leak, case):
    """other limits, leaks and times, including a limit below the healthy service and no leak at all"""
    assert survives_leak(*case) is survives_in_model(*case)
