"""Rolling weeks: what a previous solve's outputs carry into the next horizon.

``wfm solve NEXT.yaml --previous DIR`` reads the output folder of the solve before it:
- from ``roster.csv``, each agent's last shift end (rest across the boundary: a shift ending
  after the new horizon starts, a night crossing midnight, is allowed) and the days worked in a
  row up to the day before the new horizon (the maximum run of working days);
- from ``ledger.csv``, the **fairness ledger**: per horizon and agent the weekend, night, late
  and holiday shifts worked and the leave requests refused. The totals of the horizons within
  a window of weeks (``WINDOW_WEEKS``, the new horizon's own included) become each agent's
  ``prior_fairness``: the fairness rules then spread the totals, not one week's counts, so an
  agent who had the weekends lately is spared them now. A folder written before the ledger
  existed has none; its roster's own counts are derived from ``roster.csv`` instead (holidays
  unknown there).

Every solve writes ``ledger.csv``: the rows it was given (the whole history, not only the
window) and, with a valid roster, one row per agent for its own horizon.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from api.errors import InputError, Problem
from api.pipeline.prepare import Prepared
from api.scenario.csvio import CellError, cell, parse_datetime, read_rows
from api.scenario.yamlsrc import display_path
from solver.schema import RosterProblem, ShiftAssignment
from solver.shifts import FAIRNESS_CATEGORIES, fairness_flags

__all__ = [
    "LEDGER_HEADER",
    "WINDOW_WEEKS",
    "LedgerRow",
    "RosterLine",
    "ledger_rows",
    "read_roster",
    "with_previous",
]

WINDOW_WEEKS = 4
"""Weeks the fairness rules balance over: the new horizon and the three before it."""

LEDGER_HEADER = (
    "horizon_start",
    "horizon_days",
    "agent_id",
    *FAIRNESS_CATEGORIES,
    "refused_requests",
)


@dataclass(frozen=True)
class LedgerRow:
    """One agent's fairness counts over one horizon."""

    horizon_start: date
    horizon_days: int
    agent_id: str
    counts: tuple[int, ...]
    """Shifts per category of ``FAIRNESS_CATEGORIES``."""
    refused_requests: int = 0

    def row(self) -> list[str]:
        return [
            self.horizon_start.isoformat(),
            str(self.horizon_days),
            self.agent_id,
            *(str(n) for n in self.counts),
            str(self.refused_requests),
        ]

    @property
    def end(self) -> date:
        return self.horizon_start + timedelta(days=self.horizon_days)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CellError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise CellError(f"expected a whole number >= 0, got {text!r}")
    return value


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"expected a date like 2026-12-07, got {text!r}") from None


def _read_ledger(path: Path) -> list[LedgerRow]:
    rows = read_rows(path, LEDGER_HEADER)
    where = display_path(path)
    problems: list[Problem] = []
    out: list[LedgerRow] = []
    for r in rows:
        start = cell(r, "horizon_start", _date, where, problems)
        days = cell(r, "horizon_days", _count, where, problems)
        counts = [cell(r, c, _count, where, problems) for c in FAIRNESS_CATEGORIES]
        refused = cell(r, "refused_requests", _count, where, problems)
        if not r.cells["agent_id"]:
            problems.append(Problem(f"{where}:{r.line}", "column agent_id: empty"))
            continue
        if start is None or days is None or refused is None or None in counts:
            continue
        out.append(
            LedgerRow(start, days, r.cells["agent_id"], tuple(c or 0 for c in counts), refused)
        )
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True)
class RosterLine:
    """One row of a solve's roster.csv."""

    agent_id: str
    day: date
    start: datetime
    end: datetime
    line: int
    shift_type: str = ""


def read_roster(path: Path, need_type: bool = False) -> list[RosterLine]:
    """A solve's roster.csv (``need_type``: its shift_type column required); InputError naming
    the file, line and column of every row that does not parse or ends before it starts."""
    kind = ("shift_type",)
    rows = read_rows(
        path,
        ("agent_id", "date", "start", "end", *(kind if need_type else ())),
        ("name", "paid_minutes", *(() if need_type else kind)),
    )
    where = display_path(path)
    problems: list[Problem] = []
    out: list[RosterLine] = []
    for r in rows:
        day = cell(r, "date", _date, where, problems)
        start = cell(r, "start", parse_datetime, where, problems)
        end = cell(r, "end", parse_datetime, where, problems)
        if day is None or start is None or end is None:
            continue
        if end <= start:
            problems.append(Problem(f"{where}:{r.line}", f"column end: {end} is not after {start}"))
            continue
        out.append(
            RosterLine(r.cells["agent_id"], day, start, end, r.line, r.cells.get("shift_type", ""))
        )
    if problems:
        raise InputError(problems)
    return out


