"""Lesson 03's exercises: common wrong answers fail with a useful message (solutions and stubs: test_every_exercise.py)."""

from __future__ import annotations

from labsupport.grading import Status, check, lesson_exercises
from labsupport.scenarios import NAIVE_DOCKERFILE

IDS = [ex.id for ex in lesson_exercises("03")]
INSTALL = "COPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"


def _passed(result) -> list[bool]:
    return [o.passed for o in result.outcomes]


def test_lesson_has_at_least_two_exercises() -> None:
    assert IDS == ["03.better_dockerfile", "03.memory_limit_mb", "03.survives_leak"]


def test_the_unchanged_naive_dockerfile_is_not_attempted() -> None:
    for text in (NAIVE_DOCKERFILE, "\n" + NAIVE_DOCKERFILE, NAIVE_DOCKERFILE.replace("\n", "\n   \n")):
        result = check("03.better_dockerfile", text)
        assert result.status is Status.NOT_ATTEMPTED and result.points == 0
        assert "naive Dockerfile unchanged" in str(result)


def test_better_dockerfile_common_mistakes() -> None:
    # two settings swapped, the slow order kept
    unchanged_order = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("USER 10001\nEXPOSE 8080\n",
                                                                             "EXPOSE 8080\nUSER 10001\n"))
    assert _passed(unchanged_order) == [True, True, False]
    assert "the dependency install on line 8 among them" in str(unchanged_order)
    # install first, copy after: the install cannot find requirements.txt; the cache check is not run on it
    swapped = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace(
        INSTALL, "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"))
    assert _passed(swapped) == [True, False, False] and str(swapped).count("before any COPY") == 1
    assert "not checked: the build would stop at pip install on line 7" in str(swapped)
    # right order, but the slow-changing user creation moved after the source copy
    late = NAIVE_DOCKERFILE.replace(INSTALL, "COPY requirements.txt .\nRUN pip install --no-cache-dir -r "
                                    "requirements.txt\nCOPY . .\n")
    late = late.replace("RUN useradd --create-home --uid 10001 app\n", "").replace(
        "USER 10001\n", "RUN useradd --create-home --uid 10001 app\nUSER 10001\n")
    slow = check("03.better_dockerfile", late)
    assert _passed(slow) == [True, True, False] and "a better order exists" in str(slow)
    dropped = check("03.better_dockerfile", NAIVE_DOCKERFILE.replace("RUN pip install --no-cache-dir -r "
                                                                      "requirements.txt\n", ""))
    assert "nothing installs" in str(dropped) and dropped.points == 0
    assert str(dropped).count("nothing installs the service's dependencies") == 1  # said once, by the first check


def test_a_missing_user_is_named_and_spares_the_correct_parts() -> None:
    good = NAIVE_DOCKERFILE.replace(INSTALL, "COPY requirements.txt .\nRUN pip install --no-cache-dir -r "
                                    "requirements.txt\nCOPY . .\n")
    assert check("03.better_dockerfile", good).status is Status.PASSED
    root = check("03.better_dockerfile", good.replace("USER 10001\n", ""))
    assert _passed(root) == [False, True, True] and root.points == 3  # the order is right: 3 of 4 points
    assert "there is no USER instruction" in str(root) and str(root).count("run as root") == 1
    assert "USER 10001" in root.outcomes[0].hint  # the hint names the line to keep
    explicit_root = check("03.better_dockerfile", good.replace("USER 10001\n", "USER root\n"))
    assert _passed(explicit_root) == [False, True, True] and "is root" in str(explicit_root)
    # two problems, both named in the one check they belong to
    both = check("03.better_dockerfile", good.replace("USER 10001\n", "").replace("python:3.12-slim-bookworm",
                                                                                    "python:3.12"))
    assert _passed(both) == [False, True, True]
    assert "not the lesson's base image" in str(both) and "no USER instruction" in str(both)


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


def test_survives_leak_common_mistakes() -> None:
    from labsupport.grading.exercises.ex03_containers import LEAK_CASES, survives_in_model
    from labsupport.scenarios import LEAK_SCENARIO

    base = LEAK_SCENARIO.base_memory_mb
    assert [survives_in_model(*c) for c in LEAK_CASES] == [True, False, False, True, False]
    assert check("03.survives_leak", lambda limit, leak, s: base + leak * s < limit).status is Status.PASSED
    # forgetting the healthy memory: only the leak counted against the limit
    leak_only = check("03.survives_leak", lambda limit, leak, s: leak * s < limit)
    assert _passed(leak_only) == [True, True, True, True, False]
    assert "the model says OOM-killed" in str(leak_only) and "holds 24 MB" in str(leak_only)
    assert _passed(check("03.survives_leak", lambda limit, leak, s: True)) == [True, False, False, True, False]
    # a number instead of a verdict says what to return
    number = check("03.survives_leak", lambda limit, leak, s: limit - base - leak * s)
    assert number.points == 0 and "must return True (survives) or False" in str(number)
