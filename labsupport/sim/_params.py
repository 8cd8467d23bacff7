"""Parameter checking shared by every model: bad input gets a clear message, never a traceback deep inside."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

__all__ = ["ParameterError", "check_number", "check_int", "with_overrides"]

P = TypeVar("P")


class ParameterError(ValueError):
    """A model parameter is outside what the model accepts; the message says what would be valid."""


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise ParameterError(f"{name} must be {bound}, got {value:g}")
    if high is not None and value > high:
        raise ParameterError(f"{name} must be at most {high:g}, got {value:g}")
    return value


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ParameterError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ParameterError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ParameterError(f"{name} must be at most {high}, got {value}")
    return value


def with_overrides(base: P, overrides: dict[str, Any]) -> P:
    """``base`` (a parameters dataclass with a ``validated()`` method) with ``overrides`` applied, validated.

    An unknown name gets a message listing the valid ones; lists become tuples, so parameters stay hashable.
    """
    fields = [f.name for f in dataclasses.fields(base)]  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; valid ones are: {', '.join(fields)}")
    values = {**{name: getattr(base, name) for name in fields},
              **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}}
    return type(base)(**values).validated()  # type: ignore[attr-defined, no-any-return]
