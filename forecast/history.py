"""Contact history: the long-format input (``HistoryRecords``) and its per-queue interval grid.

A history has one row per queue and interval: ``interval_start, offered, handle_time_seconds``
(plus optional ``handled`` and ``queue``). ``build_histories`` checks the rows (order, duplicates,
one interval length per queue, alignment, time zones) and lays each queue out as a days x
intervals grid (``QueueHistory``), which is what the forecasters read.

Meaning of what is absent, in the grid:

* a **day without any row** is *missing* (filled for training, never scored), unless its weekday
  has rows on fewer than half of its dates: then the weekday is *closed* (forecast zero), e.g. the
  weekends of a Monday-Friday centre;
* an **interval without a row** inside a day that has rows means *no contacts* (closed hours, or
  an export that leaves out empty intervals), except before the first row and after the last row
  of the history, where it is unknown;
* a row with an **empty ``offered``** is a *gap* (data lost): unknown, filled for training, never
  scored.

Time zones: timestamps are local clock time. Timestamps with a UTC offset need a ``timezone`` and
are converted to its local time; with a ``timezone``, the repeated hour of a daylight-saving change
may appear twice (its contacts are added up), and local times that do not exist are an error.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

__all__ = [
    "DEFAULT_QUEUE",
    "INTERVAL_CHOICES",
    "HistoryError",
    "HistoryIssue",
    "HistoryRecords",
    "QueueHistory",
    "build_histories",
    "resolve_timezone",
    "weekday_of",
]

DEFAULT_QUEUE = "default"
INTERVAL_CHOICES = (5, 6, 10, 12, 15, 20, 30, 60)
"""Interval lengths a history may have: 5 to 60 minutes, dividing a day."""
MAX_ISSUES = 50
_EPOCH = datetime(1970, 1, 1)


class HistoryRecords(BaseModel):
    """Long-format contact history: one row per queue and interval (what a history file holds)."""

    model_config = ConfigDict(extra="forbid")

    interval_start: list[datetime] = Field(
        description="Start of each interval: local clock time, or with a UTC offset (then a "
        "timezone is needed to convert it to local time)"
    )
    offered: list[float | None] = Field(
        description="Contacts offered in the interval (>= 0); None: not recorded (a gap, filled "
        "for training and never scored)"
    )
    handle_time_seconds: list[float | None] = Field(
        description="Average handle time of the contacts handled in the interval, seconds; None "
        "(or 0) where unknown or where none were handled"
    )
    handled: list[float | None] | None = Field(
        None,
        description="Contacts handled in the interval (the weights of its handle time); "
        "default: the offered count",
    )
    queue: list[str] | None = Field(
        None, description=f"Queue of each row; default: one queue named {DEFAULT_QUEUE!r}"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        n = len(self.interval_start)
        lengths = {
            "offered": len(self.offered),
            "handle_time_seconds": len(self.handle_time_seconds),
        }
        if self.handled is not None:
            lengths["handled"] = len(self.handled)
        if self.queue is not None:
            lengths["queue"] = len(self.queue)
        bad = {k: v for k, v in lengths.items() if v != n}
        if bad:
            raise ValueError(
                f"every column must have one value per interval_start ({n}); got "
                + ", ".join(f"{k}: {v}" for k, v in bad.items())
            )
        issues = _value_issues(self)
        if issues:
            raise ValueError("; ".join(str(i) for i in issues[:10]))
        return self

    def __len__(self) -> int:
        return len(self.interval_start)


@dataclass(frozen=True)
class HistoryIssue:
    """One problem in a history: the 0-based row it is on (None: the whole queue) and what."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "" if self.row is None else f"row {self.row}"
        if self.column:
            where = f"{where} column {self.column}".strip()
        return f"{where}: {self.message}" if where else self.message


class HistoryError(ValueError):
    """A history that cannot be used; ``issues`` lists every problem found (rows are 0-based)."""

    def __init__(self, issues: list[HistoryIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(str(i) for i in self.issues[:10]))


def _count_issue(
    values: Sequence[float | None], column: str, what: str, strict: bool = False
) -> list[HistoryIssue]:
    issues = []
    for i, v in enumerate(values):
        if v is None:
            continue
        if not math.isfinite(v) or v < 0 or (strict and v == 0):
            op = ">" if strict else ">="
            issues.append(HistoryIssue(i, column, f"expected {what} {op} 0, got {v:g}"))
            if len(issues) >= MAX_ISSUES:
                break
    return issues


def _value_issues(records: HistoryRecords) -> list[HistoryIssue]:
    """Row-by-row value checks: negative or non-finite counts and handle times."""
    issues = _count_issue(records.offered, "offered", "a count")
    issues += _count_issue(records.handle_time_seconds, "handle_time_seconds", "seconds")
    if records.handled is not None:
        issues += _count_issue(records.handled, "handled", "a count")
    return issues


def resolve_timezone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (None: none); ValueError with a clear message if unknown."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; expected an IANA name like Europe/Berlin or UTC"
        ) from None


