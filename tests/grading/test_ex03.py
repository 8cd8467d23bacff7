"""Lesson 03's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

from labsupport.grading import Status, check, lesson_exercises
from labsupport.grading.exercises.ex03_containers import NAIVE_DOCKERFILE

IDS = [ex.id for ex in lesson_exercises("03")]
INSTALL = "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"


def _passed(result) -> list[bool]:
    return [o.passed for o in result.outcomes]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["03.better_dockerfile", "03.memory_limit_mb"]


def test_better_dockerfile_common_mistakes() -> None:
    unchanged = check("03.better_dockerfile", NAIVE_DOCKERFILE)
    assert _passed(unchanged) == [True, True, False]
    assert "the dependency install on line 8 among them" in str(unchanged)
    # install first, copy after: the install cannot find requirements.txt
    swapped = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace(
        INSTALL, "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"))
    assert _passed(swapped) == [True, False, False] and "before any COPY" in str(swapped)
    # right order, but the slow-changing user creation moved after the source copy
    late = NAIVE_DOCKERFILE.replace(INSTALL, "COPY requirements.txt .\nRUN pip install --no-cache-dir -r "
                                    "requirements.txt\nCOPY . .\n")
    late = late.replace("RUN useradd --create-home --uid 10001 app\n", "").replace(
        "USER app\n", "RUN useradd --create-home --uid 10001 app\nUSER app\n")
    slow = check("03.better_dockerfile", late)
    assert _passed(slow) == [True, True, False] and "a better order exists" in str(slow)
    dropped = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("RUN pip install --no-cache-dir -r "
                                                                      "requirements.txt\n", ""))
    assert "nothing installs" in str(dropped) and dropped.points == 0
    root = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("USER app\n", ""))
    assert "run as root" in str(root)
    other_base = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("python:3.12-slim-bookworm", "python:3.12"))
    assert "not the lesson's base image" in str(other_base)


def test_better_dockerfile_bad_text_and_types() -> None:
    typo = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("WORKDIR", "WROKDIR"))
    assert typo.status is Status.FAILED and "does not parse" in str(typo) and "WROKDIR" in str(typo)
    empty = check("03.better_dockerfile", "")
    assert "does not parse" in str(empty) and "no instructions" in str(empty)
    lines = check("03.better_dockerfile", NAIVE_DOCKERFILE.splitlines())
    assert lines.status is Status.INVALID and "the text of a Dockerfile (a str)" in str(lines)


def test_memory_limit_common_mistakes() -> None:
    too_low = check("03.memory_limit_mb", 400)  # below a healthy container's garbage-collection peak
    assert _passed(too_low) == [False, True, True] and "although it does not leak" in str(too_low)
    just_base = check("03.memory_limit_mb", 300)
    assert "is OOM-killed at 0 s" in str(just_base) or "although it does not leak" in str(just_base)
    too_high = check("03.memory_limit_mb", 2048)
    assert _passed(too_high) == [True, False, False]
    assert "the whole VM runs out of memory first" in str(too_high) and "more than the 3328 MB" in str(too_high)
    no_room = check("03.memory_limit_mb", 500)  # stops the leak in time, but seven of them do not fit
    assert _passed(no_room) == [True, True, False]
    late = check("03.memory_limit_mb", 600)
    assert "after the 35 s deadline" in str(late)
    for answer in ("440", True, -5, float("nan")):
        assert check("03.memory_limit_mb", answer).status is Status.INVALID
    tiny = check("03.memory_limit_mb", 2)
    assert "smallest memory limit Docker accepts" in str(tiny)
    for result in (too_low, too_high, no_room, late):
        assert "440" not in str(result) and "450" not in str(result)  # never the expected answer
