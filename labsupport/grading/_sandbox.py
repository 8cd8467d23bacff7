"""The grader's side of a sandbox: start it, run an exercise cell in it, and call the answer through proxies.

The answer a learner's cell defines never enters the grader: plain data comes back as JSON and is rebuilt
here; a function (or any other object) stays in the sandbox and the grader holds a proxy that forwards calls.
Every wait has a deadline; a sandbox that overruns, dies or sends nonsense is killed, and every later use of
its proxies raises :class:`SubmissionFailed`, a :class:`~labsupport.grading.Wrong` with a reason the learner
can act on.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import importlib
import inspect
import itertools
import json
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labsupport.grading import _wire
from labsupport.grading._registry import Wrong
from labsupport.grading._worker import PRIVATE_TMP

__all__ = ["Limits", "RemoteFunction", "RemoteObject", "Sandbox", "SubmissionFailed", "Zygote", "needed_paths"]

_COUNTER = itertools.count()


@dataclass(frozen=True)
class Limits:
    """What one exercise of one submission may use."""

    timeout_s: float = 20.0  # wall-clock time in the sandbox, over the cell and every call the tests make
    memory_mb: int = 1024  # address space
    file_mb: int = 64  # largest file, and the size of its private /tmp
    nproc: int = 32  # processes and threads of its unprivileged user
    isolate: bool = True  # namespaces and privilege drop, where the machine allows them

    @property
    def cpu_s(self) -> int:
        return int(self.timeout_s * 2) + 5


class SubmissionFailed(Wrong):
    """The submission's process cannot answer any more (time limit, crash, exit)."""


class RemoteError(Exception):
    """An exception the learner's code raised, of a class that is not a Python builtin."""


def _sandbox_uid() -> int | None:
    """A uid of its own for each live sandbox (no account needed): it owns nothing and can be killed as a whole."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    return 1_000_000 + os.getpid() * 64 + next(_COUNTER) % 64


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid`` (ones a submission forked and detached too)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


_BOOT = ("import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
         "from labsupport.grading._worker import main; main()")


def _search_path() -> list[str]:
    """The grader's module folders that ``python -I -S`` would not have: the course and site-packages."""
    import labsupport

    base = set(_base_path())
    own = str(Path(labsupport.__file__).resolve().parents[1])
    return [own, *(p for p in sys.path if p and p not in base and p != own and os.path.isdir(p))]


def _base_path() -> list[str]:
    global _BASE
    if _BASE is None:
        _BASE = json.loads(subprocess.check_output([sys.executable, "-I", "-S", "-c",
                                                    "import sys, json; print(json.dumps(sys.path))"]))
    return _BASE


_BASE: list[str] | None = None


def needed_paths() -> list[str]:
    """What the sandbox's interpreter must read: Python itself, the environment, the course's package."""
    import labsupport

    return sorted({sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
                   str(Path(labsupport.__file__).resolve().parents[1])})


def _tmp_stages(needed: list[str]) -> dict[str, str]:
    """For each temp folder the sandbox makes private that holds a path it needs (the course cloned under
    /tmp, say): an empty folder inside it, where the sandbox assembles its private tmpfs."""
    stages = {}
    for tmp in PRIVATE_TMP:
        if not os.path.isdir(tmp):
            continue
        real = os.path.realpath(tmp)
        if any(os.path.realpath(p).startswith(real + "/") for p in needed):
            stages[tmp] = tempfile.mkdtemp(dir=tmp, prefix=".labsupport-sandbox-")
    return stages


def _describe_end(code: int | None, limits: Limits, timed_out: bool) -> str:
    if timed_out:
        return f"your code did not finish within the time limit of {limits.timeout_s:g} s (an endless loop?)"
    if code is None:
        return "your code's process ended (it exited, or it or its parent was killed)"
    if code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return "your code used more than its CPU time limit"
        if sig == signal.SIGKILL:
            return f"your code's process was killed (signal {sig}): it may have run out of memory or killed itself"
        if sig == signal.SIGXFSZ:
            return f"your code wrote a file larger than {limits.file_mb} MB"
        return f"your code's process ended with signal {sig}"
    return f"your code ended its own process (exit status {code}), e.g. with sys.exit() or os._exit()"


