"""Real processes: the server over HTTP, and the launcher's promise that no process is left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

import labsupport.service._launcher as _launcher
from labsupport.service import Launcher, Misbehaviour, RestaurantService, StartError, is_running, tracked_pids
from labsupport.service._server import make_server


def _gone(pids: list[int], within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(is_running(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_several_instances_serve_on_loopback_and_all_stop() -> None:
    with Launcher() as launcher:
        a = launcher.start(version="v1")
        b = launcher.start(version="v2", misbehaviour=Misbehaviour(fail_share=1.0))
        pids = [a.pid, b.pid]
        assert a.port != b.port and a.url.startswith("http://127.0.0.1:")
        assert sorted(pids) == [p for p in tracked_pids() if p in pids]
        assert a.request("GET", "/health").body == {"status": "ok", "version": "v1"}
        assert b.request("GET", "/health").status == 503
        created = a.request("POST", "/restaurants", {"name": "Ajanta"})
        assert created.status == 201 and a.request("GET", "/restaurants/1").body["name"] == "Ajanta"
        assert b.request("GET", "/misbehave").status == 200
        assert a.request("POST", "/restaurants", "{broken").status == 400
        assert a.request("DELETE", "/health").status == 405
        assert 0 < a.start_ms < 15_000 and a.rss_mb() is not None and a.rss_mb() > 1
        table = launcher.table(requests=3)
        assert [row["instance"] for row in table.rows] == ["instance-0", "instance-1"]
        assert "<table>" in table._repr_html_() and "instance-1" in str(table)
    assert not any(is_running(pid) for pid in pids)
    assert not set(pids) & set(tracked_pids())


def test_an_oversized_body_is_refused() -> None:
    with Launcher() as launcher:
        instance = launcher.start()
        assert instance.request("POST", "/restaurants", "x" * 1_000_001).status == 413


def test_the_server_binds_loopback_only() -> None:
    server = make_server(RestaurantService(), 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_the_server_binds_another_address_only_when_asked() -> None:
    """A container's image starts it with --host 0.0.0.0 (lesson 03's Dockerfile)."""
    server = make_server(RestaurantService(), 0, "0.0.0.0")
    try:
        assert server.server_address[0] == "0.0.0.0"
    finally:
        server.server_close()


def test_a_failed_start_leaves_nothing_running() -> None:
    with Launcher() as launcher:
        with pytest.raises(StartError, match="version must be") as failed:
            launcher.start(version="not a version")
        assert failed.value.pid is not None and not is_running(failed.value.pid)
        assert launcher.instances == [] and failed.value.pid not in tracked_pids()


def test_a_taken_port_fails_clearly_and_leaves_nothing_running() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with Launcher() as launcher, pytest.raises(StartError, match=f"cannot listen on 127.0.0.1:{port}") as failed:
            launcher.start(port=port)
    assert not is_running(failed.value.pid) and failed.value.pid not in tracked_pids()


def test_a_start_that_takes_too_long_is_stopped() -> None:
    with Launcher(start_timeout_s=0.001) as launcher, pytest.raises(StartError, match="not ready within") as failed:
        launcher.start()
    assert _gone([failed.value.pid])


def test_an_interrupt_while_starting_stops_the_half_started_process(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    real = _launcher._read_ready

    def interrupted(process, timeout_s):  # type: ignore[no-untyped-def]
        started.append(process.pid)
        real(process, timeout_s)
        raise KeyboardInterrupt

    monkeypatch.setattr(_launcher, "_read_ready", interrupted)
    with pytest.raises(KeyboardInterrupt), Launcher() as launcher:
        launcher.start()
    assert started and not is_running(started[0]) and started[0] not in tracked_pids()


def test_an_interrupt_inside_the_block_stops_every_instance() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), Launcher() as launcher:
        pids += [launcher.start().pid, launcher.start().pid]
        raise KeyboardInterrupt
    assert not any(is_running(pid) for pid in pids)


CHILD = textwrap.dedent("""
    import sys, time
    from labsupport.service import Launcher
    launcher = Launcher()
    pids = [launcher.start().pid for _ in range(2)]
    print(*pids, flush=True)
    if sys.argv[1] == "wait":
        time.sleep(60)
    # "exit": leave without stopping them; atexit must
""")


def _child(mode: str) -> tuple[subprocess.Popen[str], list[int]]:
    process = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    pids = [int(p) for p in line.split()]
    assert len(pids) == 2, line
    return process, pids


def test_interpreter_exit_stops_instances_left_running() -> None:
    process, pids = _child("exit")
    process.wait(timeout=30)
    assert _gone(pids)


def test_instances_die_with_a_killed_parent() -> None:
    """What happens when a Jupyter kernel is restarted or killed: no atexit, no finally, just gone."""
    process, pids = _child("wait")
    assert all(is_running(pid) for pid in pids)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert _gone(pids), [pid for pid in pids if is_running(pid)]


def test_is_running_for_a_pid_that_does_not_exist() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert not is_running(process.pid)
    assert is_running(os.getpid())
