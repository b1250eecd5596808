"""Shared test fixtures and paths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
"""This folder: the shared helpers (roster_factory, scenario_helpers, ...) and test data; the
tests themselves sit in sub-folders that mirror the packages (forecast/, solver/, api/cli/, ...)
and import the helpers by bare name, so the folder is put on the path."""
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(TESTS))


def shared_file(*parts: str) -> Path:
    """A file of the shared data folder; skip (visibly) when this checkout lacks it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path
