"""A real Dockerfile for the Restaurant Service, read by a real Dockerfile parser, and checked.

:func:`render_dockerfile` writes the Dockerfile (and :func:`render_requirements` its ``requirements.txt``).
:func:`parse_dockerfile` reads Dockerfile text with the PyPI package `dockerfile
<https://github.com/asottile/dockerfile>`_, which wraps the parser of Moby's BuildKit (the parser ``docker
build`` itself uses), then checks what that parser lets through (unknown instructions, missing arguments, a
first instruction that is not ``FROM``). :func:`build_steps` turns the instructions into the
:class:`~labsupport.sim.containers.BuildStep` list the build-cache model runs, and :func:`lint_dockerfile`
reports common mistakes in plain words. Nothing here raises on a bad Dockerfile: the report says what is wrong.

No image is built here: building needs a container engine (Docker Engine, Podman, BuildKit), which this
course does not assume.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from labsupport.artifacts._report import report_html
from labsupport.sim.containers import BuildStep

__all__ = [
    "BASE_IMAGE",
    "DockerfileError",
    "DockerfileReport",
    "Finding",
    "Instruction",
    "build_steps",
    "command_of",
    "is_dependency_install",
    "lint_dockerfile",
    "parse_dockerfile",
    "render_dockerfile",
    "render_requirements",
]

#: A pinned tag: Python's minor version and the Debian release. Pinning the digest (``@sha256:...``) as well
#: makes the build fully repeatable; the digest is left out here because it changes with every patch release.
BASE_IMAGE = "python:3.12-slim-bookworm"
SERVICE_PORT = 8080
USER_ID = 10001

#: Every instruction of the Dockerfile reference (docs.docker.com/reference/dockerfile/).
INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")

_HEALTHCHECK = ("HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 "
                'CMD ["python", "-c", "import urllib.request; '
                f"urllib.request.urlopen('http://127.0.0.1:{SERVICE_PORT}/health', timeout=2)\"]")
_CMD = f'CMD ["python", "-m", "labsupport.service", "--host", "0.0.0.0", "--port", "{SERVICE_PORT}"]'


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
        lines.append("USER app")
    lines.append(f"EXPOSE {SERVICE_PORT}")
    if healthcheck:
        lines.append(_HEALTHCHECK)
    lines.append(_CMD)
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
    rule: str
    level: str  # "error", "warning" or "info"
    line: int
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.level} [{self.rule}] {where}{self.message}"


@dataclass(frozen=True, slots=True)
class DockerfileReport:
    """What :func:`lint_dockerfile` found. ``ok`` is True when the Dockerfile parses and has no errors."""

    findings: tuple[Finding, ...]
    instructions: tuple[Instruction, ...] = ()

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
        if not self.findings:
            return f"✔ no problems found in {len(self.instructions)} instructions"
        if not self.instructions:
            return "✘ not a Dockerfile a build would accept:\n" + "\n".join(f"  {f.message}" for f in self.findings)
        head = "✔" if self.ok else "✘"
        lines = [f"{head} {len(self.errors)} error(s), {len(self.findings) - len(self.errors)} other finding(s) "
                 f"in {len(self.instructions)} instructions"]
        return "\n".join(lines + [f"  {f}" for f in self.findings])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        items = [f"<li><b>{html.escape(f.level)}</b> <code>{html.escape(f.rule)}</code> "
                 f"{'line ' + str(f.line) + ': ' if f.line else ''}{html.escape(f.message)}</li>" for f in self.findings]
        return report_html(self.ok, str(self).splitlines()[0], items)


_SECRET = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY)", re.I)


def _image_tag(image: str) -> str | None:
    """The tag of ``image`` (``None`` when it has none); a digest counts as a pin."""
    if "@" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def lint_dockerfile(text: Any) -> DockerfileReport:
    """Check a Dockerfile for common mistakes; never raises (a parse error is the report's one error)."""
    try:
        instructions = parse_dockerfile(text)
    except DockerfileError as error:
        return DockerfileReport((Finding("parse", "error", 0, str(error)),))
    findings: list[Finding] = []
    stages = [i for i, ins in enumerate(instructions) if ins.name == "FROM"]
    stage_names = set()
    for index in stages:
        ins = instructions[index]
        image = ins.args[0]
        if len(ins.args) >= 3 and ins.args[1].upper() == "AS":
            stage_names.add(ins.args[2].lower())
        if image.lower() in stage_names or image == "scratch" or image.startswith("$"):
            continue
        tag = _image_tag(image)
        if tag is None or tag == "latest":
            findings.append(Finding("latest-tag", "warning", ins.line,
                                    f"FROM {image} {'has no tag, so it means' if tag is None else 'uses'} :latest, "
                                    "which moves: two builds can get different base images. Pin a version such "
                                    f"as {BASE_IMAGE} (and ideally its @sha256 digest)."))
    final = instructions[stages[-1]:]
    users = [ins for ins in final if ins.name == "USER"]
    if not users or users[-1].args[0].split(":")[0] in ("root", "0"):
        line = users[-1].line if users else 0
        findings.append(Finding("root-user", "warning", line,
                                "the service runs as root inside the container: a bug that lets someone run code "
                                "gets root in the container, one step closer to the host. Create a user and add "
                                "USER before CMD."))
    for i, ins in enumerate(instructions):
        if ins.name in ("COPY", "ADD") and any(_is_whole_context(s) for s in _sources(ins)):
            later = [j for j in instructions[i + 1:] if is_dependency_install(j)]
            if later:
                findings.append(Finding("copy-before-install", "warning", ins.line,
                                        f"{ins.name} of the whole build context comes before the dependency install "
                                        f"on line {later[0].line}: any source change invalidates the cache there "
                                        "and reinstalls every dependency. Copy the dependency list (for example "
                                        "requirements.txt) first, install, then copy the source."))
        if ins.name in ("CMD", "ENTRYPOINT") and not ins.json_form:
            findings.append(Finding("shell-form", "warning", ins.line,
                                    f"{ins.name} in shell form runs under /bin/sh -c, which becomes process 1 "
                                    "and does not pass SIGTERM on: docker stop waits 10 s and then kills the "
                                    f'service. Use the JSON form: {ins.name} ["python", "-m", ...].'))
        if ins.name == "ADD" and not any(s.startswith(("http://", "https://", "git@")) or s.endswith(
                (".tar", ".tar.gz", ".tgz")) for s in _sources(ins)):
            findings.append(Finding("add-for-copy", "info", ins.line,
                                    "ADD copies local files like COPY but also unpacks archives and fetches URLs; "
                                    "COPY says what you mean."))
        if ins.name == "RUN" and re.search(r"\bpip3? install\b", " ".join(ins.args)) and \
                "--no-cache-dir" not in " ".join(ins.args):
            findings.append(Finding("pip-cache", "info", ins.line,
                                    "pip keeps its download cache in the layer; add --no-cache-dir to keep the "
                                    "image smaller."))
        if ins.name in ("ENV", "ARG") and _SECRET.search(" ".join(ins.args)):
            findings.append(Finding("secret", "warning", ins.line,
                                    f"{ins.name} looks like it holds a secret: it stays in the image for anyone "
                                    "who can pull it. Pass secrets at run time or use a build secret mount."))
    if not any(ins.name == "HEALTHCHECK" for ins in final):
        findings.append(Finding("no-healthcheck", "info", 0,
                                "no HEALTHCHECK: the runtime knows the process is running, not that it answers."))
    if not any(ins.name in ("CMD", "ENTRYPOINT") for ins in final):
        findings.append(Finding("no-command", "error", 0,
                                "no CMD or ENTRYPOINT in the final stage: a container from this image has "
                                "nothing to run."))
    findings.sort(key=lambda f: ({"error": 0, "warning": 1}.get(f.level, 2), f.line, f.rule))
    return DockerfileReport(tuple(findings), instructions)


def command_of(instructions: tuple[Instruction, ...]) -> list[str]:
    """The command a container from the image runs (the last CMD, in JSON form as a list)."""
    cmds = [ins for ins in instructions if ins.name == "CMD"]
    if not cmds:
        return []
    cmd = cmds[-1]
    return list(cmd.args) if cmd.json_form else ["/bin/sh", "-c", " ".join(cmd.args)]