def _read_frame(fd: int, deadline: float) -> bytes:
    """One frame from ``fd`` before ``deadline`` (monotonic): _Overrun after it, EOFError at end of file."""
    size = int.from_bytes(_read_n(fd, 4, deadline), "big")
    if size > _wire.MAX_FRAME:
        raise _wire.WireError(f"a message of {size} bytes")
    return _read_n(fd, size, deadline)


def _read_n(fd: int, count: int, deadline: float) -> bytes:
    buffer = bytearray()
    while len(buffer) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise _Overrun
        chunk = os.read(fd, min(1 << 20, count - len(buffer)))
        if not chunk:
            raise EOFError
        buffer += chunk
    return bytes(buffer)


def _send_frame(fd: int, message: tuple[Any, ...]) -> None:
    _wire.write_frame(fd, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


class Zygote:
    """One isolated interpreter per submission, from which each exercise's sandbox is forked.

    Isolating and starting Python once per submission instead of once per exercise saves most of a sandbox's
    start-up; each exercise still gets a process of its own, killed on its own when it overruns.
    """

    def __init__(self, limits: Limits, hide: list[Path], python: str | None = None) -> None:
        self.limits = limits
        self.uid = _sandbox_uid() if limits.isolate else None
        self.isolation: dict[str, Any] = {}
        self.error: str | None = None
        self.socket, theirs = socket.socketpair()
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LABSUPPORT_SOCKET_FD": str(theirs.fileno()),
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        # -I: no environment variables, no user site, no current folder on the path; -S: no site start-up
        # (the folders it would add are passed instead), which halves the interpreter's start-up time
        self.proc = subprocess.Popen(
            [python or sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(_search_path())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), env=env, cwd="/", start_new_session=True, close_fds=True)
        theirs.close()
        reveal = needed_paths()
        self.tmp_stages = _tmp_stages(reveal) if limits.isolate else {}
        config = {"namespaces": limits.isolate, "hide": [str(p) for p in hide], "uid": self.uid,
                  "memory_mb": limits.memory_mb, "cpu_s": limits.cpu_s, "file_mb": limits.file_mb,
                  "nproc": limits.nproc, "reveal": reveal, "tmp_stages": self.tmp_stages}
        self._pending = True  # its reply is read when first needed: a submission's set-up overlaps the grader's
        try:
            _send_frame(self.socket.fileno(), ("setup", config))
        except OSError:
            self.error = "the sandbox could not be started"

    def _ask(self, message: tuple[Any, ...], fds: list[int] | None = None) -> dict[str, Any]:
        if self.error:
            raise SubmissionFailed(self.error)
        try:
            if self._pending:
                self._pending = False
                reply = json.loads(_read_frame(self.socket.fileno(), time.monotonic() + self.limits.timeout_s))
                self.isolation = reply.get("isolation", {}) if isinstance(reply, dict) else {}
            _send_frame(self.socket.fileno(), message)
            if fds is not None:
                socket.send_fds(self.socket, [b"F"], fds)
            reply = json.loads(_read_frame(self.socket.fileno(), time.monotonic() + self.limits.timeout_s))
            if not isinstance(reply, dict):
                raise _wire.WireError("not a JSON object")
            return reply
        except _Overrun:
            self.error = f"the sandbox did not answer within {self.limits.timeout_s:g} s"
        except (OSError, EOFError, _wire.WireError, ValueError, UnicodeDecodeError):
            self.error = "the sandbox stopped"
        raise SubmissionFailed(self.error)  # the exercises' own processes live on: they are killed by close()

    def ready(self) -> dict[str, Any]:
        """Wait until isolated; what isolation this machine gave it."""
        if self._pending:
            self._ask(("ping",))
        return self.isolation

    def fork(self) -> Sandbox:
        """A new process for one exercise, talking on a socket of its own."""
        mine, theirs = socket.socketpair()
        try:
            reply = self._ask(("fork",), [theirs.fileno()])
        except SubmissionFailed as failure:
            mine.close()
            sandbox = Sandbox(self.limits, zygote=self, channel=None, pid=None)
            sandbox.dead = failure.message
            return sandbox
        finally:
            theirs.close()
        return Sandbox(self.limits, zygote=self, channel=mine, pid=int(reply["pid"]))

    def exit_status(self, pid: int) -> int | None:
        try:
            status = self._ask(("status", pid)).get("status")
        except SubmissionFailed:
            return None
        return status if isinstance(status, int) else None

    def close(self) -> None:
        """Kill the zygote and everything its submission started (as root: every process of its uid)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            _kill_uid(self.uid)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        self.socket.close()
        for stage in self.tmp_stages.values():  # empty here: the sandbox mounted on it only in its own namespace
            try:
                os.rmdir(stage)
            except OSError:
                pass
        self.error = self.error or "the grader has finished with this submission"


class Sandbox:
    """The process that runs one exercise of one submission and keeps its answer.

    ``Sandbox(limits, hide)`` makes a zygote of its own (closed with the sandbox); the grader forks the
    sandboxes of one submission from one :class:`Zygote` instead.
    """

    channel: socket.socket | None  # the pipe to the sandbox's process (None once closed)
    pid: int | None

    def __init__(self, limits: Limits, hide: list[Path] | None = None, *, zygote: Zygote | None = None,
                 channel: socket.socket | None = None, pid: int | None = None) -> None:
        self.limits = limits
        self.spent_s = 0.0
        self.dead: str | None = None
        self._own_zygote = zygote is None
        if zygote is None:
            zygote = Zygote(limits, hide or [])
            other = zygote.fork()
            channel, pid, self.dead = other.channel, other.pid, other.dead
            other.channel = None
        self.zygote = zygote
        self.channel = channel
        self.pid = pid

    @property
    def isolation(self) -> dict[str, Any]:
        return self.zygote.isolation

    # ---- the protocol ---------------------------------------------------------------------------------

    def _request(self, message: tuple[Any, ...]) -> dict[str, Any]:
        if self.dead or self.channel is None:
            raise SubmissionFailed(self.dead or "your code stopped answering")
        started = time.monotonic()
        try:
            _send_frame(self.channel.fileno(), message)
            payload = _read_frame(self.channel.fileno(), started + self.limits.timeout_s - self.spent_s)
            reply = json.loads(payload)
            if not isinstance(reply, dict):
                raise _wire.WireError("not a JSON object")
            return reply
        except _Overrun:
            self._kill(_describe_end(None, self.limits, timed_out=True))
        except (OSError, EOFError):
            self._kill(None)
        except (_wire.WireError, ValueError, UnicodeDecodeError) as error:
            self._kill(f"your code's process sent the grader something it cannot read ({error})")
        finally:
            self.spent_s += time.monotonic() - started
        raise SubmissionFailed(self.dead or "your code stopped answering")

    def _kill(self, reason: str | None) -> None:
        if self.pid is not None:
            for kill in (os.killpg, os.kill):
                try:
                    kill(self.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        if reason is None:  # it ended by itself: ask the zygote how
            code = self.zygote.exit_status(self.pid) if self.pid is not None else None
            reason = _describe_end(code, self.limits, timed_out=False)
        if self.dead is None:
            self.dead = reason
        self._close_channel()

    def _close_channel(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def close(self) -> None:
        if self.dead is None:
            self.dead = "the grader has finished with this submission"
        self._close_channel()
        if self._own_zygote:
            self.zygote.close()

    # ---- what the grader uses -------------------------------------------------------------------------

    def run(self, context: str, cell: str, name: str) -> dict[str, Any]:
        """Execute ``context`` then ``cell``; the reply holds ``value`` (decoded) if ``name`` was bound."""
        reply = self._request(("run", context, cell, name))
        if "value" in reply:
            reply["value"] = self.decode(reply["value"])
        return reply

    def call(self, handle: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            payload = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - the test passed something that cannot travel
            raise TypeError(f"the grader cannot pass these arguments to your code: {error}") from None
        return self._result(self._request(("call", handle, payload)))

    def getattr(self, handle: int, attribute: str) -> Any:
        return self._result(self._request(("getattr", handle, attribute)))

    def _result(self, reply: dict[str, Any]) -> Any:
        if "error" in reply:
            raise _exception(reply["error"])
        if "value" not in reply:
            self._kill("your code's process sent the grader something it cannot read")
            raise SubmissionFailed(self.dead or "")
        return self.decode(reply["value"])

    def decode(self, data: Any, depth: int = 0) -> Any:
        if depth > 80:
            raise SubmissionFailed("the answer is nested too deeply")
        if isinstance(data, list):
            return [self.decode(v, depth + 1) for v in data]
        if not isinstance(data, dict):
            return data
        if "__handle__" in data:
            remote = RemoteFunction if data.get("callable") else RemoteObject
            return remote(self, int(data["__handle__"]), str(data.get("type", "object")), data.get("signature"))
        decoded = self._decode_builtin(data, depth)
        return self._decode_course_value(data, depth) if decoded is _wire.NOT_MINE else decoded

    def _decode_builtin(self, data: dict[str, Any], depth: int) -> Any:
        """A tuple, set, ``...``, float or dict as the sandbox tagged it; ``_wire.NOT_MINE`` for anything else."""
        if "__tuple__" in data:
            return tuple(self.decode(data["__tuple__"], depth + 1))
        if "__set__" in data:
            try:
                return set(self.decode(data["__set__"], depth + 1))
            except TypeError:
                return self.decode(data["__set__"], depth + 1)
        if "__ellipsis__" in data:
            return Ellipsis
        if "__float__" in data:
            return float(str(data["__float__"]))
        if "__dict__" in data:
            out = {}
            for key, value in data["__dict__"]:
                key = self.decode(key, depth + 1)
                out[tuple(key) if isinstance(key, list) else key] = self.decode(value, depth + 1)
            return out
        return _wire.NOT_MINE

    def _decode_course_value(self, data: dict[str, Any], depth: int) -> Any:
        """A numpy array, or an enum member or dataclass of the course's own package; else a plain dict."""
        if "__ndarray__" in data:
            import numpy as np

            dtype = str(data.get("dtype", ""))
            values = self.decode(data["__ndarray__"], depth + 1)
            try:
                return np.array(values, dtype=np.dtype(dtype) if dtype[:1] in "biufc?" else None)
            except (TypeError, ValueError):
                return values
        if "__enum__" in data:
            enum_type = _course_type(str(data["__enum__"]))
            if enum_type is not None and issubclass(enum_type, enum.Enum):
                return enum_type[str(data.get("name"))]
            return str(data.get("name"))
        if "__dataclass__" in data:
            data_type = _course_type(str(data["__dataclass__"]))
            fields = {str(k): self.decode(v, depth + 1) for k, v in dict(data.get("fields", {})).items()}
            if data_type is not None and dataclasses.is_dataclass(data_type):
                try:
                    return data_type(**fields)
                except Exception:  # noqa: BLE001 - the fields do not make a valid object: pass them as a dict
                    return fields
            return fields
        return {k: self.decode(v, depth + 1) for k, v in data.items()}


class _Overrun(Exception):
    pass


def _course_type(path: str) -> type | None:
    """A class of the course's own package, named by ``module:qualname``; never anything else."""
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith("labsupport.") or not all(p.isidentifier() for p in module_name.split(".")):
        return None
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) else None


