"""History files (``interval_start,offered,handle_time_seconds[,queue][,handled]``) with located
errors: every problem names the file, the line and the column."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from api.errors import InputError, Problem
from api.scenario.csvio import CellError, cell, parse_float, read_rows
from forecast.calendar import SpecialDate
from forecast.history import (
    HistoryError,
    HistoryRecords,
    QueueHistory,
    build_histories,
    resolve_timezone,
)

HISTORY_COLUMNS = ("interval_start", "offered", "handle_time_seconds")
HISTORY_OPTIONAL = ("queue", "handled")


def parse_timestamp(text: str) -> datetime:
    """A local ISO date-time, or one with a UTC offset (converted later with a time zone)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise CellError(
            "expected a date-time like 2026-12-07T08:15 or 2026-12-07 08:15 "
            f"(optionally with a UTC offset like +01:00), got {text!r}"
        ) from None


def _optional(parse: Callable[[str], float]) -> Callable[[str], float | None]:
    def parse_or_none(text: str) -> float | None:
        return None if text == "" else parse(text)

    return parse_or_none


def _count(text: str) -> float:
    value = parse_float(text)
    if value < 0:
        raise CellError(f"negative count {text!r}; expected a number of contacts >= 0")
    return value


def read_history_csv(path: Path) -> tuple[HistoryRecords, list[int]]:
    """Parse a history file: the records and the file line of each record.

    Raises ``InputError`` with one located problem per bad cell (every cell is checked).
    """
    rows = read_rows(path, HISTORY_COLUMNS, optional=HISTORY_OPTIONAL)
    where = str(path)
    if not rows:
        raise InputError.one(
            where, "no data rows; expected interval_start,offered,handle_time_seconds"
        )
    problems: list[Problem] = []
    starts: list[datetime] = []
    offered: list[float | None] = []
    aht: list[float | None] = []
    handled: list[float | None] = []
    queues: list[str] = []
    lines: list[int] = []
    has_handled = "handled" in rows[0].cells
    has_queue = "queue" in rows[0].cells
    for row in rows:
        before = len(problems)
        start = cell(row, "interval_start", parse_timestamp, where, problems)
        count = cell(row, "offered", _optional(_count), where, problems)
        seconds = cell(
            row,
            "handle_time_seconds",
            _optional(lambda s: parse_float(s, low=0.0)),
            where,
            problems,
        )
        done = cell(row, "handled", _optional(_count), where, problems) if has_handled else None
        if len(problems) > before or start is None:
            continue
        starts.append(start)
        offered.append(count)
        aht.append(seconds)
        handled.append(done)
        queues.append(row.cells.get("queue", ""))
        lines.append(row.line)
        if len(problems) >= 50:
            break
    if problems:
        raise InputError(problems)
    records = HistoryRecords(
        interval_start=starts,
        offered=offered,
        handle_time_seconds=aht,
        handled=handled if has_handled else None,
        queue=queues if has_queue else None,
    )
    return records, lines


def _located(path: Path, lines: list[int], error: HistoryError) -> InputError:
    where = str(path)
    problems = []
    for issue in error.issues:
        loc = where if issue.row is None else f"{where}:{lines[issue.row]}"
        msg = issue.message if issue.column is None else f"column {issue.column}: {issue.message}"
        problems.append(Problem(loc, msg))
    return InputError(problems)


def load_history_csv(path: Path, timezone: str | None = None) -> dict[str, QueueHistory]:
    """Read and check a history file: one ``QueueHistory`` per queue (file order).

    ``timezone`` (IANA name) converts timestamps that carry a UTC offset to local time and
    accepts the repeated hour of a daylight-saving change. Raises ``InputError`` naming the
    file and line of every problem: bad cells, negative counts, rows out of time order,
    duplicated intervals, mixed interval lengths, offsets without a time zone.
    """
    try:
        resolve_timezone(timezone)
    except ValueError as exc:
        raise InputError.one("timezone", str(exc)) from None
    records, lines = read_history_csv(path)
    try:
        return build_histories(records, timezone)
    except HistoryError as exc:
        raise _located(path, lines, exc) from None


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"expected a date like 2026-12-24, got {text!r}") from None


def load_special_days_csv(path: Path) -> list[SpecialDate]:
    """Read a special-days file ``date[,name][,factor]`` (factor: volume relative to a normal
    day, empty to learn it from the history); located errors."""
    rows = read_rows(path, ("date",), optional=("name", "factor"))
    where = str(path)
    problems: list[Problem] = []
    out: list[SpecialDate] = []
    seen: dict[date, int] = {}
    for row in rows:
        before = len(problems)
        day = cell(row, "date", _date, where, problems)
        factor = (
            cell(
                row,
                "factor",
                _optional(lambda s: parse_float(s, low=0.0, low_inclusive=False)),
                where,
                problems,
            )
            if "factor" in row.cells
            else None
        )
        if len(problems) > before or day is None:
            continue
        if day in seen:
            problems.append(
                Problem(f"{where}:{row.line}", f"date {day} already given on line {seen[day]}")
            )
            continue
        seen[day] = row.line
        name = row.cells.get("name", "") or "special day"
        out.append(SpecialDate(date=day, name=name, factor=factor))
    if problems:
        raise InputError(problems)
    return out
