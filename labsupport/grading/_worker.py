"""The sandbox: one process per exercise of one submission, forked from one isolated process per submission.

Started by the grader with ``python -I -S``; requests are pickles, answers JSON, on the socket named by
``LABSUPPORT_SOCKET_FD``. First request, ``setup``: the process isolates itself while still privileged (a new
network namespace with only loopback; a new mount namespace where the hidden tests, the submissions, the
results and the lessons are covered by empty tmpfs mounts and /tmp is private), drops to an unprivileged uid
and sets resource limits. It is then a zygote: each ``fork`` request (with a socket passed along) makes one
process per exercise, which serves ``run`` (the course's context, then the learner's exercise cell; the answer
goes back), then ``call`` / ``getattr`` on handles, until end of input. The tests never come here: the grader
runs them and calls in.
"""

from __future__ import annotations

import builtins
import ctypes
import fcntl
import os
import pickle
import resource
import socket
import struct
import sys
import tempfile
import time
import traceback
from typing import Any

from labsupport.grading import _wire

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 2, 4, 4096, 8192, 16384, 1 << 18


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)  # the interpreter's own symbols include libc's


def _mount(libc: Any, source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    if libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                  data.encode() if data else None) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}: {os.strerror(ctypes.get_errno())}")


def _loopback_up() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, ifreq))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 0x1, b""))  # SIOCSIFFLAGS, IFF_UP
    finally:
        sock.close()


def _blocked_ancestor(path: str) -> str | None:
    """The first folder on the way to ``path`` that other users may not enter, if any."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        try:
            if not os.stat(current).st_mode & 0o001:
                return current
        except OSError:
            return None
    return None


def _reveal(libc: Any, paths: list[str]) -> list[str]:
    """Make ``paths`` (the interpreter, the course) reachable for an unprivileged user, and nothing else.

    A folder that others may not enter (say a 0700 home folder holding a pyenv Python) is covered by an empty
    tmpfs into which only the needed paths are bind-mounted again: the rest of it stays invisible.
    """
    groups: dict[str, list[str]] = {}
    for path in sorted({os.path.realpath(p) for p in paths}):
        blocked = _blocked_ancestor(path)
        if blocked and not any(path.startswith(q + "/") for q in groups.get(blocked, [])):
            groups.setdefault(blocked, []).append(path)
    stage_root = tempfile.mkdtemp(prefix=".reveal-")
    revealed = []
    for blocked, wanted in groups.items():
        staged = []
        for path in wanted:
            stage = tempfile.mkdtemp(dir=stage_root)
            _mount(libc, path, stage, None, MS_BIND | MS_REC, None)
            staged.append((stage, path))
        _mount(libc, "tmpfs", blocked, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
        for stage, path in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(libc, stage, path, None, MS_MOVE, None)
            os.rmdir(stage)
            revealed.append(path)
    os.rmdir(stage_root)
    return revealed


PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")


def _private_tmp(libc: Any, path: str, stage: str, keep: list[str], size_mb: int) -> None:
    """A fresh tmpfs over ``path`` that still shows the ``keep`` paths below it (a course cloned under /tmp).

    The new tmpfs is assembled on ``stage`` (an empty folder inside ``path`` that the grader made and removes),
    the needed folders are bind-mounted into it, and then the whole mount moves over ``path``.
    """
    _mount(libc, "tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode=1777")
    real = os.path.realpath(path)
    shown: list[str] = []
    for wanted in keep:
        if wanted.startswith(real + "/") and not any(wanted.startswith(s + "/") for s in shown):
            inside = os.path.join(stage, os.path.relpath(wanted, real))
            os.makedirs(inside, mode=0o755, exist_ok=True)
            _mount(libc, wanted, inside, None, MS_BIND | MS_REC, None)
            shown.append(wanted)
    _mount(libc, stage, path, None, MS_MOVE, None)


def _namespaces(config: dict[str, Any], done: dict[str, Any]) -> None:
    """A network namespace with loopback only, and private mounts hiding the grader's folders (Linux)."""
    libc = _libc()
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    unshare = getattr(libc, "unshare", None)
    if unshare is None or unshare(CLONE_NEWNS | CLONE_NEWNET | (0 if root else CLONE_NEWUSER)) != 0:
        done["namespaces_error"] = "unavailable" if unshare is None else os.strerror(ctypes.get_errno())
        return
    done["network"] = True
    if not root:  # map ourselves to root inside the new user namespace, so that we may mount
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)
    try:
        _loopback_up()
    except OSError as error:
        done["loopback"] = str(error)
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE, None)
    for path in config.get("hide", []):
        if os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=0555")
        elif os.path.exists(path):
            _mount(libc, "/dev/null", path, None, MS_BIND, None)
    size = int(config.get("file_mb", 64))
    keep = sorted({os.path.realpath(p) for p in config.get("reveal", [])})
    for path, stage in config.get("tmp_stages", {}).items():
        _private_tmp(libc, path, stage, keep, size)
    for path in PRIVATE_TMP:
        if os.path.isdir(path) and path not in config.get("tmp_stages", {}):
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
    if root and config.get("uid") is not None:
        done["revealed"] = _reveal(libc, config.get("reveal", []))
    done["mounts"] = True