@dataclass(frozen=True)
class QueueHistory:
    """One queue's history laid out on a days x intervals grid (local time).

    ``offered[d, s]`` is the count of interval ``s`` of day ``d`` (day 0 is ``first_day``); NaN
    where unknown (missing day, gap, before the first or after the last row). ``observed`` marks
    the intervals given in the input with a count (the only ones a backtest scores).
    ``handle_total`` / ``handled`` are the handle seconds and their weights (0 where none).
    ``known`` is the number of grid intervals up to and including the last row: forecasts start
    right after it.
    """

    queue: str
    interval_minutes: int
    first_day: date
    offered: FloatArray
    observed: BoolArray
    handle_total: FloatArray
    handled: FloatArray
    has_rows: BoolArray
    known: int

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.interval_minutes

    @property
    def days(self) -> int:
        return int(self.offered.shape[0])

    @property
    def end(self) -> datetime:
        """Start of the first interval after the history (where forecasts begin)."""
        return self.start_of(self.known)

    def start_of(self, index: int) -> datetime:
        """Local start of grid interval ``index`` (0: midnight of ``first_day``)."""
        first = datetime.combine(self.first_day, datetime.min.time())
        return first + timedelta(minutes=index * self.interval_minutes)

    def dates(self, first: int = 0, count: int | None = None) -> NDArray[np.datetime64]:
        """Dates of grid days ``first .. first + count - 1`` (default: the history's days)."""
        n = self.days - first if count is None else count
        return np.datetime64(self.first_day, "D") + np.arange(first, first + n)

    @property
    def has_handle_times(self) -> bool:
        return bool((self.handled > 0).any())

    def until(self, day: int) -> QueueHistory:
        """The history before day ``day`` (a backtest origin at midnight)."""
        if not 0 < day <= self.days:
            raise ValueError(f"day: expected 1..{self.days}, got {day}")
        s = self.slots_per_day
        return QueueHistory(
            queue=self.queue,
            interval_minutes=self.interval_minutes,
            first_day=self.first_day,
            offered=self.offered[:day],
            observed=self.observed[:day],
            handle_total=self.handle_total[:day],
            handled=self.handled[:day],
            has_rows=self.has_rows[:day],
            known=min(self.known, day * s),
        )

    def closed_weekdays(self) -> BoolArray:
        """Weekdays (0 = Monday) with rows on fewer than half of their dates: closed days."""
        weekday = weekday_of(self.dates())
        present = np.bincount(weekday, weights=self.has_rows.astype(np.float64), minlength=7)
        total = np.bincount(weekday, minlength=7).astype(np.float64)
        return np.asarray((total == 0) | (present < 0.5 * total), dtype=np.bool_)

    def complete_days(self) -> BoolArray:
        """Days with rows whose every interval is known (no gap, not cut by the history's ends)."""
        return np.asarray(self.has_rows & np.isfinite(self.offered).all(axis=1), dtype=np.bool_)


def weekday_of(dates: NDArray[np.datetime64]) -> IntArray:
    """Weekday of numpy dates, 0 = Monday (1970-01-01 was a Thursday)."""
    return np.asarray((dates.astype(np.int64) + 3) % 7, dtype=np.int64)


@dataclass(frozen=True)
class _Rows:
    """The rows after time-zone handling: local minute stamps and instants for ordering."""

    local: IntArray
    instant: IntArray
    folded: BoolArray


