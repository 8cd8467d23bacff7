"""The Restaurant Service in a real OCI container: the runtime spec, and a run of it with runc or crun.

* :func:`render_runtime_spec` writes the ``config.json`` of an OCI runtime bundle (Open Container Initiative,
  runtime-spec ``config.md`` and ``config-linux.md``) from the parameters of lesson 03's model
  (:class:`labsupport.sim.containers.HostParams`: a memory limit and a CPU quota), plus a hostname, the command,
  a read-only root holding read-only bind mounts of the host's ``/usr``, ``/etc`` and ``/lib*``, a private
  ``/tmp``, its own pid, uts, ipc, mount and network namespaces (a network namespace of its own holds only a
  loopback interface), no new privileges and no capabilities.
* :func:`docker_resources` is what ``docker run --memory 256m --cpus 0.5`` turns into: Docker (moby) writes
  ``--cpus`` as a CFS quota over a 100 000 µs period, so 0.5 CPUs is ``quota 50000, period 100000``
  (``cpu.cfs_quota_us``/``cpu.cfs_period_us`` under cgroup v1, ``cpu.max`` ``"50000 100000"`` under v2).
* :func:`container_support` says whether this machine can run a container (a runtime found, root or rootless
  user namespaces, cgroup v1 or v2 with a memory controller) and, when it cannot, exactly why.
* :func:`run_in_container` runs a command in a fresh bundle with a time limit and reports what happened:
  exit status, whether the kernel's OOM killer ended it, peak memory from the cgroup, output, start time. It
  removes the container, its cgroup and its bundle afterwards, also when the run fails or times out; a watchdog
  started with each container (``labsupport.artifacts._reaper``) removes them soon after the process that started
  it ends, however it ended (a Jupyter kernel killed mid-run runs no ``finally``).

Standard library only: a model never needs this module, and it needs nothing but a runtime.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labsupport.facts import (  # the port it listens on, inside its container on its own loopback
    HEALTH_PATH,
    SERVICE_PORT,
)
from labsupport.service import build_zipapp, is_running
from labsupport.sim.containers import BACKOFF_RESET_S, OOM_EXIT_CODE, RESTART_POLICIES, HostParams, restart_delay_s

__all__ = [
    "CFS_PERIOD_US",
    "MIN_MEMORY_MB",
    "RUNTIMES",
    "SERVICE_PORT",
    "ContainerError",
    "ContainerRun",
    "ContainerSupport",
    "Exec",
    "Restarts",
    "cgroup_files",
    "container_support",
    "docker_resources",
    "host_binds",
    "judge_support",
    "leftovers",
    "model_vs_measured",
    "parse_docker_memory",
    "render_runtime_spec",
    "run_in_container",
    "run_service",
    "run_with_restart_policy",
    "service_command",
    "service_files",
    "should_restart",
    "sweep_orphans",
]

#: The runtimes the course drives, in the order it looks for them (both read the same bundle).
RUNTIMES = ("runc", "crun")
#: Docker's CFS period for ``--cpus`` (moby: 100 ms), in microseconds.
CFS_PERIOD_US = 100_000
#: The smallest memory limit ``run_in_container`` accepts. Measured under runc 1.1 (cgroup v1): runc refuses a
#: limit below what its own init already uses (about 2 MB); a bare ``python3 -c "print(1)"`` starts in 3 MB when
#: its files are already in the page cache, but importing what the Restaurant Service needs (``http.server``,
#: ``json``, ``urllib``) is OOM-killed at 8 MB.
MIN_MEMORY_MB = 16.0
#: Host folders the container's root shows read-only: the interpreter, its libraries and configuration.
HOST_FOLDERS = ("/usr", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin")
#: The ociVersion written when the runtime does not say which version of the spec it implements.
DEFAULT_OCI_VERSION = "1.0.2"
#: Where the files given to :func:`run_in_container` appear inside the container.
APP_DIR = "/app"
_PREFIX = "labsupport-"
_DEFAULTS = HostParams()
_CGROUP_ROOT = Path("/sys/fs/cgroup")


class ContainerError(RuntimeError):
    """A container could not be run as asked; the message says what is wrong and what would be valid."""


# ---- what docker run's flags become ---------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_docker_memory(value: str | int) -> int:
    """Bytes of a ``docker run --memory`` value: ``"256m"`` is 268 435 456 (Docker's units are powers of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*", str(value).lower())
    if not match:
        raise ContainerError(f"--memory {value!r} is not a size: write a number and a unit b, k, m or g, "
                             "for example 256m")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def docker_resources(memory: str | int = "256m", cpus: float = 0.5) -> dict[str, Any]:
    """The ``linux.resources`` of the runtime spec that ``docker run --memory M --cpus C`` writes.

    Docker also allows as much swap again as ``--memory`` unless ``--memory-swap`` says otherwise; the
    course's containers get no swap (``swap`` equal to ``limit``), so that the limit is the whole story.
    """
    limit = parse_docker_memory(memory)
    if not isinstance(cpus, (int, float)) or isinstance(cpus, bool) or not 0.01 <= cpus <= 1024:
        raise ContainerError(f"--cpus must be a number of CPUs from 0.01 up, such as 0.5, got {cpus!r}")
    quota = int(round(cpus * CFS_PERIOD_US))
    return {"memory": {"limit": limit, "swap": limit},
            "cpu": {"quota": quota, "period": CFS_PERIOD_US}}


def cgroup_files(resources: Mapping[str, Any], cgroup_version: int) -> dict[str, str]:
    """The cgroup files and values a runtime writes for ``resources`` under cgroup v1 or v2."""
    memory, cpu = resources.get("memory", {}), resources.get("cpu", {})
    files: dict[str, str] = {}
    if cgroup_version == 1:
        if "limit" in memory:
            files["memory.limit_in_bytes"] = str(memory["limit"])
        if "quota" in cpu:
            files["cpu.cfs_quota_us"] = str(cpu["quota"])
            files["cpu.cfs_period_us"] = str(cpu.get("period", CFS_PERIOD_US))
    elif cgroup_version == 2:
        if "limit" in memory:
            files["memory.max"] = str(memory["limit"])
        if "quota" in cpu:
            files["cpu.max"] = f"{cpu['quota']} {cpu.get('period', CFS_PERIOD_US)}"
    else:
        raise ContainerError(f"cgroup_version must be 1 or 2, got {cgroup_version!r}")
    return files


# ---- the runtime spec -----------------------------------------------------------------------------------------

def host_binds(folders: Sequence[str] = HOST_FOLDERS) -> tuple[tuple[str, ...], dict[str, str]]:
    """The host folders to bind read-only (real directories) and the symbolic links to copy (``/lib`` ->
    ``usr/lib`` on a merged-/usr system), among ``folders``."""
    binds: list[str] = []
    links: dict[str, str] = {}
    for folder in folders:
        path = Path(folder)
        if path.is_symlink():
            links[folder] = os.readlink(path)
        elif path.is_dir():
            binds.append(folder)
    return tuple(binds), links


def _base_mounts(tmp_mb: int) -> list[dict[str, Any]]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", f"size={tmp_mb}m"]},
    ]


