"""The three real call-centre data sets of the forecast benchmark, as ``HistoryRecords``.

* ``ab30``: Israeli bank 1999, 30-min arrival counts (``shared/data/anonymous_bank_1999``);
* ``us15`` / ``us30``: US bank 2003, 5-min counts summed to 15 / 30 min over 07:00-21:00
  (``shared/benchmarks/bank_calls_weinberg2007``; its 'Z' suffix is local clock time);
* ``feb_aht``: Israeli bank, February 1999, call by call (``shared/benchmarks/
  anonymous_bank_callcenter``): 30-min intervals by arrival (VRU entry), offered = every call,
  handled = calls served by an agent, handle time = their mean service time.

Each loader returns None with the reason when the file is absent (a clean clone has no shared/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.history import HistoryRecords

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
AB30 = SHARED / "data" / "anonymous_bank_1999" / "anonymous_bank_1999_30min.csv"
US = SHARED / "benchmarks" / "bank_calls_weinberg2007" / "bank_calls.csv"
FEB = SHARED / "benchmarks" / "anonymous_bank_callcenter" / "data_anonymous_bank_february.txt"


@dataclass(frozen=True)
class DataSet:
    """One benchmark data set: its history and the protocol facts that go with it."""

    name: str
    description: str
    records: HistoryRecords
    country: str
    week_start: int  # origins' weekday, 0 = Monday
    source: Path


def _records(
    starts: list[datetime],
    offered: np.ndarray,
    aht: list[float | None] | None = None,
    handled: list[float | None] | None = None,
) -> HistoryRecords:
    return HistoryRecords(
        interval_start=starts,
        offered=[float(v) for v in offered],
        handle_time_seconds=aht if aht is not None else [None] * len(starts),
        handled=handled,
    )


def _datetimes(values: pd.Series) -> list[datetime]:
    return [ts.to_pydatetime() for ts in pd.to_datetime(values)]


def ab30() -> DataSet | str:
    if not AB30.exists():
        return f"not run: {AB30} is missing"
    frame = pd.read_csv(AB30)
    starts = _datetimes(frame["date"] + " " + frame["start"])
    return DataSet(
        "ab30",
        "Israeli bank 1999, 30 min, 24 h, Sun-Sat weeks",
        _records(starts, frame["calls"].to_numpy()),
        "IL",
        6,
        AB30,
    )


def us(minutes: int) -> DataSet | str:
    if not US.exists():
        return f"not run: {US} is missing"
    frame = pd.read_csv(US)
    local = pd.to_datetime(frame["DateTime"].str.rstrip("Z"))
    keep = local.dt.hour < 21  # 07:00-21:00: the 21:00 five-minute count is left out
    binned = local[keep].dt.floor(f"{minutes}min")
    sums = frame["Calls"][keep].groupby(binned.to_numpy()).sum()
    return DataSet(
        f"us{minutes}",
        f"US bank 2003, {minutes} min, 07:00-21:00, Mon-Fri",
        _records(_datetimes(pd.Series(sums.index)), sums.to_numpy()),
        "US",
        0,
        US,
    )


def _seconds(column: pd.Series) -> np.ndarray:
    parts = column.str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def feb_aht(minutes: int = 30) -> DataSet | str:
    if not FEB.exists():
        return f"not run: {FEB} is missing"
    calls = pd.read_csv(FEB, sep="\t")
    day = pd.to_datetime(calls["date"].astype(str), format="%y%m%d")
    start = day + pd.to_timedelta((_seconds(calls["vru_entry"]) // (minutes * 60)) * minutes, "m")
    served = calls["outcome"].eq("AGENT")
    grid = pd.date_range(day.min(), day.max() + timedelta(days=1), freq=f"{minutes}min")[:-1]
    offered = start.value_counts().reindex(grid, fill_value=0)
    handled = start[served].value_counts().reindex(grid, fill_value=0)
    seconds = calls["ser_time"][served].groupby(start[served].to_numpy()).sum()
    seconds = seconds.reindex(grid, fill_value=0)
    aht: list[float | None] = [
        float(s / n) if n > 0 else None for s, n in zip(seconds, handled, strict=True)
    ]
    return DataSet(
        "feb_aht",
        f"Israeli bank, Feb 1999, call by call, {minutes} min, served calls",
        _records(
            list(grid.to_pydatetime()),
            offered.to_numpy(),
            aht,
            [float(n) for n in handled],
        ),
        "IL",
        6,
        FEB,
    )


def volume_sets() -> dict[str, DataSet | str]:
    return {"ab30": ab30(), "us15": us(15), "us30": us(30)}


def write_test_fixtures(folder: Path) -> list[Path]:
    """Write the compact copies of the data sets that tests/data ships (see its README).

    ``ab30_days.csv`` / ``us15_days.csv``: one row per day with data (``date`` then one count
    per interval: 48 from 00:00, 56 from 07:00); ``feb1999_aht_30min.csv``: the call-level file
    as a 30-min history in the product's own format.
    """
    written = []
    for data, first_slot in ((ab30(), 0), (us(15), 28)):
        if isinstance(data, str):
            raise FileNotFoundError(data)
        rec = data.records
        frame = pd.DataFrame(
            {"t": pd.to_datetime(rec.interval_start), "n": [v or 0.0 for v in rec.offered]}
        )
        step = int((frame["t"].iloc[1] - frame["t"].iloc[0]).total_seconds() // 60)
        frame["day"] = frame["t"].dt.strftime("%Y-%m-%d")
        frame["slot"] = (frame["t"].dt.hour * 60 + frame["t"].dt.minute) // step - first_slot
        wide = frame.pivot(index="day", columns="slot", values="n").fillna(0).astype(int)
        path = folder / f"{data.name}_days.csv"
        wide.to_csv(path, header=["date", *[f"s{c}" for c in wide.columns]][1:], index_label="date")
        written.append(path)
    feb = feb_aht()
    if isinstance(feb, str):
        raise FileNotFoundError(feb)
    r = feb.records
    handled = r.handled or [None] * len(r)
    frame = pd.DataFrame(
        {
            "interval_start": [t.strftime("%Y-%m-%dT%H:%M") for t in r.interval_start],
            "offered": [int(v or 0) for v in r.offered],
            "handle_time_seconds": ["" if a is None else f"{a:.1f}" for a in r.handle_time_seconds],
            "handled": [int(n or 0) for n in handled],
        }
    )
    path = folder / "feb1999_aht_30min.csv"
    frame.to_csv(path, index=False)
    written.append(path)
    return written
