"""Time as the solver counts it: wall-clock seconds, or CP-SAT's deterministic work.

Every decision that depends on "how much time is left" (the pipeline's stage budgets, the
refinement loop, the per-group shares) reads ``now()``. Outside a deterministic solve that is the
wall clock. Inside one (``metered``), it is the deterministic time CP-SAT reports for the calls
made so far, converted to seconds at a fixed rate: CP-SAT runs with ``interleave_search`` and a
``max_deterministic_time`` limit, and the Python stages in between are deterministic, so the same
input and seed give the same roster on any machine. The wall clock still caps the whole solve
(``wall_left``): a run that hits that cap before its work budget is no longer guaranteed to
repeat, and the result says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["WORK_PER_SECOND", "Meter", "charge", "current", "metered", "now"]

WORK_PER_SECOND = 0.85
"""CP-SAT deterministic time units per second of budget. Measured on the 2-core machines this
runs on (2 interleaved workers): a 60 s solve of the 200-agent independent week used 54 units
of work in 60 s of wall time, Python stages included; 0.85 ends such a solve within its limit
(``docs/solver.md``)."""


@dataclass
class Meter:
    """Deterministic work used so far in one solve, and the wall-clock cap over it."""

    wall_limit: float
    work: float = 0.0
    t0: float = field(default_factory=time.perf_counter)
    wall_capped: bool = False

    @property
    def wall_left(self) -> float:
        return self.wall_limit - (time.perf_counter() - self.t0)


_meter: ContextVar[Meter | None] = ContextVar("wfm_solver_meter", default=None)


@contextmanager
def metered(wall_limit: float) -> Iterator[Meter]:
    """Count time in deterministic work for the calls made inside the block."""
    meter = Meter(wall_limit=wall_limit)
    token = _meter.set(meter)
    try:
        yield meter
    finally:
        _meter.reset(token)


def current() -> Meter | None:
    return _meter.get()


def now() -> float:
    """Seconds on the solver's clock: deterministic work inside ``metered``, else wall time."""
    meter = _meter.get()
    if meter is None:
        return time.perf_counter()
    if meter.wall_left <= 0:
        # out of wall-clock time: every budget reads as spent from here on
        meter.wall_capped = True
        return meter.work + 1e9
    return meter.work


def charge(deterministic_time: float) -> None:
    """Add one CP-SAT call's deterministic time to the meter (if any)."""
    meter = _meter.get()
    if meter is not None:
        meter.work += deterministic_time / WORK_PER_SECOND
