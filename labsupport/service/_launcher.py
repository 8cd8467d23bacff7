"""Start Restaurant Service instances as real processes on 127.0.0.1, and make sure none is left behind.

Every process a :class:`Launcher` starts is recorded in one module-wide table and stopped

* when the ``with Launcher() as launcher:`` block ends, normally, with an exception or a KeyboardInterrupt;
* when a start fails half-way (the port is taken, the process exits, it does not become ready in time);
* when the Python interpreter exits (``atexit``);
* when the interpreter is killed, for example a Jupyter kernel restarted: each instance is started with
  ``--parent-pid`` and exits by itself when its parent goes (see :func:`labsupport.service._server.die_with_parent`).
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from labsupport.service._app import Misbehaviour
from labsupport.service._facts import HEALTH_PATH
from labsupport.service._package import Package

__all__ = ["HOST", "Instance", "Launcher", "MeasureTable", "Reply", "StartError", "is_running", "rss_mb", "stop_everything",
           "tracked_pids"]

HOST = "127.0.0.1"
_READY = re.compile(r"^READY port=(\d+) pid=(\d+) version=(\S+)\s*$")
_LIVE: dict[int, subprocess.Popen[bytes]] = {}
_LIVE_LOCK = threading.Lock()


class StartError(RuntimeError):
    """An instance did not start; the message holds what the process said. Nothing is left running."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid  # the process that was started and stopped again


def is_running(pid: int) -> bool:
    """Is process ``pid`` alive? A zombie (exited, not yet reaped) counts as not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    try:
        state = next((line for line in status.read_text().splitlines() if line.startswith("State:")), "")
    except OSError:
        return not sys.platform.startswith("linux")
    return "Z" not in state.split(":", 1)[-1].split()[:1]


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (Linux ``/proc``; elsewhere psutil if installed), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil  # optional

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except Exception:  # noqa: BLE001 - no psutil, or the process is gone
        return None


def tracked_pids() -> list[int]:
    """The pids of every instance started and not yet stopped, by any launcher in this interpreter."""
    with _LIVE_LOCK:
        return sorted(_LIVE)


def _terminate(process: subprocess.Popen[bytes], timeout_s: float = 3.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()
    with _LIVE_LOCK:
        _LIVE.pop(process.pid, None)


def stop_everything() -> None:
    """Stop every tracked instance (run at interpreter exit, and safe to call any time)."""
    with _LIVE_LOCK:
        processes = list(_LIVE.values())
    for process in processes:
        try:
            _terminate(process)
        except Exception:  # noqa: BLE001 - keep stopping the others
            pass


atexit.register(stop_everything)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    ms: float


@dataclass
class Instance:
    """One running service process: its name, version, port, pid and how long it took to be ready."""

    name: str
    version: str
    port: int
    pid: int
    start_ms: float
    package: str
    process: subprocess.Popen[bytes] = field(repr=False)
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def request(self, method: str, path: str, body: Any = None, *, timeout_s: float = 5.0) -> Reply:
        """Send one request over loopback; ``body`` is sent as JSON (a ``str`` or ``bytes`` as it is)."""
        payload = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        started = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout_s)
        try:
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        ms = (time.perf_counter() - started) * 1000
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Reply(response.status, parsed, ms)

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid) if self.running() else None

    def running(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")


def _read_ready(process: subprocess.Popen[bytes], timeout_s: float) -> re.Match[str]:
    lines: queue.Queue[bytes] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.02).decode(errors="replace")
        except queue.Empty:
            continue
        match = _READY.match(line)
        if match:
            return match
        raise StartError(f"the instance printed {line.strip()!r} instead of its READY line")
    raise StartError(f"the instance was not ready within {timeout_s:g} s")


class Launcher:
    """Starts instances from ``package`` (or from the course's own source when None) and stops them all.

    Use it as a context manager: every instance it started is stopped when the block ends, however it ends.
    """

    def __init__(self, package: Package | None = None, *, start_timeout_s: float = 15.0) -> None:
        self.package = package
        self.start_timeout_s = start_timeout_s
        self.instances: list[Instance] = []

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.instances)

    def command(self) -> tuple[list[str], dict[str, str]]:
        if self.package is None:
            return [sys.executable, "-m", "labsupport.service"], {}
        return self.package.command(), self.package.env()

    def start(self, name: str | None = None, *, version: str = "v1", port: int = 0,
              misbehaviour: Misbehaviour | None = None, seed: int = 0) -> Instance:
        """Start one instance and wait until it listens; raise :class:`StartError` (leaving nothing) if not."""
        name = name or f"instance-{len(self.instances)}"
        m = misbehaviour or Misbehaviour()
        base, extra_env = self.command()
        cmd = [*base, "--port", str(port), "--version", version, "--parent-pid", str(os.getpid()),
               "--cpu-burn-ms", str(m.cpu_burn_ms), "--leak-mb-per-request", str(m.leak_mb_per_request),
               "--fail-share", str(m.fail_share), "--seed", str(seed)]
        env = {**os.environ, **extra_env, "PYTHONUNBUFFERED": "1"}
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the instance stops
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env,
                                   close_fds=True)
        with _LIVE_LOCK:
            _LIVE[process.pid] = process
        try:
            match = _read_ready(process, self.start_timeout_s)
        except BaseException as error:  # also KeyboardInterrupt: never leave a half-started process
            _terminate(process)
            log.seek(0)
            said = log.read().decode(errors="replace").strip()
            log.close()
            if isinstance(error, (StartError, OSError)):
                reason = said.splitlines()[-1] if said else str(error)
                raise StartError(f"{name} did not start (exit code {process.returncode}): {reason}",
                                 process.pid) from None
            raise
        start_ms = (time.perf_counter() - started) * 1000
        kind = self.package.kind if self.package else "source"
        instance = Instance(name, match.group(3), int(match.group(1)), process.pid, start_ms, kind, process, log)
        self.instances.append(instance)
        return instance

    def stop(self, instance: Instance) -> None:
        _terminate(instance.process)
        instance._log.close()
        if instance in self.instances:
            self.instances.remove(instance)

    def stop_all(self) -> None:
        """Stop every instance this launcher started (the others keep running)."""
        for instance in list(self.instances):
            try:
                self.stop(instance)
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass

    def table(self, requests: int = 20) -> MeasureTable:
        """Send ``requests`` health checks to each instance; measure latency and memory: a table to show."""
        rows = []
        for instance in self.instances:
            replies = [instance.request("GET", HEALTH_PATH) for _ in range(max(1, requests))]
            ms = sorted(r.ms for r in replies)
            rows.append({"instance": instance.name, "package": instance.package, "version": instance.version,
                         "pid": instance.pid, "port": instance.port, "start (ms)": round(instance.start_ms, 1),
                         "median request (ms)": round(ms[len(ms) // 2], 2),
                         "memory RSS (MB)": round(instance.rss_mb() or float("nan"), 1),
                         "ok": sum(r.status == 200 for r in replies)})
        return MeasureTable(rows)


@dataclass(frozen=True)
class MeasureTable:
    """Rows of measurements that show as an HTML table in a notebook and as text elsewhere."""

    rows: list[dict[str, Any]]

    def __str__(self) -> str:
        if not self.rows:
            return "(no instances)"
        columns = list(self.rows[0])
        widths = [max(len(c), *(len(str(r[c])) for r in self.rows)) for c in columns]
        lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
        lines += ["  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)) for r in self.rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        if not self.rows:
            return "<p>(no instances)</p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.rows[0])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
