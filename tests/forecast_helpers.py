"""Seeded synthetic histories and the compact real-data fixtures of tests/data (forecast tests)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from forecast.history import HistoryRecords, QueueHistory, build_histories

DATA = Path(__file__).resolve().parent / "data"
WEEKDAY_FACTOR = (1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0.3)


def shape(minutes: np.ndarray) -> np.ndarray:
    """Intraday arrival shape: quiet nights, a late-morning and an afternoon peak."""
    h = minutes / 60.0
    return 0.02 + np.exp(-0.5 * ((h - 10.5) / 1.8) ** 2) + 0.7 * np.exp(-0.5 * ((h - 15) / 2) ** 2)


def synthetic(
    days: int = 70,
    interval: int = 30,
    start: date = date(2025, 1, 6),
    daily: float = 1000.0,
    seed: int = 0,
    weekday_factor: Sequence[float] = WEEKDAY_FACTOR,
    open_hours: tuple[int, int] = (0, 24),
    special: Mapping[date, float] | None = None,
    skip_days: Sequence[date] = (),
    month_amplitude: float = 0.0,
    aht: float = 300.0,
    noise: bool = True,
) -> HistoryRecords:
    """A seeded history: Poisson counts around weekday x intraday x month cycle x special days.

    Rows exist only inside ``open_hours`` and on weekdays with a factor > 0; ``skip_days`` have
    no rows at all (missing days).
    """
    rng = np.random.default_rng(seed)
    per_day = 1440 // interval
    minutes = np.arange(per_day) * interval + interval / 2
    base = shape(minutes)
    base = base / base.sum()
    open_mask = (minutes >= open_hours[0] * 60) & (minutes < open_hours[1] * 60)
    starts: list[datetime] = []
    offered: list[float | None] = []
    handle: list[float | None] = []
    special = special or {}
    for d in range(days):
        day = start + timedelta(days=d)
        factor = weekday_factor[day.weekday()]
        if factor <= 0 or day in skip_days:
            continue
        cycle = 1.0 + month_amplitude * np.cos(2 * np.pi * (day.day - 1) / 30.0)
        rate = daily * factor * cycle * special.get(day, 1.0) * base
        counts = rng.poisson(rate) if noise else np.round(rate)
        times = rng.normal(aht, 0.1 * aht, per_day) if noise else np.full(per_day, aht)
        midnight = datetime.combine(day, datetime.min.time())
        for s in np.flatnonzero(open_mask):
            starts.append(midnight + timedelta(minutes=int(s) * interval))
            offered.append(float(counts[s]))
            handle.append(float(round(times[s], 1)) if counts[s] > 0 else None)
    return HistoryRecords(interval_start=starts, offered=offered, handle_time_seconds=handle)


def queue_history(records: HistoryRecords, timezone: str | None = None) -> QueueHistory:
    """The single queue of a history."""
    (history,) = build_histories(records, timezone).values()
    return history


def fixture_days(name: str, interval: int, first_slot: int) -> HistoryRecords:
    """A tests/data ``*_days.csv`` file (one row per day) as history records."""
    starts: list[datetime] = []
    offered: list[float | None] = []
    with open(DATA / f"{name}_days.csv", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            midnight = datetime.fromisoformat(row[0])
            for k, value in enumerate(row[1:]):
                starts.append(midnight + timedelta(minutes=(first_slot + k) * interval))
                offered.append(float(value))
    return HistoryRecords(
        interval_start=starts, offered=offered, handle_time_seconds=[None] * len(starts)
    )


def merge(records: HistoryRecords, factor: int) -> HistoryRecords:
    """Sum runs of ``factor`` consecutive rows (15-min fixture -> 30 min)."""
    n = len(records) // factor * factor
    counts = np.array(records.offered[:n], dtype=np.float64).reshape(-1, factor).sum(axis=1)
    starts = records.interval_start[:n:factor]
    return HistoryRecords(
        interval_start=starts,
        offered=[float(c) for c in counts],
        handle_time_seconds=[None] * len(starts),
    )


def write_history(path: Path, rec: HistoryRecords, queue: str | None = None) -> Path:
    """A history CSV as the CLI and scenario files read it."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["interval_start", "offered", "handle_time_seconds"] + (["queue"] if queue else [])
        )
        for t, v, h in zip(rec.interval_start, rec.offered, rec.handle_time_seconds, strict=True):
            row = [
                t.isoformat(timespec="minutes"),
                "" if v is None else f"{v:g}",
                "" if h is None else h,
            ]
            w.writerow(row + ([queue] if queue else []))
    return path
