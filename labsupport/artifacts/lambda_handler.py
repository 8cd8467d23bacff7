"""The Restaurant Service as an AWS Lambda function behind Amazon API Gateway.

:func:`handler` is what Lambda calls: ``handler(event, context)``. API Gateway turns each HTTP request into an
*event* (a JSON object) and expects a *proxy response* back. Two event shapes exist, and a function may meet
either (Amazon API Gateway Developer Guide: "Create AWS Lambda proxy integrations for HTTP APIs", payload
format versions 1.0 and 2.0; "Lambda proxy integrations" for REST APIs):

* **HTTP API, payload format 2.0**: ``version: "2.0"``, the method in ``requestContext.http.method``, the path
  in ``rawPath`` (for a named stage it starts with ``/<stage>``), the query in ``rawQueryString``;
* **REST API (and HTTP API with payload format 1.0)**: ``httpMethod``, ``path``, ``multiValueHeaders`` and
  ``multiValueQueryStringParameters``.

Both carry ``body`` as a string (base64 when ``isBase64Encoded``), and both accept the response
``{"statusCode", "headers", "body", "isBase64Encoded"}``. The handler adapts the event to
:meth:`RestaurantService.handle` (the same logic every lesson deploys) and never raises: a bad request gets
the service's 4xx answer, an event that is not an API Gateway request gets a 400 that says what was expected,
and anything unexpected a 500 without a traceback.

The service object is created once per execution environment, outside the handler: it is built during the
*init* phase (the cold start) and reused by every warm invocation of that environment, as Lambda's
documentation recommends for SDK clients and connections. Its in-memory restaurants therefore live only as
long as the environment does, and each environment has its own: a real deployment keeps state in a database.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from labsupport.service import Response, RestaurantService

__all__ = ["SAMPLE_EVENTS", "FakeContext", "event_format", "handler", "make_handler", "sample_event"]

_JSON = {"Content-Type": "application/json"}


@dataclass
class FakeContext:
    """What Lambda passes as ``context``, enough for a local call (the real one has more attributes)."""

    function_name: str = "restaurant-service"
    memory_limit_in_mb: int = 512
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


class _BadEvent(Exception):
    """The event is not an API Gateway proxy request we can serve."""


def event_format(event: Any) -> str:
    """``"2.0"`` (HTTP API), ``"1.0"`` (REST API proxy), or raise :class:`_BadEvent` saying what is wrong."""
    if not isinstance(event, dict):
        raise _BadEvent(f"the event must be a JSON object, got {type(event).__name__}")
    if event.get("version") == "2.0":
        return "2.0"
    if "httpMethod" in event:
        return "1.0"
    if "Records" in event:
        raise _BadEvent("this is a batch of records (an S3, SQS or SNS notification?), not an HTTP request; "
                        "this function serves API Gateway proxy events only")
    keys = ", ".join(sorted(map(str, event))[:8]) or "none"
    raise _BadEvent("not an API Gateway proxy event: expected version '2.0' with requestContext.http, or a "
                    f"REST API event with httpMethod and path; the event's keys are: {keys}")


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise _BadEvent(f"{name} must be a non-empty string, got {value!r}")
    return value


def _request(event: dict[str, Any]) -> tuple[str, str, str | None]:
    """(method, path, body) from a 2.0 or 1.0 event."""
    version = event_format(event)
    if version == "2.0":
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        if not isinstance(http, dict):
            raise _BadEvent("a version 2.0 event needs requestContext.http with the method")
        method = _text(http.get("method"), "requestContext.http.method")
        path = _text(event.get("rawPath", http.get("path")), "rawPath")
        stage = context.get("stage") if isinstance(context, dict) else None
        if isinstance(stage, str) and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
            path = path[len(stage) + 1:] or "/"  # a named stage's requests carry its name first
        query = event.get("rawQueryString") or ""
    else:
        method = _text(event.get("httpMethod"), "httpMethod")
        path = _text(event.get("path"), "path")
        query = ""
    if not path.startswith("/"):
        raise _BadEvent(f"the path must start with '/', got {path!r}")
    body = event.get("body")
    if body is not None and not isinstance(body, str):
        raise _BadEvent(f"body must be a string (JSON text) or null, got {type(body).__name__}")
    if body is not None and event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _BadEvent("isBase64Encoded is true but body is not base64 of UTF-8 text") from None
    return method, path + (f"?{query}" if query else ""), body


def _proxy_response(response: Response) -> dict[str, Any]:
    return {
        "statusCode": response.status,
        "headers": {**_JSON, **dict(response.headers)},
        "body": response.json().decode("utf-8"),
        "isBase64Encoded": False,
    }


def _error(status: int, message: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": dict(_JSON), "body": json.dumps({"error": message}),
            "isBase64Encoded": False}


def make_handler(service: RestaurantService | None = None) -> Any:
    """A Lambda handler around ``service`` (a new Restaurant Service by default): one per execution environment."""
    svc = service if service is not None else RestaurantService(version="lambda")

    def handle(event: Any, context: Any = None) -> dict[str, Any]:
        try:
            method, path, body = _request(event)
        except _BadEvent as bad:
            return _error(400, f"malformed event: {bad}")
        try:
            return _proxy_response(svc.handle(method, path, body))
        except Exception as error:  # noqa: BLE001 - a function must answer, not crash the environment
            return _error(500, f"internal error ({type(error).__name__}); see the function's logs")

    handle.service = svc  # type: ignore[attr-defined]
    return handle


#: The module's handler, as Lambda would import it (``labsupport.artifacts.lambda_handler.handler``): the
#: service below is created once, during the init phase of each execution environment.
handler = make_handler()

#: Sample events shipped with the course, in the shapes API Gateway sends (see the module's docstring).
SAMPLE_EVENTS = (
    "http-api-v2-get-health",
    "http-api-v2-post-restaurant",
    "http-api-v2-get-restaurant",
    "http-api-v2-post-bad-json",
    "http-api-v2-stage-list-restaurants",
    "rest-api-v1-get-restaurants",
    "rest-api-v1-post-restaurant-base64",
    "rest-api-v1-delete-restaurants",
    "rest-api-v1-get-unknown",
    "s3-put-object",
)


def sample_event(name: str) -> dict[str, Any]:
    """One of :data:`SAMPLE_EVENTS`, read from the package (so it works from any working directory)."""
    if name not in SAMPLE_EVENTS:
        raise ValueError(f"no sample event {name!r}; there are: {', '.join(SAMPLE_EVENTS)}")
    text = resources.files("labsupport.artifacts").joinpath("events", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]
