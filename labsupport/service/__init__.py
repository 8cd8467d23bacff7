"""The course's tiny, real Restaurant Service, and the tools to package it and run it as processes.

* :class:`RestaurantService` is the logic: ``handle(method, path, body) -> Response``, no HTTP in it.
* ``python -m labsupport.service --port 0 --version v1`` serves it over HTTP on 127.0.0.1.
* :func:`build_zipapp` and :func:`build_wheel` package it for real; :func:`install_wheel` deploys a wheel.
* :class:`Launcher` starts instances as processes and guarantees that none is left running.

Standard library only.
"""

from labsupport.service._app import MAX_BURN_MS, MAX_LEAK_MB, Misbehaviour, Response, RestaurantService
from labsupport.service._launcher import (
    Instance,
    Launcher,
    MeasureTable,
    Reply,
    StartError,
    is_running,
    rss_mb,
    stop_everything,
    tracked_pids,
)
from labsupport.service._package import Package, PackageError, build_wheel, build_zipapp, install_wheel

__all__ = [
    "MAX_BURN_MS", "MAX_LEAK_MB", "Instance", "Launcher", "MeasureTable", "Misbehaviour", "Package", "PackageError",
    "Reply", "Response", "RestaurantService", "StartError", "build_wheel", "build_zipapp", "install_wheel",
    "is_running", "rss_mb", "stop_everything", "tracked_pids",
]
