"""Keep a learner's first figure fast.

Showing a plotly figure or creating a ``FigureWidget`` imports nbformat, which imports jsonschema, which
imports ``rfc3987_syntax``; that package compiles a grammar at import time (about 3 s measured here) although
the kernel never validates an IRI. :func:`defer_slow_imports` puts a small stand-in module in its place: the
real package is imported the first time anything actually uses it, so behaviour is unchanged and nothing is
paid until then.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["defer_slow_imports"]

_DEFERRED = "rfc3987_syntax"


def _load_real() -> types.ModuleType:
    stand_in = sys.modules.get(_DEFERRED)
    if isinstance(stand_in, _DeferredModule):
        del sys.modules[_DEFERRED]
    try:
        return importlib.import_module(_DEFERRED)
    except BaseException:
        if stand_in is not None and _DEFERRED not in sys.modules:
            sys.modules[_DEFERRED] = stand_in
        raise


class _DeferredModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_load_real(), name)


def _is_valid_syntax(*args: Any, **kwargs: Any) -> Any:
    return _load_real().is_valid_syntax(*args, **kwargs)


def defer_slow_imports() -> None:
    """Install the stand-in unless the real module is already imported or not installed at all."""
    if _DEFERRED in sys.modules or importlib.util.find_spec(_DEFERRED) is None:
        return
    stand_in = _DeferredModule(_DEFERRED, "stand-in: the real module loads on first use (labsupport.views)")
    stand_in.is_valid_syntax = _is_valid_syntax  # type: ignore[attr-defined]  # what jsonschema imports by name
    sys.modules[_DEFERRED] = stand_in
