"""Parameter checking shared by every model: bad input gets a clear message, never a traceback deep inside."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, TypeVar

__all__ = ["ParameterError", "check_number", "check_int", "params_dict", "with_overrides"]

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
    if not overrides:  # the defaults as they are (a frozen dataclass: a copy would be equal)
        return base.validated()  # type: ignore[attr-defined, no-any-return]
    fields = _field_names(type(base))
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; valid ones are: {', '.join(fields)}")
    values = {**{name: getattr(base, name) for name in fields},
              **{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}}
    return type(base)(**values).validated()  # type: ignore[attr-defined, no-any-return]


_FIELDS: dict[type, tuple[str, ...]] = {}
_ATOMS = frozenset({int, float, str, bool, type(None)})


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def params_dict(p: Any) -> dict[str, Any]:
    """``dataclasses.asdict(p)`` for a parameter class, without its deep copy where none is needed.

    Every model puts its parameters in its trace, once per run; ``asdict`` deep-copies each field, which costs
    more than some models' whole run. A field that is a number, a string, ``None`` or a tuple of those is
    immutable, so the copy is the same value: then the fields are read as they are. Anything else (a nested
    dataclass, a list) goes through ``asdict``, so the result is always what ``asdict`` gives.
    """
    out = {name: getattr(p, name) for name in _field_names(type(p))}
    for value in out.values():
        kind = type(value)
        if kind not in _ATOMS and not (kind is tuple and all(type(v) in _ATOMS for v in value)):
            return dataclasses.asdict(p)
    return out