def _check_command(command: Sequence[str]) -> list[str]:
    if isinstance(command, (str, bytes)) or not isinstance(command, Sequence) or not command:
        raise ContainerError(f"command must be a non-empty list of strings such as ['python3', '-c', 'print(1)'], "
                             f"got {command!r}")
    if not all(isinstance(part, str) and part for part in command):
        raise ContainerError(f"every part of the command must be a non-empty string, got {list(command)!r}")
    return list(command)


def _check_hostname(hostname: str) -> str:
    if not isinstance(hostname, str) or not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", hostname):
        raise ContainerError(f"hostname must be 1 to 63 lower-case letters, digits or '-' (not at either end), "
                             f"got {hostname!r}")
    return hostname


def _limits(memory_mb: float | None, cpus: float | None) -> dict[str, Any]:
    resources: dict[str, Any] = {"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 128}}
    if memory_mb is not None:
        if not isinstance(memory_mb, (int, float)) or isinstance(memory_mb, bool) or not memory_mb > 0:
            raise ContainerError(f"memory_mb must be a positive number of MB such as 256, got {memory_mb!r}")
        limit = int(memory_mb * 1024 * 1024)
        resources["memory"] = {"limit": limit, "swap": limit}
    if cpus is not None:
        resources["cpu"] = docker_resources(1, cpus)["cpu"]
    return resources


def render_runtime_spec(command: Sequence[str], *, memory_mb: float | None = _DEFAULTS.memory_limit_mb,
                        cpus: float | None = _DEFAULTS.cpu_limit_cores, hostname: str = "restaurant",
                        env: Mapping[str, str] | None = None, cwd: str = "/", readonly_root: bool = True,
                        tmp_mb: int = 64, binds: Sequence[str] | None = None, network: str = "none",
                        rootless_uid: int | None = None, cgroups_path: str | None = None,
                        oci_version: str = DEFAULT_OCI_VERSION) -> dict[str, Any]:
    """The ``config.json`` of a bundle whose root is the folder ``rootfs`` next to it.

    ``memory_mb`` and ``cpus`` default to lesson 03's model (``HostParams``: 512 MB, half a CPU); ``None``
    means no limit. ``network="none"`` gives the container a network namespace of its own (loopback only);
    ``"host"`` shares the host's. ``rootless_uid`` (the caller's uid when not root) adds a user namespace
    mapping that uid to root inside. The container runs as root inside its namespaces only with
    ``rootless_uid``; as real root it runs as ``nobody`` (65534), with no capabilities either way.
    """
    args = _check_command(command)
    if network not in ("none", "host"):
        raise ContainerError(f"network must be 'none' (loopback only) or 'host', got {network!r}")
    namespaces = [{"type": kind} for kind in ("pid", "uts", "ipc", "mount")]
    if network == "none":
        namespaces.append({"type": "network"})
    mounts = _base_mounts(int(tmp_mb))
    for folder in host_binds()[0] if binds is None else binds:
        mounts.append({"destination": folder, "type": "bind", "source": folder,
                       "options": ["rbind", "ro", "nosuid", "nodev"]})
    linux: dict[str, Any] = {
        "namespaces": namespaces,
        "resources": _limits(memory_mb, cpus),
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    }
    if cgroups_path is not None:
        linux["cgroupsPath"] = cgroups_path
    uid = 65534
    if rootless_uid is not None:
        namespaces.append({"type": "user"})
        linux["uidMappings"] = [{"containerID": 0, "hostID": int(rootless_uid), "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": os.getgid() if hasattr(os, "getgid") else 0, "size": 1}]
        uid = 0
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/tmp",
                   **(env or {})}
    return {
        "ociVersion": oci_version,
        "process": {
            "terminal": False,
            "user": {"uid": uid, "gid": uid},
            "args": args,
            "env": [f"{key}={value}" for key, value in environment.items()],
            "cwd": cwd,
            "capabilities": {kind: [] for kind in ("bounding", "effective", "inheritable", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": bool(readonly_root)},
        "hostname": _check_hostname(hostname),
        "mounts": mounts,
        "linux": linux,
    }


# ---- can this machine run one? --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContainerSupport:
    """Whether this machine can run the course's containers, why not, and the facts it was judged on."""

    ok: bool
    reason: str
    platform: str
    runtime: str | None = None
    runtime_version: str | None = None
    spec_version: str | None = None
    rootless: bool = False
    user_namespaces: bool = False
    cgroup_version: int | None = None
    controllers: tuple[str, ...] = ()
    hybrid: bool = False  # cgroup v1 controllers plus a cgroup2 mounted at /sys/fs/cgroup/unified

    def __str__(self) -> str:
        if not self.ok:
            return f"containers: not here. {self.reason}"
        mode = "rootless (user namespaces)" if self.rootless else "as root"
        return (f"containers: {Path(self.runtime or '').name} {self.runtime_version} (OCI runtime-spec "
                f"{self.spec_version}), {mode}, cgroup v{self.cgroup_version} ({', '.join(self.controllers)})")


def _runtime_version(path: str) -> tuple[str | None, str | None]:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    version = re.search(r"version\s+(\S+)", out)
    spec = re.search(r"spec:\s*(\S+)", out)
    return (version.group(1) if version else None), (spec.group(1) if spec else None)


def _cgroup_facts(root: Path = _CGROUP_ROOT) -> tuple[int | None, tuple[str, ...], bool]:
    """The cgroup version, its controllers, and whether v1 comes with a cgroup2 beside it (hybrid)."""
    unified = root / "cgroup.controllers"
    if unified.exists():
        return 2, tuple(unified.read_text().split()), False
    v1 = tuple(sorted(c for c in ("cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer")
                      if (root / c / "cgroup.procs").exists()))
    return (1, v1, (root / "unified" / "cgroup.procs").exists()) if v1 else (None, (), False)


def _user_namespaces() -> bool:
    try:
        allowed = int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
        clone = Path("/proc/sys/kernel/unprivileged_userns_clone")  # Debian's switch, where it exists
        return allowed and (not clone.exists() or clone.read_text().strip() != "0")
    except (OSError, ValueError):
        return False


def judge_support(*, platform: str, runtime: str | None, runtime_version: str | None = None,
                  spec_version: str | None = None, root: bool = True, user_namespaces: bool = False,
                  cgroup_version: int | None = None, controllers: Sequence[str] = (),
                  hybrid: bool = False) -> ContainerSupport:
    """Judge the facts of a machine (what :func:`container_support` found, or any other machine's)."""
    facts: dict[str, Any] = {"platform": platform, "runtime": runtime, "runtime_version": runtime_version,
                             "spec_version": spec_version, "rootless": not root, "user_namespaces": user_namespaces,
                             "cgroup_version": cgroup_version, "controllers": tuple(controllers), "hybrid": hybrid}
    reason = _refusal(platform, runtime, root, user_namespaces, cgroup_version, tuple(controllers))
    if not reason and hybrid and runtime is not None and Path(runtime).name == "crun":
        reason = ("crun does not run containers on this hybrid cgroup layout (cgroup v1 controllers plus an empty "
                  "cgroup2 at /sys/fs/cgroup/unified): install runc, which does")
    if reason:
        return ContainerSupport(False, reason, **facts)
    return ContainerSupport(True, "", **facts)


def _refusal(platform: str, runtime: str | None, root: bool, user_namespaces: bool, cgroup_version: int | None,
             controllers: tuple[str, ...]) -> str:
    names = {"darwin": "macOS", "win32": "Windows", "cygwin": "Windows (Cygwin)"}
    if not platform.startswith("linux"):
        return (f"{names.get(platform, platform)} has no Linux kernel, and a container is Linux processes in "
                "namespaces and cgroups: run the course in a Linux VM (Docker Desktop, Podman machine, WSL 2) "
                "to run it for real.")
    if runtime is None:
        return ("no OCI runtime found: install runc or crun (Debian and Ubuntu: apt-get install runc) and "
                "restart the kernel.")
    if cgroup_version is None:
        return "no cgroup filesystem is mounted at /sys/fs/cgroup, so no memory limit can be set."
    if "memory" not in controllers:
        return (f"cgroup v{cgroup_version} here offers no memory controller (controllers: "
                f"{', '.join(controllers) or 'none'}), so a memory limit cannot be enforced.")
    if not root and not user_namespaces:
        return ("not root, and this kernel does not let users create user namespaces "
                "(/proc/sys/user/max_user_namespaces is 0, or unprivileged_userns_clone is off), which a rootless "
                "container needs; a hub that forbids them cannot run containers.")
    if not root and cgroup_version == 1:
        return ("not root, and this machine has cgroup v1, which cannot be handed to an unprivileged user: "
                "rootless containers can set memory limits only under cgroup v2 with a delegated cgroup.")
    return ""


def container_support(runtime: str | None = None) -> ContainerSupport:
    """Can this machine run the course's containers? ``runtime``: a path or name, else runc, then crun."""
    if not sys.platform.startswith("linux"):
        return judge_support(platform=sys.platform, runtime=None)
    path = shutil.which(runtime) if runtime else next((p for p in map(shutil.which, RUNTIMES) if p), None)
    version, spec = _runtime_version(path) if path else (None, None)
    if path and version is None:
        return ContainerSupport(False, f"{path} is there but does not run ('{path} --version' failed): reinstall it",
                                sys.platform, path)
    cgroup_version, controllers, hybrid = _cgroup_facts()
    root = os.geteuid() == 0
    support = judge_support(platform=sys.platform, runtime=path, runtime_version=version, spec_version=spec,
                            root=root, user_namespaces=_user_namespaces(), cgroup_version=cgroup_version,
                            controllers=controllers, hybrid=hybrid)
    if support.ok and not root and not _delegated_memory():
        return ContainerSupport(False, "not root, and no cgroup above this process is this user's with the memory "
                                "controller handed down (systemd: Delegate=memory), so a rootless container cannot "
                                "get a memory limit.",
                                **{k: getattr(support, k) for k in _FACTS})
    return support


_FACTS = ("platform", "runtime", "runtime_version", "spec_version", "rootless", "user_namespaces",
          "cgroup_version", "controllers", "hybrid")


def _own_cgroup_v2() -> Path:
    line = next((ln for ln in Path("/proc/self/cgroup").read_text().splitlines() if ln.startswith("0::")), "0::/")
    return _CGROUP_ROOT / line[3:].lstrip("/")


def _delegated_parent() -> Path | None:
    """Under cgroup v2 without root: the nearest cgroup above this process that is this user's to write and
    hands the memory controller to its children (systemd's ``Delegate=``), where a container's cgroup can go.
    Not this process's own cgroup: a cgroup holding processes cannot give controllers to children."""
    try:
        folder = _own_cgroup_v2().parent
        while folder != _CGROUP_ROOT.parent and _CGROUP_ROOT in (folder, *folder.parents):
            enabled = (folder / "cgroup.subtree_control").read_text().split()
            if "memory" in enabled and os.access(folder, os.W_OK):
                return folder
            folder = folder.parent
    except OSError:
        return None
    return None


def _delegated_memory() -> bool:
    return _delegated_parent() is not None


# ---- a run ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Exec:
    """A command run inside a running container (``runc exec``, what ``docker exec`` does)."""

    command: tuple[str, ...]
    exit_code: int | None
    stdout: str
    stderr: str


@dataclass(frozen=True)
class ContainerRun:
    """What happened to one container: how it ended, what the kernel saw, what it printed, how long it took."""

    command: tuple[str, ...]
    container_id: str
    exit_code: int | None
    oom_killed: bool
    timed_out: bool
    peak_memory_mb: float | None
    memory_limit_mb: float | None
    stdout: str
    stderr: str
    first_output_s: float | None  # runtime started -> the container's first line of output
    ready_s: float | None  # runtime started -> the ready line (the first line when none was asked for)
    wall_s: float
    cgroup: dict[str, str] = field(default_factory=dict)  # the limits as the kernel holds them
    execs: tuple[Exec, ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.oom_killed and not self.timed_out

    def __str__(self) -> str:
        if self.oom_killed:
            how = f"OOM-killed by the kernel at its {self.memory_limit_mb:g} MB limit (exit {self.exit_code})"
        elif self.timed_out:
            how = "stopped at its time limit"
        else:
            how = f"exited with {self.exit_code}"
        peak = f"{self.peak_memory_mb:.1f} MB" if self.peak_memory_mb is not None else "unknown"
        ready = f"{self.ready_s * 1000:.0f} ms" if self.ready_s is not None else "never"
        return f"container {self.container_id}: {how}; ready after {ready}; peak memory {peak}; ran {self.wall_s:.2f} s"


_counter = iter(range(1, 1 << 62))


def _new_id() -> str:
    return f"{_PREFIX}{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def _resolve(command: list[str], files: Mapping[str, Any], binds: Sequence[str], links: Mapping[str, str]) -> None:
    """Refuse a command whose program the container would not find."""
    program = command[0]
    if program.startswith(APP_DIR + "/") and program[len(APP_DIR) + 1:] in files:
        return
    candidates = [program] if program.startswith("/") else [f"{d}/{program}" for d in ("/usr/local/bin", "/usr/bin", "/bin")]
    for candidate in candidates:
        top = "/" + candidate.strip("/").split("/")[0]
        if (top in binds or top in links) and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return
    raise ContainerError(f"the container has no program {program!r}: it sees the host's {', '.join(binds)} "
                         f"(read-only) and the files you gave in {APP_DIR}/ ({', '.join(sorted(files)) or 'none'}); "
                         f"for Python write {shutil.which('python3') or '/usr/bin/python3'}")


def _make_bundle(bundle: Path, spec: dict[str, Any], files: Mapping[str, bytes | str | Path],
                 links: Mapping[str, str]) -> None:
    rootfs = bundle / "rootfs"
    for mount in spec["mounts"]:
        point = rootfs / mount["destination"].lstrip("/")
        point.mkdir(parents=True, exist_ok=True)
        mode = next((o[5:] for o in mount.get("options", ()) if o.startswith("mode=")), None)
        if mount["type"] == "tmpfs" and mode:
            point.chmod(int(mode, 8))  # runc gives a tmpfs the mode of the folder it is mounted on
    for name, target in links.items():
        (rootfs / name.lstrip("/")).symlink_to(target)
    app = rootfs / APP_DIR.lstrip("/")
    app.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = Path(content).read_bytes() if isinstance(content, Path) else content
        (app / name).write_bytes(data.encode() if isinstance(data, str) else data)
        (app / name).chmod(0o755 if name.endswith((".py", ".pyz", ".sh")) else 0o644)
    bundle.chmod(0o755)
    rootfs.chmod(0o755)
    (bundle / "config.json").write_text(json.dumps(spec, indent=2))


def _cgroup_dirs(cgroups_path: str, version: int) -> list[Path]:
    """The folders of ``cgroups_path`` and of each parent the course made for it, deepest first."""
    parts = cgroups_path.strip("/").split("/")
    ours = ["/".join(parts[:k]) for k in range(len(parts), 0, -1) if parts[k - 1].startswith(_PREFIX) or k == len(parts)]
    roots = [_CGROUP_ROOT] if version == 2 else [p for p in sorted(_CGROUP_ROOT.iterdir()) if (p / "cgroup.procs").exists()]
    return [root / rel for rel in ours for root in roots]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _counter_of(text: str | None, key: str) -> int:
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def _memory_stats(stats_path: str, version: int, exit_code: int | None,
                  limit_bytes: int | None) -> tuple[float | None, bool]:
    """Peak memory (MB) and whether the kernel's OOM killer acted, from the container's cgroup (or the parent
    the course made for it, whose figures include its child's).

    The OOM killer's count is ``oom_kill`` in ``memory.events`` (v2, counted up the hierarchy) or in
    ``memory.oom_control`` (v1, kernel 4.13 and later, in the container's own cgroup). Where v1 gives no count
    (an older kernel, or a runtime such as crun that removes the container's own cgroup as it exits), an exit
    137 (SIGKILL) with the peak at the limit counts as an OOM kill."""
    rel = stats_path.lstrip("/")
    if version == 2:
        peak = _read(_CGROUP_ROOT / rel / "memory.peak")
        counted: bool | None = _counter_of(_read(_CGROUP_ROOT / rel / "memory.events"), "oom_kill") > 0
    else:
        base = _CGROUP_ROOT / "memory" / rel
        peak = _read(base / "memory.max_usage_in_bytes")
        control = _read(base / "memory.oom_control") or ""
        counted = _counter_of(control, "oom_kill") > 0 if "oom_kill " in control else None
    peak_bytes = int(peak) if peak and peak.isdigit() else None
    if not counted and version == 1:
        at_limit = peak_bytes is not None and limit_bytes is not None and peak_bytes >= 0.97 * limit_bytes
        counted = counted or (exit_code == OOM_EXIT_CODE and at_limit)
    return (peak_bytes / 2**20 if peak_bytes is not None else None), bool(counted)


def _limit_files(cgroups_path: str, version: int) -> dict[str, str]:
    """The container's limits as the kernel holds them (its cgroup's files), while the cgroup exists."""
    rel = cgroups_path.lstrip("/")
    if version == 2:
        places = {name: _CGROUP_ROOT / rel / name for name in ("memory.max", "cpu.max")}
    else:
        places = {name: _CGROUP_ROOT / name.split(".")[0] / rel / name
                  for name in ("memory.limit_in_bytes", "cpu.cfs_quota_us", "cpu.cfs_period_us")}
    return {name: value for name, path in places.items() if (value := _read(path)) is not None}


class _Output:
    """Collects a pipe in a thread, noting when its first line and the ready line came."""

    def __init__(self, pipe: Any, started: float, ready: str | None) -> None:
        self.lines: list[str] = []
        self.first_s: float | None = None
        self.ready_s: float | None = None
        self.ready_event = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(pipe, started, ready), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any, started: float, ready: str | None) -> None:
        for raw in iter(pipe.readline, b""):
            now = time.perf_counter() - started
            line = raw.decode(errors="replace")
            if self.first_s is None:
                self.first_s = now
            if self.ready_s is None and (ready is None or ready in line):
                self.ready_s = now
                self.ready_event.set()
            if len(self.lines) < 10_000:
                self.lines.append(line)
        pipe.close()
        self.ready_event.set()

    def text(self, timeout_s: float = 2.0) -> str:
        self._thread.join(timeout_s)
        return "".join(self.lines)


def _runtime_cmd(runtime: str, *args: str) -> list[str]:
    return [runtime, *args]


def _exec_all(runtime: str, cid: str, execs: Sequence[Sequence[str]], deadline: float) -> tuple[Exec, ...]:
    done: list[Exec] = []
    for command in execs:
        cmd = tuple(_check_command(command))
        left = max(0.5, deadline - time.monotonic())
        try:
            out = subprocess.run(_runtime_cmd(runtime, "exec", cid, *cmd), capture_output=True, timeout=left)
            done.append(Exec(cmd, out.returncode, out.stdout.decode(errors="replace"),
                             out.stderr.decode(errors="replace")))
        except subprocess.TimeoutExpired as timeout:
            done.append(Exec(cmd, None, (timeout.stdout or b"").decode(errors="replace"), "time limit reached"))
    return tuple(done)


def _stop(runtime: str, cid: str, process: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM to the container's process 1, then SIGKILL after ``grace_s`` (what ``docker stop`` does)."""
    for sig, wait_s in (("TERM", grace_s), ("KILL", 5.0)):
        if process.poll() is not None:
            return
        subprocess.run(_runtime_cmd(runtime, "kill", cid, sig), capture_output=True, timeout=10)
        try:
            process.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _cleanup(runtime: str, cid: str, process: subprocess.Popen[bytes] | None, bundle: Path,
             cgroups_path: str, version: int) -> None:
    """Remove everything a run made: the container, its cgroup, its bundle; kill what still runs."""
    subprocess.run(_runtime_cmd(runtime, "delete", "--force", cid), capture_output=True, timeout=30)
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait(10)
    for folder in _cgroup_dirs(cgroups_path, version):
        _remove_cgroup(folder)
    shutil.rmtree(bundle, ignore_errors=True)


def _remove_cgroup(folder: Path) -> None:
    """Remove an (empty) cgroup folder; the kernel may need a moment after its last process is gone."""
    for _ in range(20):
        if not folder.exists():
            return
        try:
            folder.rmdir()
        except OSError:
            time.sleep(0.05)


def _check_limits(memory_mb: float, timeout_s: float) -> None:
    if not isinstance(memory_mb, (int, float)) or isinstance(memory_mb, bool) or not memory_mb >= MIN_MEMORY_MB:
        raise ContainerError(f"memory_mb={memory_mb!r} is below what Python needs to start in a container "
                             "(a bare interpreter about 3 MB, the service's imports more than 8 MB): "
                             f"give at least {MIN_MEMORY_MB:g} MB, for example 64")
    if not isinstance(timeout_s, (int, float)) or isinstance(timeout_s, bool) or not 0.5 <= timeout_s <= 600:
        raise ContainerError(f"timeout_s must be from 0.5 to 600 seconds, got {timeout_s!r}")


def run_in_container(command: Sequence[str], *, memory_mb: float = 256.0, cpus: float | None = 0.5,
                     hostname: str = "restaurant", timeout_s: float = 20.0,
                     files: Mapping[str, bytes | str | Path] | None = None, env: Mapping[str, str] | None = None,
                     ready: str | None = None, execs: Sequence[Sequence[str]] = (), stop_after_execs: bool = True,
                     network: str = "none", runtime: str | None = None,
                     support: ContainerSupport | None = None) -> ContainerRun:
    """Run ``command`` as process 1 of a fresh container and report what happened.

    ``files`` are copied into ``/app`` (read-only, like an image's layer). Once the container prints a line
    holding ``ready`` (or its first line when ``ready`` is None), each of ``execs`` runs inside it in turn;
    then, with ``stop_after_execs``, the container is stopped as ``docker stop`` would. The run ends at the
    latest after ``timeout_s``. Raises :class:`ContainerError` when the machine cannot run containers or the
    request is invalid; a container that fails, is OOM-killed or times out is reported, never raised.
    """
    support = support or container_support(runtime)
    if not support.ok or support.runtime is None or support.cgroup_version is None:
        raise ContainerError(support.reason or "this machine cannot run containers")
    sweep_orphans(support.runtime, support.cgroup_version)
    args = _check_command(command)
    _check_limits(memory_mb, timeout_s)
    files = dict(files or {})
    for name in files:
        if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
            raise ContainerError(f"file names go straight into {APP_DIR}/: write 'service.pyz', not {name!r}")
    binds, links = host_binds()
    _resolve(args, files, binds, links)
    cid = _new_id()
    delegated = _delegated_parent() if support.rootless else None
    parent = str(delegated.relative_to(_CGROUP_ROOT)) if delegated is not None else ""
    # runc keeps a stopped container's cgroup until it is deleted (run --keep); crun removes it as the container
    # exits, so under crun the container gets a cgroup of its own inside one the course reads afterwards.
    leaf = f"{cid}/container" if Path(support.runtime).name == "crun" else cid
    cgroups_path = "/" + "/".join(p for p in (parent, leaf) if p)
    spec = render_runtime_spec(args, memory_mb=memory_mb, cpus=cpus, hostname=hostname, env=env, binds=binds,
                               network=network, cgroups_path=cgroups_path,
                               rootless_uid=os.geteuid() if support.rootless else None,
                               oci_version=support.spec_version or DEFAULT_OCI_VERSION)
    return _run(support.runtime, cid, spec, files, links, _Plan(timeout_s, ready, tuple(execs), stop_after_execs),
                support.cgroup_version)


@dataclass(frozen=True)
class _Plan:
    timeout_s: float
    ready: str | None
    execs: tuple[Sequence[str], ...]
    stop_after_execs: bool


def _run(runtime: str, cid: str, spec: dict[str, Any], files: Mapping[str, Any], links: Mapping[str, str],
         plan: _Plan, version: int) -> ContainerRun:
    bundle = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}bundle-{os.getpid()}-"))
    process: subprocess.Popen[bytes] | None = None
    cgroups_path = spec["linux"]["cgroupsPath"]
    stats_path = cgroups_path.removesuffix("/container")
    keep = ["--keep"] if Path(runtime).name != "crun" else []
    reaper: subprocess.Popen[bytes] | None = None
    try:
        _make_bundle(bundle, spec, files, links)
        reaper = _start_reaper(runtime, cid, bundle, cgroups_path, version)
        started, deadline = time.perf_counter(), time.monotonic() + plan.timeout_s
        process = subprocess.Popen(_runtime_cmd(runtime, "run", *keep, "--bundle", str(bundle), cid),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        out, err = _Output(process.stdout, started, plan.ready), _Output(process.stderr, started, "")
        settings: dict[str, str] = {}
        execs, timed_out = _supervise(runtime, cid, process, out, plan, deadline,
                                      lambda: settings.update(_limit_files(cgroups_path, version)))
        wall = time.perf_counter() - started
        code = process.returncode
        memory = spec["linux"]["resources"].get("memory", {}).get("limit")
        peak, oom = _memory_stats(stats_path, version, code, memory)
        settings = settings or _limit_files(cgroups_path, version)
        stderr = err.text()
        if code not in (0, None) and not out.lines and not oom and not timed_out:
            _refused(stderr, Path(runtime).name)
        return ContainerRun(tuple(spec["process"]["args"]), cid, code, oom,
                            timed_out, peak, memory / 2**20 if memory else None, out.text(), stderr,
                            out.first_s, out.ready_s, wall, settings, execs)
    finally:
        _cleanup(runtime, cid, process, bundle, cgroups_path, version)
        if reaper is not None:
            _stop_reaper(reaper)


def _start_reaper(runtime: str, cid: str, bundle: Path, cgroups_path: str, version: int) -> subprocess.Popen[bytes]:
    """The container's watchdog (``labsupport.artifacts._reaper``), in a session of its own: it removes the
    container, its cgroup and its bundle if this process ends before it cleaned up itself."""
    package_parent = str(Path(__file__).resolve().parents[2])  # the labsupport this process runs, not another
    paths = [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
    return subprocess.Popen([sys.executable, "-m", "labsupport.artifacts._reaper", str(os.getpid()), runtime, cid,
                             str(bundle), cgroups_path, str(version)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd="/", env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
                            start_new_session=True)


def _stop_reaper(reaper: subprocess.Popen[bytes]) -> None:
    """End a watchdog whose container this process removed itself (it would also exit on its own, seeing the
    bundle gone)."""
    if reaper.poll() is None:
        reaper.terminate()
    try:
        reaper.wait(5)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait(5)


def _supervise(runtime: str, cid: str, process: subprocess.Popen[bytes], out: _Output, plan: _Plan,
               deadline: float, when_ready: Callable[[], None]) -> tuple[tuple[Exec, ...], bool]:
    execs: tuple[Exec, ...] = ()
    out.ready_event.wait(max(0.0, deadline - time.monotonic()))
    if process.poll() is None:
        when_ready()
    if plan.execs:
        if out.ready_s is not None and process.poll() is None:
            execs = _exec_all(runtime, cid, plan.execs, deadline)
        if plan.stop_after_execs:
            _stop(runtime, cid, process, grace_s=2.0)
    try:
        process.wait(max(0.05, deadline - time.monotonic()))
        return execs, False
    except subprocess.TimeoutExpired:
        _stop(runtime, cid, process, grace_s=1.0)
        return execs, True


def _refused(stderr: str, name: str) -> None:
    """Raise if ``stderr`` holds the runtime's own error (runc logs ``level=error msg="runc run failed: ..."``,
    crun writes ``crun: ...``); a command of the container that failed is the container's business."""
    for line in stderr.splitlines():
        own = re.search(r'level=error msg="(.*)"', line)
        if own or line.startswith(f"{name}: "):
            message = own.group(1) if own else line
            raise ContainerError(f"the runtime ({name}) refused to start the container: {message.strip()}")


def _owner(name: str) -> int | None:
    """The pid of the process that made a container or bundle of the course (it is in the name)."""
    match = re.match(rf"{_PREFIX}(?:bundle-)?(\d+)-", name)
    return int(match.group(1)) if match else None


def sweep_orphans(runtime: str, cgroup_version: int) -> list[str]:
    """Remove the containers, cgroups and bundles of runs whose process died mid-run (a Jupyter kernel killed
    while a container ran) and whose watchdog did not remove them (it was killed too): :func:`run_in_container`
    calls it first. Returns what it removed."""
    removed: list[str] = []
    listing = subprocess.run([runtime, "list", "-q"], capture_output=True, text=True, timeout=30).stdout.split()
    for cid in listing:
        pid = _owner(cid)
        if pid is not None and pid != os.getpid() and not is_running(pid):
            subprocess.run([runtime, "delete", "--force", cid], capture_output=True, timeout=30)
            for folder in _cgroup_dirs(f"/{cid}/container", cgroup_version):
                _remove_cgroup(folder)
            removed.append(cid)
    for bundle in Path(tempfile.gettempdir()).glob(f"{_PREFIX}bundle-*"):
        pid = _owner(bundle.name)
        if pid is not None and pid != os.getpid() and not is_running(pid):
            shutil.rmtree(bundle, ignore_errors=True)
            removed.append(str(bundle))
    return removed


def leftovers(prefix: str = _PREFIX, runtime: str | None = None) -> list[str]:
    """Anything of the course's containers still on this machine: containers the runtime lists, cgroup
    folders, mounts and bundle folders whose names start with ``prefix``. Empty when all was cleaned up."""
    found: list[str] = []
    path = shutil.which(runtime) if runtime else next((p for p in map(shutil.which, RUNTIMES) if p), None)
    if path:
        listing = subprocess.run([path, "list", "-q"], capture_output=True, text=True, timeout=30).stdout
        found += [f"container {name}" for name in listing.split() if name.startswith(prefix)]
    if _CGROUP_ROOT.is_dir():
        for controller in [_CGROUP_ROOT, *sorted(p for p in _CGROUP_ROOT.iterdir() if p.is_dir())]:
            found += [f"cgroup {p}" for p in controller.glob(prefix + "*") if p.is_dir()]
    mounts = _read(Path("/proc/self/mountinfo")) or ""
    found += [f"mount {line.split()[4]}" for line in mounts.splitlines() if prefix in line]
    found += [f"folder {p}" for p in Path(tempfile.gettempdir()).glob(prefix + "bundle-*")]
    return found


# ---- the Restaurant Service in a container --------------------------------------------------------------------

#: Requests a second the in-container client sends to make a leaking service leak.
LOAD_RATE_PER_S = 10.0
ZIPAPP = "restaurant-service.pyz"
CLIENT = "client.py"


def service_files(workdir: str | Path, version: str = "1.0.0") -> dict[str, Path]:
    """Lesson 01's zipapp of the Restaurant Service, built into ``workdir``, and the in-container client."""
    return {ZIPAPP: build_zipapp(workdir, version=version).path,
            CLIENT: Path(__file__).with_name("_container_client.py")}


def service_command(*, leak_mb_per_s: float = 0.0, port: int = SERVICE_PORT) -> list[str]:
    """Process 1 of the container: the zipapp on the container's loopback, leaking ``leak_mb_per_s`` under the
    client's load (``LOAD_RATE_PER_S`` requests a second)."""
    command = ["python3", f"{APP_DIR}/{ZIPAPP}", "--host", "127.0.0.1", "--port", str(port)]
    if leak_mb_per_s:
        command += ["--leak-mb-per-request", f"{leak_mb_per_s / LOAD_RATE_PER_S:g}"]
    return command


def run_service(workdir: str | Path, *, memory_mb: float = 64.0, cpus: float | None = 0.5,
                hostname: str = "restaurant", leak_mb_per_s: float = 0.0, load_s: float = 0.0,
                timeout_s: float = 30.0, support: ContainerSupport | None = None) -> ContainerRun:
    """The Restaurant Service as process 1 of a container; once it is ready, ``hostname``, ``ps`` and the
    client run inside it (the client keeps up its load for ``load_s`` seconds), then it is stopped."""
    client = ["python3", f"{APP_DIR}/{CLIENT}", str(SERVICE_PORT), HEALTH_PATH]
    if load_s > 0:
        client += [f"{LOAD_RATE_PER_S:g}", f"{load_s:g}"]
    return run_in_container(service_command(leak_mb_per_s=leak_mb_per_s), memory_mb=memory_mb, cpus=cpus,
                            hostname=hostname, timeout_s=timeout_s, files=service_files(workdir), ready="READY",
                            execs=[["hostname"], ["ps", "-eo", "pid,user,rss,args"], client], support=support)


@dataclass(frozen=True)
class Restarts:
    """The runs of one container under a restart policy, and how long the course waited before each restart."""

    policy: str
    runs: tuple[ContainerRun, ...]
    waits_s: tuple[float, ...]

    def __str__(self) -> str:
        lines = [f"restart policy {self.policy!r}: {len(self.runs)} start(s)"]
        for k, run in enumerate(self.runs):
            wait = f"after waiting {self.waits_s[k - 1] * 1000:.0f} ms, " if k else ""
            lines.append(f"  start {k + 1}: {wait}{run}")
        return "\n".join(lines)


def should_restart(policy: str, run: ContainerRun) -> bool:
    """Docker's restart policies: ``no`` never, ``on-failure`` after a non-zero exit, ``always`` and
    ``unless-stopped`` after any exit (the course never stops a container by hand, so they agree)."""
    if policy not in RESTART_POLICIES:
        raise ContainerError(f"restart policy must be one of {', '.join(RESTART_POLICIES)}, got {policy!r}")
    if policy == "no":
        return False
    if policy == "on-failure":
        return run.exit_code != 0
    return True


def run_with_restart_policy(start: Callable[[], ContainerRun], *, policy: str = "always",
                            max_starts: int = 3) -> Restarts:
    """Start a container with ``start()`` and restart it as Docker's restart manager would: wait
    :func:`labsupport.sim.containers.restart_delay_s` (100 ms, doubling, back to 100 ms after a run of
    ``BACKOFF_RESET_S``), at most ``max_starts`` starts in all. Each start is a fresh container."""
    if not isinstance(max_starts, int) or isinstance(max_starts, bool) or not 1 <= max_starts <= 20:
        raise ContainerError(f"max_starts must be a whole number from 1 to 20, got {max_starts!r}")
    runs: list[ContainerRun] = []
    waits: list[float] = []
    quick = 0
    while True:
        run = start()
        runs.append(run)
        if len(runs) >= max_starts or not should_restart(policy, run):
            return Restarts(policy, tuple(runs), tuple(waits))
        quick = 0 if run.wall_s >= BACKOFF_RESET_S else quick
        wait = restart_delay_s(quick)
        quick += 1
        waits.append(wait)
        time.sleep(wait)


def model_vs_measured(scenario: HostParams, restarts: Restarts | None) -> list[tuple[str, str, str]]:
    """Rows of (what, the model's prediction, what the real container did) for the same limit, leak and policy.

    ``scenario`` is lesson 03's model with the settings of the real run; ``restarts`` is that run (None where
    containers cannot run here: the measured column then says so)."""
    from labsupport.sim.containers import run_host

    trace = run_host(scenario)
    kills, starts = trace.of_kind("oom-kill"), trace.of_kind("restart")
    first_kill = kills[0] if kills else None
    waits = ", ".join(f"{e.data['waited_s'] * 1000:.0f}" for e in starts[:2]) or "none"
    model = [f"{scenario.start_s:g} s (an assumption)",
             f"{first_kill.time_s - scenario.leak_at_s:.1f} s" if first_kill else "never",
             f"{first_kill.data['memory_mb']:.0f} MB (limit {scenario.memory_limit_mb:g})" if first_kill else "-",
             str(first_kill.data["exit_code"]) if first_kill else "-", f"{waits} ms"]
    measured = ["not measured here"] * 5
    if restarts is not None and restarts.runs:
        first = restarts.runs[0]
        ready = [r.ready_s for r in restarts.runs if r.ready_s is not None]
        measured = [f"{min(ready) * 1000:.0f}-{max(ready) * 1000:.0f} ms" if ready else "never",
                    f"{first.wall_s - (first.ready_s or 0.0):.1f} s" if first.oom_killed else "not killed",
                    f"{first.peak_memory_mb:.0f} MB peak" if first.peak_memory_mb is not None else "unknown",
                    str(first.exit_code),
                    (", ".join(f"{w * 1000:.0f}" for w in restarts.waits_s[:2]) or "none") + " ms"]
    what = ["container started -> service answers", "leak starts -> OOM kill", "memory at the kill",
            "exit code", "waits before the restarts"]
    return list(zip(what, model, measured, strict=True))