def _derived(
    shifts: list[RosterLine], problem: RosterProblem, first: date, days: int
) -> list[LedgerRow]:
    """A previous horizon's ledger rows from its roster alone (no ledger.csv): weekend, night
    and late shifts by this scenario's rules; holidays and refused requests unknown (0)."""
    origin = datetime.combine(first, datetime.min.time())
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(FAIRNESS_CATEGORIES))
    for sh in shifts:
        d = (sh.day - first).days
        start = round((sh.start - origin).total_seconds() / 60)
        length = round((sh.end - sh.start).total_seconds() / 60)
        flags = fairness_flags(start, length, d, sh.day.weekday(), problem.rules, False)
        for i, flag in enumerate(flags):
            counts[sh.agent_id][i] += int(flag)
    return [LedgerRow(first, days, a, tuple(n)) for a, n in sorted(counts.items())]


def with_previous(prepared: Prepared, folder: Path, window_weeks: int = WINDOW_WEEKS) -> Prepared:
    """The prepared scenario with what the previous solve in ``folder`` carries in: each
    agent's last shift end and days worked in a row, and the fairness ledger's totals over the
    window. InputError (nothing solved, nothing written) when the folder or its files are not
    a previous solve's outputs, or its roster reaches into the new horizon."""
    where = display_path(folder)
    if not folder.exists():
        raise InputError.one(f"--previous {where}", "folder not found")
    if not folder.is_dir():
        raise InputError.one(f"--previous {where}", "expected the output folder of a solve")
    roster_path = folder / "roster.csv"
    if not roster_path.exists():
        raise InputError.one(
            f"--previous {where}", "no roster.csv here; expected the output folder of `wfm solve`"
        )
    shifts = read_roster(roster_path)
    p = prepared.problem
    first = p.horizon_start
    for sh in shifts:
        if sh.day >= first:
            raise InputError.one(
                f"{display_path(roster_path)}:{sh.line}",
                f"a shift on {sh.day} falls in the new horizon (from {first}); --previous "
                "takes the solve of the horizon before this one",
            )
    ledger_path = folder / "ledger.csv"
    if ledger_path.exists():
        ledger = _read_ledger(ledger_path)
    elif shifts:
        prev_first = min(sh.day for sh in shifts)
        ledger = _derived(shifts, p, prev_first, (first - prev_first).days)
    else:
        ledger = []
    by_agent: dict[str, list[RosterLine]] = defaultdict(list)
    for sh in shifts:
        by_agent[sh.agent_id].append(sh)
    since = first - timedelta(days=7 * (window_weeks - 1))
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * len(FAIRNESS_CATEGORIES))
    for row in ledger:
        if row.end > since and row.horizon_start < first:
            for i, n in enumerate(row.counts):
                totals[row.agent_id][i] += n
    agents = []
    carried = 0
    for agent in p.agents:
        mine = by_agent.get(agent.id, [])
        update: dict[str, object] = {}
        if mine:
            last = max(sh.end for sh in mine)
            update["prior_shift_end"] = prepared.scenario.minute_of(last)
            worked = {sh.day for sh in mine}
            run, d = 0, first - timedelta(days=1)
            while d in worked:
                run += 1
                d -= timedelta(days=1)
            update["prior_consecutive_days"] = run
            carried += 1
        if agent.id in totals:
            update["prior_fairness"] = {
                c: n for c, n in zip(FAIRNESS_CATEGORIES, totals[agent.id], strict=True) if n
            }
        agents.append(agent.model_copy(update=update) if update else agent)
    problem = RosterProblem.model_validate(
        p.model_copy(update={"agents": tuple(agents)}).model_dump()
    )
    note = (
        f"previous solve {where}: rest and days in a row carried for {carried} agent(s); "
        f"fairness balanced over {window_weeks} weeks with {len(ledger)} ledger row(s)"
    )
    return dataclasses.replace(
        prepared, problem=problem, ledger=tuple(ledger), notes=(*prepared.notes, note)
    )


def ledger_rows(
    problem: RosterProblem,
    previous: Iterable[LedgerRow],
    assignments: Iterable[ShiftAssignment] | None,
    refused: dict[str, int],
) -> list[list[str]]:
    """ledger.csv: the rows carried in and, with a roster (``assignments`` not None), one row
    per agent for this horizon."""
    out = [r.row() for r in previous]
    if assignments is None:
        return out
    holidays = set(problem.holidays)
    counts: dict[str, list[int]] = {a.id: [0] * len(FAIRNESS_CATEGORIES) for a in problem.agents}
    for sh in assignments:
        flags = fairness_flags(
            sh.start, sh.length, sh.day, problem.weekday(sh.day), problem.rules, sh.day in holidays
        )
        for i, flag in enumerate(flags):
            counts[sh.agent_id][i] += int(flag)
    for a in problem.agents:
        out.append(
            LedgerRow(
                problem.horizon_start, problem.days, a.id, tuple(counts[a.id]), refused.get(a.id, 0)
            ).row()
        )
    return out
