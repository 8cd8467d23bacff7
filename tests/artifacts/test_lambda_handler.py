"""Lesson 06's Lambda handler: every route through both API Gateway event shapes, bad requests, malformed events."""

from __future__ import annotations

import base64
import copy
import json

import pytest

from labsupport.artifacts.lambda_handler import (
    SAMPLE_EVENTS,
    FakeContext,
    event_format,
    handler,
    make_handler,
    sample_event,
)
from labsupport.service import RestaurantService

AJANTA = {"name": "Ajanta", "cuisine": "Indian", "menu": [{"name": "dal", "price": 5}]}


def v2(method: str, path: str, body: str | None = None, stage: str = "$default", b64: bool = False) -> dict:
    event = copy.deepcopy(sample_event("http-api-v2-get-health"))
    raw = path if stage == "$default" else f"/{stage}{path}"
    event["rawPath"] = raw
    event["requestContext"]["http"].update(method=method, path=raw)
    event["requestContext"]["stage"] = stage
    event["isBase64Encoded"] = b64
    if body is not None:
        event["body"] = body
    return event


def v1(method: str, path: str, body: str | None = None, b64: bool = False) -> dict:
    event = copy.deepcopy(sample_event("rest-api-v1-get-restaurants"))
    event.update(httpMethod=method, path=path, body=body, isBase64Encoded=b64)
    event["requestContext"].update(httpMethod=method, path=f"/prod{path}")
    return event


def _body(answer: dict) -> dict:
    assert set(answer) == {"statusCode", "headers", "body", "isBase64Encoded"}
    assert answer["headers"]["Content-Type"] == "application/json" and answer["isBase64Encoded"] is False
    return json.loads(answer["body"])


@pytest.mark.parametrize("shape", [v2, v1])
def test_every_route_through_both_shapes(shape) -> None:
    h = make_handler(RestaurantService(version="v5"))
    assert _body(h(shape("GET", "/health"), FakeContext())) == {"status": "ok", "version": "v5"}
    assert _body(h(shape("GET", "/version"), None)) == {"version": "v5"}
    created = h(shape("POST", "/restaurants", json.dumps(AJANTA)), FakeContext())
    assert created["statusCode"] == 201 and created["headers"]["Location"] == "/restaurants/1"
    assert _body(created) == {"id": "1", **AJANTA}
    assert _body(h(shape("GET", "/restaurants/1")))["name"] == "Ajanta"
    assert [r["id"] for r in _body(h(shape("GET", "/restaurants")))["restaurants"]] == ["1"]
    assert _body(h(shape("GET", "/misbehave")))["fail_share"] == 0.0
    put = h(shape("PUT", "/misbehave", json.dumps({"fail_share": 0.0})))
    assert put["statusCode"] == 200


@pytest.mark.parametrize("shape", [v2, v1])
@pytest.mark.parametrize(("method", "path", "body", "status", "message"), [
    ("GET", "/restaurants/42", None, 404, "no restaurant with id 42"),
    ("GET", "/menu", None, 404, "no such resource: /menu"),
    ("DELETE", "/restaurants", None, 405, "DELETE is not allowed"),
    ("POST", "/restaurants", None, 400, "has no body"),
    ("POST", "/restaurants", "{oops", 400, "not valid JSON"),
    ("POST", "/restaurants", json.dumps({"cuisine": "Thai"}), 422, "'name' is required"),
])
def test_bad_requests_get_clear_4xx(shape, method, path, body, status, message) -> None:
    answer = make_handler()(shape(method, path, body))
    assert answer["statusCode"] == status and message in _body(answer)["error"]


def test_base64_bodies_and_stages() -> None:
    h = make_handler()
    encoded = base64.b64encode(json.dumps(AJANTA).encode()).decode()
    assert h(v2("POST", "/restaurants", encoded, b64=True))["statusCode"] == 201
    assert h(v1("POST", "/restaurants", encoded, b64=True))["statusCode"] == 201
    listed = h(v2("GET", "/restaurants", stage="prod"))
    assert [r["id"] for r in _body(listed)["restaurants"]] == ["1", "2"]
    broken = h(v2("POST", "/restaurants", "not base64!", b64=True))
    assert broken["statusCode"] == 400 and "not base64" in _body(broken)["error"]


@pytest.mark.parametrize(("event", "message"), [
    (None, "must be a JSON object, got NoneType"),
    ("GET /health", "must be a JSON object, got str"),
    ({}, "not an API Gateway proxy event"),
    ({"version": "2.0"}, "needs requestContext.http"),
    ({"version": "2.0", "requestContext": {"http": {"method": 7}}, "rawPath": "/health"}, "method must be a non-empty"),
    ({"httpMethod": "GET"}, "path must be a non-empty string"),
    ({"httpMethod": "GET", "path": "health"}, "must start with '/'"),
    ({"httpMethod": "POST", "path": "/restaurants", "body": {"name": "x"}}, "body must be a string"),
    ({"Records": []}, "not an HTTP request"),
])
def test_malformed_events_get_a_clear_400_never_a_traceback(event, message) -> None:
    answer = make_handler()(event, FakeContext())
    assert answer["statusCode"] == 400
    error = _body(answer)["error"]
    assert error.startswith("malformed event: ") and message in error and "Traceback" not in error


def test_an_unexpected_failure_is_a_500_without_details() -> None:
    class Broken(RestaurantService):
        def handle(self, method, path, body=None):  # noqa: ANN001
            raise RuntimeError("secret internals")

    answer = make_handler(Broken())(v2("GET", "/health"))
    assert answer["statusCode"] == 500 and "secret" not in answer["body"] and "RuntimeError" in answer["body"]


def test_sample_events_are_real_shapes_and_give_the_lesson_answers() -> None:
    formats = {}
    for name in SAMPLE_EVENTS[:-1]:
        event = sample_event(name)
        formats[name] = event_format(event)
        if formats[name] == "2.0":
            assert {"version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext",
                    "isBase64Encoded"} <= set(event)
            assert {"method", "path", "protocol", "sourceIp", "userAgent"} == set(event["requestContext"]["http"])
        else:
            assert {"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
                    "isBase64Encoded"} <= set(event)
    assert set(formats.values()) == {"1.0", "2.0"}
    h = make_handler()
    statuses = [h(sample_event(name))["statusCode"] for name in SAMPLE_EVENTS]
    assert statuses == [200, 201, 200, 400, 200, 200, 201, 405, 404, 400]
    with pytest.raises(ValueError, match="no sample event"):
        sample_event("nope")


def test_module_handler_keeps_state_between_warm_invocations() -> None:
    before = handler.service.requests
    handler(sample_event("http-api-v2-get-health"), FakeContext())
    assert handler.service.requests == before + 1
    assert FakeContext(timeout_s=3).get_remaining_time_in_millis() <= 3000
    assert FakeContext().invoked_function_arn.endswith(":function:restaurant-service")
