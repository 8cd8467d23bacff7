"""Lesson 03's Dockerfile: rendered, parsed by BuildKit's parser, turned into build steps, linted."""

from __future__ import annotations

import pytest

from labsupport.artifacts.dockerfile import (
    BASE_IMAGE,
    DockerfileError,
    build_steps,
    command_of,
    lint_dockerfile,
    parse_dockerfile,
    render_dockerfile,
    render_requirements,
)
from labsupport.sim.containers import run_build

SOURCE_CHANGE = ["labsupport/service/_app.py"]


def test_the_rendered_dockerfile_parses_and_lints_clean() -> None:
    text = render_dockerfile()
    instructions = parse_dockerfile(text)
    assert [i.name for i in instructions] == ["FROM", "ENV", "RUN", "WORKDIR", "COPY", "RUN", "COPY", "COPY", "USER",
                                              "EXPOSE", "HEALTHCHECK", "CMD"]
    assert instructions[0].args[0] == BASE_IMAGE
    assert command_of(instructions) == ["python", "-m", "labsupport.service", "--host", "0.0.0.0", "--port", "8080"]
    report = lint_dockerfile(text)
    assert report.ok and report.findings == () and "no problems found in 12 instructions" in str(report)
    assert "Python's standard library" in render_requirements()


def test_the_order_of_instructions_decides_what_a_source_change_rebuilds() -> None:
    good = run_build(build_steps(render_dockerfile()), SOURCE_CHANGE)
    naive = run_build(build_steps(render_dockerfile(order="source-first")), SOURCE_CHANGE)
    assert good.params["total_s"] < 1.0 < 25.0 < naive.params["total_s"]
    assert good.params["first_rebuilt"] == 7  # COPY labsupport/service/
    assert naive.params["first_rebuilt"] == 4  # COPY . .
    requirements = run_build(build_steps(render_dockerfile()), ["requirements.txt"])
    assert requirements.params["first_rebuilt"] == 4 and requirements.params["total_s"] > 25.0
    assert "copy-before-install" in lint_dockerfile(render_dockerfile(order="source-first")).rules
    with pytest.raises(ValueError, match="order must be"):
        render_dockerfile(order="random")


def test_steps_take_their_sources_and_costs_from_the_instructions() -> None:
    steps = build_steps(render_dockerfile())
    assert steps[4].sources == ("requirements.txt",) and steps[7].sources == ("labsupport/service/",)
    assert steps[5].build_s > 10 and steps[5].size_mb > 0  # the dependency install is the slow step
    assert [s.makes_layer for s in steps][:4] == [True, False, True, False]
    multi = build_steps("FROM python:3.12-slim AS build\nRUN pip wheel -w /w x\nFROM python:3.12-slim\n"
                        "COPY --from=build /w /w\nCMD [\"x\"]\n")
    assert multi[3].sources == ()  # copied from a stage, not from the build context


@pytest.mark.parametrize(("text", "message"), [
    ("", "no instructions"),
    ("   \n# only a comment\n", "no instructions"),
    ("FRM python:3.12-slim\n", "unknown instruction 'FRM' (did you mean FROM?)"),
    ("FROM\n", "line 1: FROM needs arguments"),
    ("FROM x:1\nCOPY requirements.txt\n", "line 2: COPY needs a source and a destination"),
    ("RUN pip install x\nFROM x:1\n", "the first instruction must be FROM"),
    ("FROM x:1\nRUN <<EOF\necho\n", "cannot read it: unterminated heredoc"),
])
def test_invalid_dockerfiles_get_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(DockerfileError) as error:
        parse_dockerfile(text)
    assert message in str(error.value)
    report = lint_dockerfile(text)  # never raises
    assert not report.ok and report.rules == ("parse",) and message in str(report)
    assert "<div" in report._repr_html_()


def test_lint_finds_common_mistakes() -> None:
    report = lint_dockerfile("FROM ubuntu\nENV DB_PASSWORD=hunter2\nADD . /app\nRUN pip install -r /app/r.txt\n"
                             "CMD python -m app\n")
    assert report.ok  # warnings, no errors: it would build
    assert set(report.rules) == {"latest-tag", "root-user", "secret", "copy-before-install", "shell-form",
                                 "add-for-copy", "pip-cache", "no-healthcheck"}
    assert "hunter2" not in str(report)
    assert "pin a version" in str(report).lower()
    assert lint_dockerfile("FROM python:latest\nUSER root\nCMD [\"x\"]\n").rules[:2] == ("latest-tag", "root-user")
    no_cmd = lint_dockerfile("FROM python:3.12-slim\nUSER app\nHEALTHCHECK CMD [\"true\"]\n")
    assert not no_cmd.ok and no_cmd.rules == ("no-command",)
    assert lint_dockerfile(42).rules == ("parse",) and "a str" in str(lint_dockerfile(42))
    pinned = lint_dockerfile("FROM python@sha256:abc\nUSER app\nHEALTHCHECK CMD [\"true\"]\nCMD [\"x\"]\n")
    assert pinned.findings == ()
