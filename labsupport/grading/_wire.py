"""The wire between the grader and a sandboxed submission: framing, and answers as plain JSON.

Grader -> sandbox messages are pickles (the grader is trusted). Sandbox -> grader messages are JSON only, so
nothing a submission sends can run code in the grader. Values that JSON cannot carry travel as small tagged
objects; anything else (a function, an object with methods) stays in the sandbox and travels as a *handle*
that the grader calls through a proxy. Standard library only: the sandbox imports this before anything else.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import math
import os
import struct
from typing import Any

__all__ = ["HANDLES", "MAX_FRAME", "WireError", "encode", "pack", "resolve_handle", "signature_info"]

MAX_FRAME = 32 * 1024 * 1024
_HEADER = struct.Struct("!I")
HANDLES: dict[int, Any] = {}  # in the sandbox: objects the grader holds handles to


class WireError(Exception):
    """A message could not be framed, sent or decoded."""


def pack(payload: bytes) -> bytes:
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload)} bytes is larger than {MAX_FRAME}")
    return _HEADER.pack(len(payload)) + payload


def write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(pack(payload))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int) -> bytes | None:
    """Blocking read of one frame; None at end of file."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes is too large")
    body = _read_exactly(fd, size)
    if body is None:
        raise WireError("truncated frame")
    return body


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def resolve_handle(handle: int) -> Any:
    """Unpickled in the sandbox: the object behind a handle the grader passes back as an argument."""
    return HANDLES[handle]


def signature_info(value: Any) -> list[list[Any]] | None:
    try:
        sig = inspect.signature(value)
    except (TypeError, ValueError):
        return None
    return [[p.name, int(p.kind), p.default is not inspect.Parameter.empty] for p in sig.parameters.values()]


def _type_path(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


#: What a part of :func:`encode` (or of the grader's decoding) returns for a value that is not its kind.
NOT_MINE: Any = object()


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON-safe form of ``value`` (in the sandbox). Functions and other objects become handles."""
    if depth > 60:
        raise WireError("the answer is nested too deeply")
    for part in (_encode_scalar, _encode_numpy, _encode_container, _encode_course_value):
        encoded = part(value, depth)
        if encoded is not NOT_MINE:
            return encoded
    if isinstance(value, int):  # an int subclass (not bool): plain int
        return int(value)
    if isinstance(value, float):
        return encode(float(value), depth + 1)
    if isinstance(value, str):
        return str(value)
    handle = len(HANDLES) + 1
    HANDLES[handle] = value
    return {"__handle__": handle, "callable": callable(value), "type": type(value).__name__[:60],
            "signature": signature_info(value) if callable(value) else None}


def _encode_scalar(value: Any, depth: int) -> Any:
    if value is None or type(value) in (bool, str, int):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if value is Ellipsis:
        return {"__ellipsis__": 1}
    return NOT_MINE


def _encode_numpy(value: Any, depth: int) -> Any:
    module = type(value).__module__ or ""
    if module == "numpy" or module.startswith("numpy."):
        if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
            return encode(value.item(), depth + 1)
        if hasattr(value, "tolist") and hasattr(value, "dtype"):
            return {"__ndarray__": encode(value.tolist(), depth + 1), "dtype": str(value.dtype)}
    return NOT_MINE


def _encode_container(value: Any, depth: int) -> Any:
    if type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if type(value) is tuple:
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if type(value) in (set, frozenset):
        return {"__set__": [encode(v, depth + 1) for v in value]}
    if type(value) is dict:
        if all(type(k) is str and not k.startswith("__") for k in value):
            return {k: encode(v, depth + 1) for k, v in value.items()}
        return {"__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    return NOT_MINE


def _encode_course_value(value: Any, depth: int) -> Any:
    if (type(value).__module__ or "").startswith("labsupport."):
        if isinstance(value, enum.Enum):
            return {"__enum__": _type_path(value), "name": value.name}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {"__dataclass__": _type_path(value),
                    "fields": {f.name: encode(getattr(value, f.name), depth + 1)
                               for f in dataclasses.fields(value) if f.init}}
    return NOT_MINE


def dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=False).encode()