def _exception(info: Any) -> BaseException:
    info = info if isinstance(info, dict) else {}
    name, message = str(info.get("type", "Exception")), str(info.get("message", ""))
    cls = getattr(builtins, name, None) if info.get("builtin") else None
    if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, (Wrong,)):
        try:
            return cls(message)
        except Exception:  # noqa: BLE001 - a builtin that takes other arguments
            pass
    if name in ("SystemExit", "KeyboardInterrupt"):
        return RemoteError(f"{name} (your code tried to stop the interpreter)")
    return RemoteError(f"{name}: {message}" if message else name)


class _Remote:
    __slots__ = ("_sandbox", "_handle", "_type")

    def __init__(self, sandbox: Sandbox, handle: int, type_name: str, signature: Any) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._sandbox.getattr(self._handle, name)

    def __repr__(self) -> str:
        return f"<your {self._type}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_wire.resolve_handle, (self._handle,))


class RemoteObject(_Remote):
    """An object that stays in the sandbox; attribute reads are forwarded."""

    __slots__ = ()


class RemoteFunction(_Remote):
    """A function that stays in the sandbox; calls are forwarded, with the function's own signature."""

    __slots__ = ("__signature__",)

    def __init__(self, sandbox: Sandbox, handle: int, type_name: str, signature: Any) -> None:
        super().__init__(sandbox, handle, type_name, signature)
        object.__setattr__(self, "__signature__", _signature(signature))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.call(self._handle, args, kwargs)


def _signature(info: Any) -> inspect.Signature | None:
    if not isinstance(info, list):
        return None
    params = []
    try:
        for name, kind, has_default in info:
            if not isinstance(name, str) or not name.isidentifier():
                return None
            default = ... if has_default else inspect.Parameter.empty
            params.append(inspect.Parameter(name, inspect._ParameterKind(int(kind)), default=default))
        return inspect.Signature(params)
    except (TypeError, ValueError):
        return None
