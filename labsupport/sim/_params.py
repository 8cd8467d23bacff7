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
    number = float(value)
    if not math.isfinite(number):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (number <= low if low_open else number < low):
        bound = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise ParameterError(f"{name} must be {bound}, got {number:g}")
    if high is not None and number > high:
        raise ParameterError(f"{name} must be at most {high:g}, got {number:g}")
    return number


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        whole = value
    elif isinstance(value, float) and value.is_integer():
        whole = int(value)
    else:
        raise ParameterError(f"{name} must be a whole number, got {type(value).__name__} {value!r}")
    if low is not None and whole < low:
        raise ParameterError(f"{name} must be at least {low}, got {whole}")
    if high is not None and whole > high:
        raise ParameterError(f"{name} must be at most {high}, got {whole}")
    return whole


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
