"""Integer units shared by the model and the validator (so both compute the same objective).

CP-SAT needs integers: weights are scaled to hundredths, deferred work to tenths of an
agent-slot. The validator uses these same functions, so its recomputed objective equals the
solver's for the same roster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.enums import ChannelKind

if TYPE_CHECKING:  # the schema is typed here only: units sit below it
    from solver.schema import RosterProblem

__all__ = [
    "OBJECTIVE_SCALE",
    "WORK_UNITS",
    "Batch",
    "batches",
    "deferred_done",
    "edf_done_before",
    "edf_overdue",
    "scaled_weight",
    "work_units",
]

OBJECTIVE_SCALE = 100
WORK_UNITS = 10  # units per agent-slot of deferred work


def scaled_weight(weight: float) -> int:
    """A weight as an integer number of hundredths."""
    return round(weight * OBJECTIVE_SCALE)


def work_units(arrived: Sequence[float], due: Sequence[float]) -> tuple[list[int], list[int]]:
    """Cumulative arrived (rounded down) and due (rounded up, never above arrived) in units."""
    a = [math.floor(v * WORK_UNITS + 1e-9) for v in arrived]
    d = [min(math.ceil(v * WORK_UNITS - 1e-9), a_) for v, a_ in zip(due, a, strict=True)]
    return a, d


def edf_done_before(
    classes: Sequence[tuple[Sequence[int], Sequence[int]]],
    capacity_units: Sequence[int],
    before: int,
) -> list[int]:
    """Units of each class done before slot ``before`` when worked earliest deadline first."""
    capacity = list(capacity_units[:before]) + [0] * max(0, len(capacity_units) - before)
    done: list[int] = edf_overdue(classes, capacity, done_out=True)[2]
    return done


def edf_overdue(
    classes: Sequence[tuple[Sequence[int], Sequence[int]]],
    capacity_units: Sequence[int],
    done_out: bool = False,
) -> Any:
    """Work the classes earliest deadline first with this capacity (units per slot).

    ``classes`` holds per class the cumulative (arrived, due) units. Within a class work is done in
    arrival order (its deadlines follow arrival order); across classes the unit due first goes
    first. Returns per slot the overdue units summed over classes and the units of capacity left
    unused. By an exchange argument this schedule minimises total overdue work for convex lateness.
    """
    n = len(capacity_units)
    done = [0] * len(classes)
    overdue = [0] * n
    idle = [0] * n

    def head_due(k: int) -> int:
        """Slot by whose end the next unit of class k is due (n if after the horizon)."""
        due = classes[k][1]
        target = done[k] + 1
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if due[mid] >= target:
                hi = mid
            else:
                lo = mid + 1
        return lo

    for t in range(n):
        cap = capacity_units[t]
        while cap > 0:
            ready = [k for k in range(len(classes)) if done[k] < classes[k][0][t]]
            if not ready:
                break
            k = min(ready, key=head_due)
            due_slot = head_due(k)
            # serve class k up to the end of its run of units with this same deadline
            same = classes[k][1][due_slot] if due_slot < n else classes[k][0][t]
            take = min(cap, classes[k][0][t] - done[k], max(1, same - done[k]))
            done[k] += take
            cap -= take
        idle[t] = cap
        overdue[t] = sum(max(0, classes[k][1][t] - done[k]) for k in range(len(classes)))
    if done_out:
        return overdue, idle, done
    return overdue, idle


@dataclass(frozen=True)
class Batch:
    """Units of deferred work released in slot ``release`` and due by the end of slot ``due``
    (``due`` is None when it falls after the horizon)."""

    units: int
    release: int
    due: int | None


def _first_reaching(curve: Sequence[int], unit: int) -> int | None:
    """First slot t with curve[t] >= unit (binary search; curve is non-decreasing)."""
    lo, hi = 0, len(curve)
    while lo < hi:
        mid = (lo + hi) // 2
        if curve[mid] >= unit:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo < len(curve) else None


def batches(arrived: Sequence[int], due: Sequence[int]) -> list[Batch]:
    """Split a class's cumulative (arrived, due) units into batches with one release and one due
    slot each: units are matched in order (the class's deadlines follow arrival order)."""
    total = arrived[-1] if arrived else 0
    cuts = sorted(
        {0, total, *(a for a in arrived if 0 < a < total), *(d for d in due if 0 < d < total)}
    )
    out: list[Batch] = []
    for lo, hi in itertools.pairwise(cuts):
        release = _first_reaching(arrived, lo + 1)
        d = _first_reaching(due, lo + 1)
        assert release is not None
        out.append(Batch(units=hi - lo, release=release, due=d))
    return out


def deferred_done(
    problem: RosterProblem, channels: dict[tuple[int, int, int], int], before: int
) -> dict[tuple[int, int], int]:
    """Units of each deferred channel's work class done before slot ``before`` with these
    agents per (class, channel, slot), worked earliest deadline first: (channel, class) ->
    units."""
    out: dict[tuple[int, int], int] = {}
    for c, ch in enumerate(problem.channels):
        if ch.kind is not ChannelKind.deferred or ch.deferred is None:
            continue
        cap = [0] * problem.n_slots
        for (_k, cc, t), n in channels.items():
            if cc == c and 0 <= t < problem.n_slots:
                cap[t] += WORK_UNITS * n
        classes = [
            work_units(a, d) for a, d in zip(ch.deferred.arrived, ch.deferred.due, strict=True)
        ]
        for k, units in enumerate(edf_done_before(classes, cap, before)):
            out[(c, k)] = units
    return out
