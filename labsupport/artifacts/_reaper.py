"""The watchdog of one container: it removes the container when the process that started it ends, however it ended.

:func:`labsupport.artifacts.oci.run_in_container` starts one beside each container, in a session of its own (a
signal to the Jupyter kernel's process group does not reach it)::

    python -m labsupport.artifacts._reaper OWNER_PID RUNTIME CID BUNDLE CGROUPS_PATH CGROUP_VERSION

It waits for its owner to end: on a pidfd (``os.pidfd_open``, Linux 5.3 and later), which names that very process
and not a later one given the same pid, else by polling. When the owner ends (killed by SIGKILL, "Restart
kernel", a crash, the OOM killer) it does what the owner's own clean-up would have done, with the same code
(``oci._cleanup``): kill and delete the container, remove its cgroup folders and its bundle. The owner stops it
(SIGTERM) right after cleaning up by itself; it also exits as soon as it sees the bundle gone.

It never acts while its owner lives, and it refuses a container whose name does not carry its owner's pid (every
container of the course is named ``labsupport-PID-...`` after the process that made it).
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["main", "owner_ended", "watch"]

_PREFIX = "labsupport-"  # oci._PREFIX; oci is imported only when there is something to clean up
POLL_S = 0.25


def owner_ended(owner_pid: int) -> Callable[[float], bool]:
    """``ended(wait_s)``: has the owner ended? It waits up to ``wait_s`` for that. A zombie (exited, not yet
    reaped by its parent) has ended."""
    pidfd = getattr(os, "pidfd_open", None)
    if pidfd is not None:
        try:
            fd = pidfd(owner_pid)
        except ProcessLookupError:
            return lambda wait_s: True
        except OSError:
            fd = -1  # a kernel without pidfds: poll
        if fd >= 0:
            return lambda wait_s: bool(select.select([fd], [], [], wait_s)[0])  # readable once it exited

    from labsupport.service import is_running

    def polled(wait_s: float) -> bool:
        if not is_running(owner_pid):
            return True
        time.sleep(wait_s)
        return not is_running(owner_pid)

    return polled


def watch(ended: Callable[[float], bool], cleaned_up: Callable[[], bool], cleanup: Callable[[], None], *,
          poll_s: float = POLL_S) -> bool:
    """Wait until the owner ends, then clean up once and return True; return False (touching nothing) as soon as
    ``cleaned_up()`` says the owner removed the container itself."""
    while not cleaned_up():
        if ended(poll_s):
            if not cleaned_up():
                cleanup()
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 6 or not args[0].isdigit() or args[5] not in ("1", "2"):
        print("usage: python -m labsupport.artifacts._reaper OWNER_PID RUNTIME CID BUNDLE CGROUPS_PATH "
              "CGROUP_VERSION (1 or 2)", file=sys.stderr)
        return 2
    owner, runtime, cid, bundle, cgroups_path, version = int(args[0]), args[1], args[2], Path(args[3]), args[4], int(args[5])
    if not cid.startswith(f"{_PREFIX}{owner}-") or not bundle.name.startswith(f"{_PREFIX}bundle-{owner}-"):
        print(f"refused: {cid} and {bundle.name} are not containers of process {owner}", file=sys.stderr)
        return 2

    def cleanup() -> None:
        from labsupport.artifacts.oci import _cleanup

        _cleanup(runtime, cid, None, bundle, cgroups_path, version)

    watch(owner_ended(owner), lambda: not bundle.exists(), cleanup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