def _minutes(dt: datetime) -> int:
    return int((dt - _EPOCH) // timedelta(minutes=1))


def _instants(
    stamps: Sequence[datetime], rows: Sequence[int], tz: ZoneInfo | None
) -> tuple[_Rows | None, list[HistoryIssue]]:
    """Local minutes and ordering instants for one queue's rows; issues for time-zone problems."""
    issues: list[HistoryIssue] = []
    aware = [stamps[i].tzinfo is not None for i in rows]
    if any(aware) and not all(aware):
        first = rows[aware.index(not aware[0])]
        issues.append(
            HistoryIssue(
                first,
                "interval_start",
                "mixes times with and without a UTC offset; use one style for the whole file",
            )
        )
        return None, issues
    local = np.empty(len(rows), dtype=np.int64)
    instant = np.empty(len(rows), dtype=np.int64)
    folded = np.zeros(len(rows), dtype=np.bool_)
    if aware and aware[0]:
        if tz is None:
            issues.append(
                HistoryIssue(
                    rows[0],
                    "interval_start",
                    f"{stamps[rows[0]].isoformat()} has a UTC offset: give the time zone of the "
                    "centre (--timezone, or the scenario's horizon.timezone) to convert it to "
                    "local time",
                )
            )
            return None, issues
        for k, i in enumerate(rows):
            utc = stamps[i].astimezone(UTC).replace(tzinfo=None)
            instant[k] = _minutes(utc)
            local[k] = _minutes(stamps[i].astimezone(tz).replace(tzinfo=None))
        return _Rows(local, instant, folded), issues
    for k, i in enumerate(rows):
        local[k] = _minutes(stamps[i])
    if tz is None:
        return _Rows(local, local.copy(), folded), issues
    previous: int | None = None
    for k, i in enumerate(rows):
        naive = stamps[i]
        early = naive.replace(tzinfo=tz, fold=0)
        late = naive.replace(tzinfo=tz, fold=1)
        back = early.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != naive:
            issues.append(
                HistoryIssue(
                    i,
                    "interval_start",
                    f"{naive.isoformat(sep=' ')} does not exist in {tz.key} (skipped by a "
                    "daylight-saving change)",
                )
            )
            continue
        chosen = early
        if early.utcoffset() != late.utcoffset():
            at_early = _minutes(early.astimezone(UTC).replace(tzinfo=None))
            if previous is not None and previous >= at_early:
                chosen = late  # the repeated hour, second time round
                folded[k] = True
        instant[k] = _minutes(chosen.astimezone(UTC).replace(tzinfo=None))
        previous = int(instant[k])
    if issues:
        return None, issues
    return _Rows(local, instant, folded), issues


def _interval_of(
    steps: IntArray, local: IntArray, rows: Sequence[int], label: str
) -> tuple[int | None, list[HistoryIssue]]:
    """The queue's interval length (the most common step) and issues for mixed lengths."""
    positive = steps[steps > 0]
    if positive.size == 0:
        return None, [
            HistoryIssue(
                None, None, f"one interval only{label}: need at least two rows to know the length"
            )
        ]
    counts = Counter(positive.tolist())
    step = int(max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0])
    if step not in INTERVAL_CHOICES:
        return None, [
            HistoryIssue(
                None,
                None,
                f"interval length of {step} min{label} is not supported; expected one of "
                f"{', '.join(map(str, INTERVAL_CHOICES))} minutes (a divisor of a day, 5-60)",
            )
        ]
    issues: list[HistoryIssue] = []
    for k in np.flatnonzero(steps % step != 0)[:MAX_ISSUES]:
        issues.append(
            HistoryIssue(
                rows[int(k) + 1],
                "interval_start",
                f"mixed interval lengths{label}: a step of {int(steps[k])} min from the row "
                f"before, but the history's interval is {step} min",
            )
        )
    misaligned = np.flatnonzero(local % step != 0)[:MAX_ISSUES]
    if not issues:
        for k in misaligned:
            issues.append(
                HistoryIssue(
                    rows[int(k)],
                    "interval_start",
                    f"not on the {step}-min grid of the history{label} (intervals start at "
                    f"multiples of {step} min after midnight)",
                )
            )
    return step, issues


def _order_issues(
    rows_info: _Rows, rows: Sequence[int], label: str, hint: bool
) -> list[HistoryIssue]:
    steps = np.diff(rows_info.instant)
    issues = []
    dst = " (if it is the repeated hour of a daylight-saving change, give the time zone)"
    for k in np.flatnonzero(steps <= 0)[:MAX_ISSUES]:
        i = rows[int(k) + 1]
        if steps[k] == 0:
            msg = f"duplicate interval_start{label}: the same interval as the row before"
        else:
            msg = f"earlier than the row before{label}: the rows of a queue must be in time order"
        near = -60 <= int(steps[k]) <= 0  # a daylight-saving change steps back up to 1 h
        issues.append(HistoryIssue(i, "interval_start", msg + (dst if hint and near else "")))
    return issues


def _queues(records: HistoryRecords) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    names = records.queue or [DEFAULT_QUEUE] * len(records)
    for i, name in enumerate(names):
        out.setdefault(name or DEFAULT_QUEUE, []).append(i)
    return out


