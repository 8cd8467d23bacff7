"""The Restaurant Service's logic, with no HTTP: every endpoint, and clear 4xx answers to bad requests."""

from __future__ import annotations

import json

import pytest

from labsupport.service import MAX_LEAK_MB, Misbehaviour, RestaurantService, _app


@pytest.fixture
def service() -> RestaurantService:
    return RestaurantService(version="v7")


AJANTA = {"name": "Ajanta", "cuisine": "Indian", "menu": [{"name": "dal", "price": 5}]}


def test_health_and_version(service: RestaurantService) -> None:
    assert service.handle("GET", "/health").body == {"status": "ok", "version": "v7"}
    assert service.handle("get", "/version/").body == {"version": "v7"}  # method case and a trailing slash


def test_create_read_list(service: RestaurantService) -> None:
    created = service.handle("POST", "/restaurants", json.dumps(AJANTA))
    assert created.status == 201
    assert created.body == {"id": "1", **AJANTA}
    assert ("Location", "/restaurants/1") in created.headers
    second = service.handle("POST", "/restaurants", json.dumps({"name": " Noma "}).encode())
    assert second.body == {"id": "2", "name": "Noma", "cuisine": "", "menu": []}
    assert service.handle("GET", "/restaurants/1").body == created.body
    listed = service.handle("GET", "/restaurants?page=1")
    assert listed.status == 200 and [r["id"] for r in listed.body["restaurants"]] == ["1", "2"]
    assert json.loads(listed.json()) == listed.body


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("GET", "/restaurants/42", None, 404, "no restaurant with id 42"),
    ("GET", "/menu", None, 404, "no such resource: /menu"),
    ("DELETE", "/restaurants", None, 405, "DELETE is not allowed on /restaurants; use GET, POST"),
    ("POST", "/restaurants", None, 400, "the request has no body"),
    ("POST", "/restaurants", "{not json", 400, "the body is not valid JSON"),
    ("POST", "/restaurants", b"\xff\xfe", 400, "the body is not valid JSON"),
    ("POST", "/restaurants", "[1, 2]", 422, "a restaurant must be a JSON object"),
    ("POST", "/restaurants", '{"cuisine": "Thai"}', 422, "'name' is required"),
    ("POST", "/restaurants", '{"name": "  "}', 422, "'name' is required"),
    ("POST", "/restaurants", '{"name": "A", "stars": 3}', 422, "unknown field(s): stars"),
    ("POST", "/restaurants", '{"name": "A", "cuisine": 3}', 422, "'cuisine' must be a string"),
    ("POST", "/restaurants", '{"name": "A", "menu": "soup"}', 422, "'menu' must be a list"),
    ("POST", "/restaurants", '{"name": "A", "menu": [{"price": 1}]}', 422, "menu item 0 needs a non-empty string 'name'"),
    ("POST", "/restaurants", '{"name": "A", "menu": [{"name": "x", "price": -1}]}', 422, "menu item 0 needs a 'price'"),
    ("POST", "/restaurants", '{"name": "A", "menu": [{"name": "x", "price": true}]}', 422, "needs a 'price'"),
    ("PUT", "/misbehave", '{"fail_share": 2}', 422, "fail_share must be between 0 and 1"),
    ("PUT", "/misbehave", '{"explode": 1}', 422, "unknown field(s): explode"),
    ("PUT", "/misbehave", '"burn"', 422, "send a JSON object"),
])
def test_bad_requests_get_clear_4xx_answers(service: RestaurantService, method: str, path: str, body: object,
                                            status: int, message: str) -> None:
    response = service.handle(method, path, body)  # type: ignore[arg-type]
    assert response.status == status
    assert message in response.body["error"]


def test_405_names_the_allowed_methods(service: RestaurantService) -> None:
    assert ("Allow", "GET") in service.handle("POST", "/health").headers


def test_misbehaviour_is_switched_on_and_off_over_the_api(service: RestaurantService) -> None:
    assert service.handle("PUT", "/misbehave", '{"fail_share": 1}').body["fail_share"] == 1
    assert service.handle("GET", "/health").status == 503
    assert service.handle("GET", "/misbehave").status == 200  # never fails: it must stay switchable
    service.handle("PUT", "/misbehave", '{"fail_share": 0}')
    assert service.handle("GET", "/health").status == 200


def test_fail_share_is_seeded() -> None:
    def statuses(seed: int) -> list[int]:
        s = RestaurantService(misbehaviour=Misbehaviour(fail_share=0.5), seed=seed)
        return [s.handle("GET", "/health").status for _ in range(40)]

    assert statuses(3) == statuses(3)
    assert 5 < statuses(3).count(503) < 35


class _Clock:
    """A clock that moves 1 ms each time it is read, counting the reads: the burn loop's only view of time."""

    def __init__(self) -> None:
        self.now, self.reads = 0.0, 0

    def perf_counter(self) -> float:
        self.reads += 1
        self.now += 0.001
        return self.now


def test_leak_and_burn_are_real_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(_app, "time", clock)
    service = RestaurantService(misbehaviour=Misbehaviour(leak_mb_per_request=200, cpu_burn_ms=20))
    for _ in range(4):
        service.handle("GET", "/health")
    assert clock.now == pytest.approx(0.084)  # each request spins until 20 ms have passed on its clock: 21 reads
    assert clock.reads == 4 * 21
    assert service.leaked_mb == MAX_LEAK_MB  # 800 MB asked, capped


@pytest.mark.parametrize("bad", [{"cpu_burn_ms": -1}, {"cpu_burn_ms": 1e9}, {"leak_mb_per_request": float("nan")},
                                 {"fail_share": "half"}])
def test_misbehaviour_is_validated(bad: dict) -> None:
    with pytest.raises(ValueError, match="must be"):
        Misbehaviour(**bad)


@pytest.mark.parametrize("version", ["", "v 1", "x" * 40, "../etc"])
def test_bad_versions_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="version must be"):
        RestaurantService(version=version)
