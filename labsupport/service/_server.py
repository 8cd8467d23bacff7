"""Serve a :class:`RestaurantService` over HTTP as a process: ``python -m labsupport.service --port N``.

* It binds 127.0.0.1 unless ``--host`` says otherwise (a container needs ``--host 0.0.0.0``: its loopback
  is its own, so a published port reaches it only on another interface), and ``--port 0`` lets the
  operating system pick a free port.
* Once it listens it prints one line, ``READY port=<port> pid=<pid> version=<version>``, which the launcher
  waits for; every other message goes to stderr.
* It dies with its parent: on Linux it asks the kernel for a signal when its parent exits
  (``prctl(PR_SET_PDEATHSIG)``), and everywhere a watchdog thread exits when the parent's pid changes. So
  killing or restarting the Jupyter kernel that started it never leaves it running.

Standard library only, and relative imports only, so that :mod:`labsupport.service._package` can copy
these modules into a zipapp or a wheel that runs with nothing else installed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ._app import Misbehaviour, RestaurantService, valid_version
from ._facts import SERVICE_PORT

__all__ = ["die_with_parent", "main", "make_server"]

HOST = "127.0.0.1"
MAX_BODY_BYTES = 1_000_000
#: A refused body up to this size is read and dropped before the connection closes (see ``_drain``).
DRAIN_BYTES = 8_000_000
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, poll_s: float = 0.25) -> None:
    """Exit when the process that started this one exits (Linux: at once; elsewhere: within ``poll_s``)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(0)
            time.sleep(poll_s)

    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(0)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def make_server(service: RestaurantService, port: int, host: str = HOST) -> ThreadingHTTPServer:
    """An HTTP server for ``service`` on ``host``:``port`` (0: a free port), not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        server_version = f"RestaurantService/{service.version}"
        protocol_version = "HTTP/1.1"

        def _drain(self, length: int) -> None:
            """Read and drop ``length`` bytes of a refused body, waiting at most 2 s for each chunk."""
            try:
                self.connection.settimeout(2.0)
                while length > 0:
                    chunk = self.rfile.read(min(length, 65536))
                    if not chunk:
                        break
                    length -= len(chunk)
            except OSError:
                pass

        def _answer(self) -> None:
            length = self.headers.get("Content-Length") or "0"
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                if length.isdigit() and int(length) <= DRAIN_BYTES:
                    self._drain(int(length))  # so a client still writing its body hears the 413, not a reset
                self.send_error(413 if length.isdigit() else 400, "bad or too large Content-Length")
                return
            body = self.rfile.read(int(length)) if int(length) else None
            response = service.handle(self.command, self.path, body)
            payload = response.json()
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: a lesson starts several instances and reads only what it asks for

    ThreadingHTTPServer.allow_reuse_address = False
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="restaurant-service",
                                     description="The course's Restaurant Service, on 127.0.0.1 only unless --host says otherwise.")
    parser.add_argument("--host", default=HOST, help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=SERVICE_PORT, help="port to listen on; 0 picks a free one")
    parser.add_argument("--version", default="v1", help="the version the service reports (default v1)")
    parser.add_argument("--cpu-burn-ms", type=float, default=0.0, help="CPU to burn on every request")
    parser.add_argument("--leak-mb-per-request", type=float, default=0.0, help="memory to leak on every request")
    parser.add_argument("--fail-share", type=float, default=0.0, help="share of requests to fail with 503")
    parser.add_argument("--seed", type=int, default=0, help="seed of the failing requests' draws")
    parser.add_argument("--parent-pid", type=int, default=None,
                        help="exit when this process exits (the launcher passes its own pid)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.parent_pid is not None:
        die_with_parent(args.parent_pid)
    if not 0 <= args.port <= 65535:
        print(f"error: --port must be between 0 and 65535, got {args.port}", file=sys.stderr)
        return 2
    if not valid_version(args.version):
        print(f"error: --version must be 1 to 32 letters, digits, '.', '_' or '-', got {args.version!r}",
              file=sys.stderr)
        return 2
    try:
        misbehaviour = Misbehaviour(args.cpu_burn_ms, args.leak_mb_per_request, args.fail_share)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    service = RestaurantService(version=args.version, misbehaviour=misbehaviour, seed=args.seed)
    try:
        server = make_server(service, args.port, args.host)
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = server.server_address[1]
    print(f"READY port={port} pid={os.getpid()} version={args.version}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0
