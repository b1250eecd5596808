"""Curtois & Qu (2014) employee shift scheduling instances: the ``.txt`` format and the official
objective, independent of the solver (no OR-Tools, no solver import).

A solution is a grid: per employee, per day, a shift type id or None (day off). ``evaluate``
lists every hard-constraint violation and returns the objective (request penalties plus cover
penalties), following the benchmark's description (schedulingbenchmarks.org):

* at most one shift per day (implicit in the grid); forbidden successions (type B on the day
  after type A); per-type maxima; total minutes within [min, max]; maximum consecutive shifts
  (days before and after the horizon are off); minimum consecutive shifts and minimum
  consecutive days off, each assuming an infinite run of the same kind before and after the
  horizon (so a run touching either end is never too short); at most MaxWeekends weekends worked
  (a weekend is worked when Saturday or Sunday is, day 0 being a Monday); days off.
* soft: an on request not met costs its weight; an off request met costs its weight; per day
  and shift type, each employee short costs the under weight, each one extra the over weight.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BestKnown",
    "CQInstance",
    "Score",
    "Staff",
    "best_known",
    "evaluate",
    "parse",
]


@dataclass(frozen=True)
class Staff:
    id: str
    max_shifts: dict[str, int]
    max_minutes: int
    min_minutes: int
    max_consecutive: int
    min_consecutive: int
    min_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    day: int
    shift: str
    requirement: int
    weight_under: int
    weight_over: int


@dataclass
class CQInstance:
    name: str
    days: int
    lengths: dict[str, int]
    """Shift type -> length in minutes (file order)."""
    forbidden: dict[str, tuple[str, ...]]
    """Shift type -> types that may not be assigned on the next day."""
    staff: list[Staff]
    days_off: dict[str, tuple[int, ...]]
    on_requests: list[Request] = field(default_factory=list)
    off_requests: list[Request] = field(default_factory=list)
    cover: list[Cover] = field(default_factory=list)


def _sections(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current: str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("SECTION_"):
            current = line
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def parse(path: Path) -> CQInstance:
    """Read an ``InstanceN.txt`` file."""
    sec = _sections(path)
    days = int(sec["SECTION_HORIZON"][0])
    lengths: dict[str, int] = {}
    forbidden: dict[str, tuple[str, ...]] = {}
    for line in sec["SECTION_SHIFTS"]:
        sid, length, *rest = (x.strip() for x in line.split(","))
        lengths[sid] = int(length)
        follow = rest[0] if rest else ""
        forbidden[sid] = tuple(x for x in follow.split("|") if x)
    staff = []
    for line in sec["SECTION_STAFF"]:
        sid, maxs, mx, mn, mxc, mnc, mnoff, mxw = (x.strip() for x in line.split(","))
        limits = {}
        for part in maxs.split("|"):
            if part:
                t, n = part.split("=")
                limits[t] = int(n)
        staff.append(Staff(sid, limits, int(mx), int(mn), int(mxc), int(mnc), int(mnoff), int(mxw)))
    days_off = {}
    for line in sec.get("SECTION_DAYS_OFF", []):
        sid, *ds = (x.strip() for x in line.split(","))
        days_off[sid] = tuple(int(d) for d in ds if d)

    def requests(key: str) -> list[Request]:
        out = []
        for line in sec.get(key, []):
            emp, day, shift, weight = (x.strip() for x in line.split(","))
            out.append(Request(emp, int(day), shift, int(weight)))
        return out

    cover = []
    for line in sec.get("SECTION_COVER", []):
        day, shift, req, wu, wo = (x.strip() for x in line.split(","))
        cover.append(Cover(int(day), shift, int(req), int(wu), int(wo)))
    return CQInstance(
        name=path.stem,
        days=days,
        lengths=lengths,
        forbidden=forbidden,
        staff=staff,
        days_off=days_off,
        on_requests=requests("SECTION_SHIFT_ON_REQUESTS"),
        off_requests=requests("SECTION_SHIFT_OFF_REQUESTS"),
        cover=cover,
    )


Grid = dict[str, list[str | None]]
"""Employee id -> per day the shift type worked, or None."""


@dataclass
class Score:
    objective: int
    violations: list[str]
    requests: int
    cover_under: int
    cover_over: int

    @property
    def feasible(self) -> bool:
        return not self.violations


def _runs(worked: list[bool], value: bool) -> list[tuple[int, int]]:
    out, start = [], None
    for i, w in enumerate([*worked, not value]):
        if w == value and start is None:
            start = i
        elif w != value and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def _check_staff(inst: CQInstance, st: Staff, row: list[str | None]) -> list[str]:
    bad: list[str] = []
    h = inst.days
    if len(row) != h:
        return [f"{st.id}: {len(row)} days in the roster, expected {h}"]
    for d, s in enumerate(row):
        if s is not None and s not in inst.lengths:
            bad.append(f"{st.id}: unknown shift {s} on day {d}")
    for d in range(h - 1):
        a, b = row[d], row[d + 1]
        if a is not None and b is not None and b in inst.forbidden.get(a, ()):
            bad.append(f"{st.id}: {b} on day {d + 1} after {a}")
    for t in inst.lengths:
        k = sum(1 for s in row if s == t)
        if k > st.max_shifts.get(t, h):
            bad.append(f"{st.id}: {k} x {t}, max {st.max_shifts.get(t)}")
    minutes = sum(inst.lengths[s] for s in row if s is not None)
    if not st.min_minutes <= minutes <= st.max_minutes:
        bad.append(f"{st.id}: {minutes} min, allowed {st.min_minutes}-{st.max_minutes}")
    worked = [s is not None for s in row]
    for first, last in _runs(worked, True):
        n = last - first + 1
        if n > st.max_consecutive:
            bad.append(f"{st.id}: {n} shifts in a row from day {first}, max {st.max_consecutive}")
        if n < st.min_consecutive and first > 0 and last < h - 1:
            bad.append(f"{st.id}: {n} shifts in a row from day {first}, min {st.min_consecutive}")
    for first, last in _runs(worked, False):
        n = last - first + 1
        if n < st.min_days_off and first > 0 and last < h - 1:
            bad.append(f"{st.id}: {n} days off in a row from day {first}, min {st.min_days_off}")
    weekends = sum(1 for w in range(h // 7) if worked[7 * w + 5] or worked[7 * w + 6])
    if weekends > st.max_weekends:
        bad.append(f"{st.id}: {weekends} weekends worked, max {st.max_weekends}")
    for d in inst.days_off.get(st.id, ()):
        if worked[d]:
            bad.append(f"{st.id}: works on day off {d}")
    return bad


def evaluate(inst: CQInstance, grid: Grid) -> Score:
    """Hard-constraint violations and the objective of a roster grid."""
    violations: list[str] = []
    for st in inst.staff:
        violations += _check_staff(inst, st, grid.get(st.id, [None] * inst.days))
    unknown = set(grid) - {st.id for st in inst.staff}
    violations += [f"unknown employee {e}" for e in sorted(unknown)]
    requests = 0
    for r in inst.on_requests:
        if grid.get(r.employee, [None] * inst.days)[r.day] != r.shift:
            requests += r.weight
    for r in inst.off_requests:
        if grid.get(r.employee, [None] * inst.days)[r.day] == r.shift:
            requests += r.weight
    under = over = 0
    for c in inst.cover:
        have = sum(1 for row in grid.values() if row[c.day] == c.shift)
        under += c.weight_under * max(0, c.requirement - have)
        over += c.weight_over * max(0, have - c.requirement)
    return Score(
        objective=requests + under + over,
        violations=violations,
        requests=requests,
        cover_under=under,
        cover_over=over,
    )


@dataclass(frozen=True)
class BestKnown:
    upper: int
    lower: int | None
    status: str


def best_known(path: Path) -> dict[str, BestKnown]:
    """``best_known.csv``: instance -> best known value, lower bound, status."""
    out = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lb = row["lower_bound"].strip()
            out[row["instance"]] = BestKnown(
                int(row["best_known_ub"]), int(lb) if lb else None, row["status"]
            )
    return out