def build_histories(
    records: HistoryRecords, timezone: str | None = None
) -> dict[str, QueueHistory]:
    """Check the rows and lay each queue out on its grid (queues in order of first appearance).

    Raises ``HistoryError`` listing every problem: rows out of time order, duplicated intervals,
    mixed interval lengths, intervals off the grid, unsupported lengths, UTC offsets without a
    time zone, local times that do not exist; ``ValueError`` for an unknown time zone.
    """
    tz = resolve_timezone(timezone)
    if len(records) == 0:
        raise HistoryError([HistoryIssue(None, None, "the history has no rows")])
    issues: list[HistoryIssue] = []
    out: dict[str, QueueHistory] = {}
    for name, rows in _queues(records).items():
        label = "" if name == DEFAULT_QUEUE else f" (queue {name})"
        info, problems = _instants(records.interval_start, rows, tz)
        issues += problems
        if info is None:
            continue
        order = _order_issues(info, rows, label, hint=tz is None)
        if order:
            issues += order
            continue
        step, problems = _interval_of(np.diff(info.instant), info.local, rows, label)
        issues += problems
        if step is None or problems:
            continue
        out[name] = _grid(records, rows, info.local, step, name)
        if not np.isfinite(out[name].offered).any():
            issues.append(HistoryIssue(None, "offered", f"no recorded counts{label}"))
    if issues:
        raise HistoryError(issues[:MAX_ISSUES])
    return out


def _grid(
    records: HistoryRecords, rows: Sequence[int], local: IntArray, step: int, name: str
) -> QueueHistory:
    """Lay one queue's (checked) rows out as days x intervals."""
    s_per_day = 1440 // step
    day = local // 1440
    first_day = int(day.min())
    days = int(day.max()) - first_day + 1
    d_idx = day - first_day
    s_idx = (local % 1440) // step
    idx = np.asarray(rows, dtype=np.int64)
    offered_in = np.array([np.nan if v is None else v for v in records.offered], dtype=np.float64)
    offered_in = offered_in[idx]
    aht_in = np.array(
        [np.nan if v is None else v for v in records.handle_time_seconds], dtype=np.float64
    )[idx]
    if records.handled is None:
        weight_in = np.where(np.isfinite(offered_in), offered_in, 0.0)
    else:
        weight_in = np.array([0.0 if v is None else v for v in records.handled], dtype=np.float64)[
            idx
        ]
    # A handle time of 0 (or none) means no contact was handled: it carries no weight.
    weight_in = np.where(np.isfinite(aht_in) & (aht_in > 0), weight_in, 0.0)
    aht_in = np.where(weight_in > 0, aht_in, 0.0)

    offered = np.zeros((days, s_per_day))
    gap = np.zeros((days, s_per_day), dtype=np.bool_)
    observed = np.zeros((days, s_per_day), dtype=np.bool_)
    handle_total = np.zeros((days, s_per_day))
    handled = np.zeros((days, s_per_day))
    recorded = np.isfinite(offered_in)
    np.add.at(offered, (d_idx[recorded], s_idx[recorded]), offered_in[recorded])
    gap[d_idx[~recorded], s_idx[~recorded]] = True
    observed[d_idx[recorded], s_idx[recorded]] = True
    np.add.at(handle_total, (d_idx, s_idx), aht_in * weight_in)
    np.add.at(handled, (d_idx, s_idx), weight_in)
    observed &= ~gap
    offered[gap] = np.nan

    has_rows = np.zeros(days, dtype=np.bool_)
    has_rows[d_idx] = True
    offered[~has_rows] = np.nan
    # Before the first row and after the last row, open intervals are unknown, not zero.
    open_slots = np.zeros(s_per_day, dtype=np.bool_)
    open_slots[s_idx] = True
    first_slot, last_slot = int(s_idx[np.argmin(local)]), int(s_idx[np.argmax(local)])
    head = open_slots.copy()
    head[first_slot:] = False
    tail = open_slots.copy()
    tail[: last_slot + 1] = False
    offered[0, head] = np.nan
    offered[-1, tail] = np.nan
    return QueueHistory(
        queue=name,
        interval_minutes=step,
        first_day=date(1970, 1, 1) + timedelta(days=first_day),
        offered=offered,
        observed=observed,
        handle_total=handle_total,
        handled=handled,
        has_rows=has_rows,
        known=(days - 1) * s_per_day + last_slot + 1,
    )
