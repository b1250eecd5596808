"""Solver errors."""

from __future__ import annotations


class SolverError(RuntimeError):
    """An internal inconsistency (a bug), never a property of the input."""


class ProblemError(ValueError):
    """The problem cannot be solved as given (reported to the user as invalid input)."""
