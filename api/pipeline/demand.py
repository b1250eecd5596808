"""Demand files: interval forecasts (``interval_start,volume,aht_seconds[,channel]``)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from api.errors import InputError, Problem
from api.scenario.csvio import Row, cell, parse_datetime, parse_float, read_rows
from forecast.schema import IntervalForecast

FORECAST_COLUMNS = ("interval_start", "volume", "aht_seconds")
DEFAULT_CHANNEL = "default"


def load_forecast_csv(
    path: Path, interval_minutes: int | None = None, fill_gaps: bool = True
) -> dict[str, IntervalForecast]:
    """Read a forecast file into one ``IntervalForecast`` per channel (file order).

    Rows of one channel must be in time order without duplicates, on one interval length (given,
    or inferred as the smallest step). Missing intervals between the first and last row are
    filled with zero volume when ``fill_gaps`` (closed hours may be left out of a file).
    """
    rows = read_rows(path, FORECAST_COLUMNS, optional=("channel",))
    where = str(path)
    problems: list[Problem] = []
    if not rows:
        raise InputError.one(where, "no data rows; expected interval_start,volume,aht_seconds")
    by_channel: dict[str, list[tuple[Row, datetime, float, float]]] = defaultdict(list)
    for row in rows:
        start = cell(row, "interval_start", parse_datetime, where, problems)
        volume = cell(row, "volume", lambda s: parse_float(s, low=0.0), where, problems)
        aht = cell(row, "aht_seconds", lambda s: parse_float(s, low=0.0), where, problems)
        if volume is not None and aht is not None and volume > 0 and aht == 0:
            problems.append(
                Problem(
                    f"{where}:{row.line}",
                    "column aht_seconds: expected a number > 0 where volume > 0",
                )
            )
            continue
        channel = row.cells.get("channel", "") or DEFAULT_CHANNEL
        if start is not None and volume is not None and aht is not None:
            by_channel[channel].append((row, start, volume, aht))
    if problems:
        raise InputError(problems)

    out: dict[str, IntervalForecast] = {}
    for channel, items in by_channel.items():
        label = "" if channel == DEFAULT_CHANNEL else f" (channel {channel})"
        step = _interval(items, interval_minutes, where, label, problems)
        if step is None:
            continue
        starts: list[datetime] = []
        volumes: list[float] = []
        ahts: list[float] = []
        for _row, start, volume, aht in items:
            if starts:
                gap = start - starts[-1]
                missing = int(gap / step) - 1
                for _ in range(missing if fill_gaps else 0):
                    starts.append(starts[-1] + step)
                    volumes.append(0.0)
                    ahts.append(0.0)
            starts.append(start)
            volumes.append(volume)
            ahts.append(aht)
        out[channel] = IntervalForecast.model_construct(
            interval_start=starts,
            volume=volumes,
            aht_seconds=ahts,
            interval_minutes=int(step.total_seconds() // 60),
        )
    if problems:
        raise InputError(problems)
    return out


def _interval(
    items: list[tuple[Row, datetime, float, float]],
    given: int | None,
    where: str,
    label: str,
    problems: list[Problem],
) -> timedelta | None:
    """The channel's interval length; records problems for unsorted, duplicated or mixed steps."""
    before = len(problems)
    steps: list[tuple[Row, timedelta]] = []
    for (_, prev, _, _), (row, start, _, _) in itertools.pairwise(items):
        d = start - prev
        if d == timedelta(0):
            problems.append(
                Problem(f"{where}:{row.line}", f"duplicate interval_start {start}{label}")
            )
        elif d < timedelta(0):
            problems.append(
                Problem(
                    f"{where}:{row.line}",
                    f"interval_start {start} is earlier than the row before{label}; "
                    "rows must be in time order",
                )
            )
        else:
            steps.append((row, d))
    if len(problems) > before:
        return None
    if given is not None:
        step = timedelta(minutes=given)
    elif steps:
        step = min(d for _, d in steps)
    else:
        problems.append(
            Problem(where, f"only one row{label}: give the interval length (--interval MINUTES)")
        )
        return None
    if step.total_seconds() % 60 or not 0 < step.total_seconds() <= 86400:
        problems.append(
            Problem(
                where,
                f"interval length {step} is not a whole number of minutes "
                f"between 1 and 1440{label}",
            )
        )
        return None
    for row, d in steps:
        if d % step:
            problems.append(
                Problem(
                    f"{where}:{row.line}",
                    f"mixed interval lengths{label}: a step of {_minutes(d)} min is not a multiple "
                    f"of the {_minutes(step)}-min interval",
                )
            )
            return None
    return step


def _minutes(d: timedelta) -> str:
    return f"{d.total_seconds() / 60:g}"