def _isolate(config: dict[str, Any]) -> dict[str, Any]:
    """Namespaces, private mounts, privilege drop, limits. Returns what was achieved, for the log."""
    done: dict[str, Any] = {"network": False, "mounts": False, "uid": os.getuid()}
    root = os.geteuid() == 0
    if config.get("namespaces", True):
        try:
            _namespaces(config, done)
        except (OSError, AttributeError, ValueError) as error:
            done["mounts_error"] = str(error)
    workdir = tempfile.mkdtemp(prefix="submission-")
    target_uid = config.get("uid")
    blocked = [p for p in config.get("reveal", []) if _blocked_ancestor(os.path.realpath(p))]
    if root and target_uid is not None and (done["mounts"] or not blocked):
        os.chown(workdir, target_uid, target_uid)
        os.setgroups([])
        os.setgid(target_uid)
        os.setuid(target_uid)
        done["uid"] = target_uid
    elif root and target_uid is not None:
        done["uid_error"] = f"not dropped: other users cannot read {blocked[0]}"
    os.chdir(workdir)
    os.environ["HOME"] = workdir
    memory = int(config.get("memory_mb", 1024)) * 1024 * 1024
    limits = [(resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, int(config.get("cpu_s", 60))),
              (resource.RLIMIT_FSIZE, int(config.get("file_mb", 64)) * 1024 * 1024), (resource.RLIMIT_CORE, 0)]
    if done["uid"] != 0 and root:
        limits.append((resource.RLIMIT_NPROC, int(config.get("nproc", 32))))
    for which, value in limits:
        try:
            _soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError) as error:  # some systems refuse some limits (macOS: RLIMIT_AS)
            done.setdefault("limits_error", []).append(f"{which}: {error}")
    return done


def _error(error: BaseException) -> dict[str, Any]:
    cls = type(error)
    line = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == "<exercise cell>":
            line = lineno
    if isinstance(error, SyntaxError) and error.filename == "<exercise cell>":
        line = error.lineno
    return {"type": cls.__name__[:80], "builtin": cls.__module__ == "builtins", "message": str(error)[:400],
            "line": line}


class _Server:
    def __init__(self, reply_fd: int) -> None:
        self.reply_fd = reply_fd  # requests come in on the same socket
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}

    def reply(self, message: dict[str, Any]) -> None:
        try:
            payload = _wire.dumps(message)
        except (TypeError, ValueError, _wire.WireError, RecursionError) as error:
            payload = _wire.dumps({"error": {"type": "ValueError", "builtin": True, "line": None,
                                             "message": f"the value cannot be sent to the grader: {error}"[:400]}})
        _wire.write_frame(self.reply_fd, payload)

    def value(self, value: Any) -> dict[str, Any]:
        try:
            return {"value": _wire.encode(value)}
        except (_wire.WireError, RecursionError) as error:
            return {"error": {"type": "ValueError", "builtin": True, "line": None,
                              "message": f"the value cannot be sent to the grader: {error}"[:400]}}

    def run_cell(self, context: str, cell: str, name: str) -> dict[str, Any]:
        """Run the lesson's set-up, then the learner's cell; the errors of each, and the answer ``name``."""
        result: dict[str, Any] = {}
        if context:
            try:
                exec(compile(context, "<course context>", "exec"), self.namespace)  # noqa: S102
            except BaseException as error:  # noqa: BLE001
                result["context_error"] = _error(error)
        try:
            exec(compile(cell, "<exercise cell>", "exec"), self.namespace)  # noqa: S102
        except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            result["cell_error"] = _error(error)
        if name in self.namespace:
            result.update(self.value(self.namespace[name]))
        return result

    def handle(self, request: tuple[Any, ...]) -> bool:
        op = request[0]
        if op == "setup":
            self.reply({"isolation": _isolate(request[1])})
        elif op == "run":
            _, context, cell, name = request
            self.reply(self.run_cell(context, cell, name))
        elif op == "call":
            _, handle, payload = request
            try:
                args, kwargs = pickle.loads(payload)
                outcome = _wire.HANDLES[handle](*args, **kwargs)
            except BaseException as error:  # noqa: BLE001
                self.reply({"error": _error(error)})
            else:
                self.reply(self.value(outcome))
        elif op == "getattr":
            _, handle, attribute = request
            try:
                outcome = getattr(_wire.HANDLES[handle], attribute)
            except BaseException as error:  # noqa: BLE001
                self.reply({"error": _error(error)})
            else:
                self.reply(self.value(outcome))
        else:
            return False
        return True


def _serve(fd: int, server: _Server) -> None:
    while True:
        frame = _wire.read_frame(fd)
        if frame is None or not server.handle(pickle.loads(frame)):
            return


def _exit_status(pid: int) -> int | None:
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    return None


def main() -> None:
    """The zygote: isolates itself once, then forks one process per exercise, each on its own socket."""
    control = socket.socket(fileno=int(os.environ.pop("LABSUPPORT_SOCKET_FD")))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the learner's code reads nothing of ours from stdin
    os.close(devnull)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    zygote = _Server(control.fileno())
    while True:
        frame = _wire.read_frame(control.fileno())
        if frame is None:
            break
        request = pickle.loads(frame)
        if request[0] == "fork":
            _, fds, _, _ = socket.recv_fds(control, 1, 1)
            pid = os.fork()
            if pid == 0:
                control.close()
                os.setsid()
                _serve(fds[0], _Server(fds[0]))
                os._exit(0)
            os.close(fds[0])
            zygote.reply({"pid": pid})
        elif request[0] == "ping":
            zygote.reply({})
        elif request[0] == "status":
            zygote.reply({"status": _exit_status(int(request[1]))})
        elif not zygote.handle(request):
            break
    os._exit(0)


if __name__ == "__main__":
    main()
