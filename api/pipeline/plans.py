"""Staffing plans as files and summaries: one format for the CLI, the demo and reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from api.scenario.csvio import write_csv
from forecast.schema import IntervalForecast
from forecast.staffing import PlanArrays, weighted

PLAN_COLUMNS = (
    "traffic_erlangs",
    "agents_erlang",
    "agents_after_occupancy",
    "agents_required",
    "service_level",
    "asa_seconds",
    "occupancy",
    "abandonment",
    "backlog_items",
)
PLAN_HEADER = ("interval_start", "channel", "volume", "aht_seconds", *PLAN_COLUMNS)


@dataclass(frozen=True)
class ChannelResult:
    """One channel's forecast and its staffing plan."""

    channel: str
    forecast: IntervalForecast
    plan: PlanArrays

    @property
    def total_volume(self) -> float:
        return float(np.sum(self.forecast.volume))

    @property
    def agent_hours(self) -> float:
        return float(self.plan.agents_required.sum() * self.forecast.interval_minutes / 60.0)

    @property
    def service_level(self) -> float | None:
        """Volume-weighted service level over the plan."""
        return weighted(self.plan.service_level, self.forecast.volume)


def fmt(x: Any, digits: int = 4) -> str:
    """A number for a CSV cell: integers as they are, floats trimmed, NaN/inf as empty."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    value = float(x)
    if not math.isfinite(value):
        return ""
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def plan_rows(result: ChannelResult) -> list[list[str]]:
    fc, plan = result.forecast, result.plan
    cols = [getattr(plan, c) for c in PLAN_COLUMNS]
    return [
        [
            start.isoformat(timespec="minutes"),
            result.channel,
            fmt(fc.volume[i]),
            fmt(fc.aht_seconds[i]),
            *(fmt(c[i], 6) for c in cols),
        ]
        for i, start in enumerate(fc.interval_start)
    ]


def write_plan_csv(path: Path, results: list[ChannelResult]) -> None:
    """Write every channel's plan, interval by interval, atomically."""
    write_csv(path, PLAN_HEADER, [row for r in results for row in plan_rows(r)])
