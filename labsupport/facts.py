"""Facts that several parts of the course share, in one place: import them from here.

* The Restaurant Service's port and health path: defined inside :mod:`labsupport.service` (which is packaged
  on its own, with nothing but its modules), read by every artifact that deploys it.
"""

from __future__ import annotations

from labsupport.service._facts import HEALTH_PATH, SERVICE_PORT

__all__ = ["HEALTH_PATH", "SERVICE_PORT"]
