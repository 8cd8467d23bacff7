"""The Restaurant Service's logic, with no HTTP in it: ``handle(method, path, body) -> Response``.

Every way of serving it (a process here, a container, a Kubernetes pod, a Lambda handler in later lessons)
wraps the same :class:`RestaurantService`. It uses the standard library only, so a package of it needs
nothing else installed.

Endpoints::

    GET  /health                 {"status": "ok", "version": ...}
    GET  /version                {"version": ...}
    GET  /restaurants            {"restaurants": [...]}
    POST /restaurants            {"name": ..., "cuisine": ..., "menu": [{"name": ..., "price": ...}]} -> 201
    GET  /restaurants/<id>       one restaurant, or 404
    GET  /misbehave              what the service is told to do wrong
    PUT  /misbehave              {"cpu_burn_ms": ..., "leak_mb_per_request": ..., "fail_share": ...}

Misbehaviour is bounded on purpose: a request burns at most 2 s of CPU, and the leak stops growing at
``MAX_LEAK_MB``, so a lesson can show a noisy neighbour without harming the learner's machine.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ._facts import HEALTH_PATH

__all__ = ["MAX_BURN_MS", "MAX_LEAK_MB", "Misbehaviour", "Response", "RestaurantService"]

MAX_BURN_MS = 2000.0
MAX_LEAK_MB = 512.0
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_RESTAURANT = re.compile(r"^/restaurants/([^/]+)$")


@dataclass(frozen=True, slots=True)
class Response:
    """What the service answers: an HTTP status, a JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()

    def json(self) -> bytes:
        return json.dumps(self.body, sort_keys=True).encode()


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    """Faults to switch on: CPU burnt per request, memory leaked per request, a share of requests failed."""

    cpu_burn_ms: float = 0.0
    leak_mb_per_request: float = 0.0
    fail_share: float = 0.0

    def __post_init__(self) -> None:
        for name, high in (("cpu_burn_ms", MAX_BURN_MS), ("leak_mb_per_request", MAX_LEAK_MB), ("fail_share", 1.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
            if not 0 <= value <= high:
                raise ValueError(f"{name} must be between 0 and {high:g}, got {value:g}")


def valid_version(version: str) -> bool:
    return isinstance(version, str) and bool(_VERSION.match(version))


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, {"error": message}, headers)


def _parse_json(body: bytes | str | None) -> Any:
    if body is None or body in (b"", ""):
        raise _BadRequest(400, "the request has no body; send a JSON object")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise _BadRequest(400, f"the body is not valid JSON: {error}") from None


def _restaurant(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _BadRequest(422, "a restaurant must be a JSON object")
    unknown = sorted(set(data) - {"name", "cuisine", "menu"})
    if unknown:
        raise _BadRequest(422, f"unknown field(s): {', '.join(unknown)}; allowed are name, cuisine, menu")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _BadRequest(422, "'name' is required and must be a non-empty string")
    cuisine = data.get("cuisine", "")
    if not isinstance(cuisine, str):
        raise _BadRequest(422, "'cuisine' must be a string")
    menu = data.get("menu", [])
    if not isinstance(menu, list):
        raise _BadRequest(422, "'menu' must be a list of {\"name\": ..., \"price\": ...} items")
    items = []
    for i, item in enumerate(menu):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise _BadRequest(422, f"menu item {i} needs a non-empty string 'name'")
        price = item.get("price")
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not math.isfinite(price) or price < 0:
            raise _BadRequest(422, f"menu item {i} needs a 'price' that is a number of at least 0")
        items.append({"name": item["name"].strip(), "price": price})
    return {"name": name.strip(), "cuisine": cuisine.strip(), "menu": items}


@dataclass
class RestaurantService:
    """The service's state (restaurants in memory) and its request handling; thread-safe."""

    version: str = "v1"
    misbehaviour: Misbehaviour = field(default_factory=Misbehaviour)
    seed: int = 0

    def __post_init__(self) -> None:
        if not valid_version(self.version):
            raise ValueError(f"version must be 1 to 32 letters, digits, '.', '_' or '-', got {self.version!r}")
        self._lock = threading.Lock()
        self._restaurants: dict[str, dict[str, Any]] = {}
        self._next_id = 1
        self._random = random.Random(self.seed)
        self._leaked: list[bytearray] = []
        self._leaked_mb = 0.0
        self.requests = 0

    @property
    def leaked_mb(self) -> float:
        return self._leaked_mb

    def handle(self, method: str, path: str, body: bytes | str | None = None) -> Response:
        """Answer one request. Never raises: a bad request gets a 4xx response that says what is wrong."""
        method = method.upper()
        path = path.split("?", 1)[0].rstrip("/") or "/"
        with self._lock:
            self.requests += 1
            fault = self._misbehave(path)
        if fault is not None:
            return fault
        try:
            return self._route(method, path, body)
        except _BadRequest as bad:
            return _error(bad.status, str(bad))

    def _misbehave(self, path: str) -> Response | None:
        """Apply the switched-on faults to every path but /misbehave, so they can always be switched off."""
        m = self.misbehaviour
        if path == "/misbehave":
            return None
        if m.leak_mb_per_request and self._leaked_mb < MAX_LEAK_MB:
            mb = min(m.leak_mb_per_request, MAX_LEAK_MB - self._leaked_mb)
            chunk = bytearray(int(mb * 1024 * 1024))
            chunk[::4096] = b"\x01" * len(chunk[::4096])  # touch every page, so it really is resident memory
            self._leaked.append(chunk)
            self._leaked_mb += mb
        if m.cpu_burn_ms:
            end = time.perf_counter() + m.cpu_burn_ms / 1000
            while time.perf_counter() < end:
                pass
        if m.fail_share and self._random.random() < m.fail_share:
            return _error(503, "failing on purpose (misbehave fail_share)")
        return None

    def _route(self, method: str, path: str, body: bytes | str | None) -> Response:
        routes: dict[str, dict[str, Callable[[], Response]]] = {
            HEALTH_PATH: {"GET": lambda: Response(200, {"status": "ok", "version": self.version})},
            "/version": {"GET": lambda: Response(200, {"version": self.version})},
            "/restaurants": {"GET": self._list, "POST": lambda: self._create(body)},
            "/misbehave": {"GET": lambda: Response(200, asdict(self.misbehaviour)),
                           "PUT": lambda: self._set_misbehaviour(body)},
        }
        match = _RESTAURANT.match(path)
        if match:
            routes[path] = {"GET": lambda: self._read(match.group(1))}
        if path not in routes:
            return _error(404, f"no such resource: {path}")
        allowed = routes[path]
        if method not in allowed:
            return _error(405, f"{method} is not allowed on {path}; use {', '.join(sorted(allowed))}",
                          (("Allow", ", ".join(sorted(allowed))),))
        return allowed[method]()

    def _list(self) -> Response:
        with self._lock:
            return Response(200, {"restaurants": [dict(r) for r in self._restaurants.values()]})

    def _read(self, restaurant_id: str) -> Response:
        with self._lock:
            found = self._restaurants.get(restaurant_id)
        if found is None:
            return _error(404, f"no restaurant with id {restaurant_id}")
        return Response(200, dict(found))

    def _create(self, body: bytes | str | None) -> Response:
        restaurant = _restaurant(_parse_json(body))
        with self._lock:
            restaurant_id = str(self._next_id)
            self._next_id += 1
            restaurant = {"id": restaurant_id, **restaurant}
            self._restaurants[restaurant_id] = restaurant
        return Response(201, dict(restaurant), (("Location", f"/restaurants/{restaurant_id}"),))

    def _set_misbehaviour(self, body: bytes | str | None) -> Response:
        data = _parse_json(body)
        if not isinstance(data, dict):
            raise _BadRequest(422, "send a JSON object such as {\"cpu_burn_ms\": 50}")
        unknown = sorted(set(data) - set(Misbehaviour.__dataclass_fields__))
        if unknown:
            raise _BadRequest(422, f"unknown field(s): {', '.join(unknown)}; allowed are "
                                   f"{', '.join(Misbehaviour.__dataclass_fields__)}")
        try:
            new = Misbehaviour(**{**asdict(self.misbehaviour), **data})
        except ValueError as error:
            raise _BadRequest(422, str(error)) from None
        with self._lock:
            self.misbehaviour = new
        return Response(200, asdict(new))
