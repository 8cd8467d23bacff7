"""A client for the Restaurant Service, run inside its container (``runc exec``, as ``docker exec`` would).

``python3 client.py PORT HEALTH`` asks the health path ``HEALTH`` and ``/restaurants`` once on 127.0.0.1 and
prints each answer; ``python3 client.py PORT HEALTH RATE SECONDS`` then keeps asking ``HEALTH`` RATE times a
second for SECONDS (the load that makes a leaking service leak). Standard library only: it is copied into the
container as it is, so the port and the health path come from the caller (``labsupport.facts``).
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def ask(port: int, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as reply:
            return f"GET {path} -> {reply.status} {reply.read().decode()[:160]}"
    except (urllib.error.URLError, OSError) as error:
        return f"GET {path} -> no answer ({error})"


def load(port: int, health: str, rate: float, seconds: float) -> int:
    """Ask ``health`` ``rate`` times a second for ``seconds``; the number of answers."""
    started, answered, sent = time.monotonic(), 0, 0
    while time.monotonic() - started < seconds:
        answered += ask(port, health).startswith(f"GET {health} -> 200")
        sent += 1
        pause = started + sent / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return answered


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 4):
        print("usage: client.py PORT HEALTH_PATH [RATE SECONDS]", file=sys.stderr)
        return 2
    port, health = int(argv[0]), argv[1]
    for path in (health, "/restaurants"):
        print(ask(port, path), flush=True)
    if len(argv) == 4:
        print(f"answered {load(port, health, float(argv[2]), float(argv[3]))} requests", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
