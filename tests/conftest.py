"""Shared fixtures (helpers such as ``lesson_answers`` are in ``tests/helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
