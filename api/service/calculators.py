"""The synchronous calculators of the service: staffing for a forecast, forecasts from history.

Thin adapters over ``forecast.staffing.plan_channel`` and ``forecast.from_history.forecast_queues``
(the functions ``wfm staffing`` and ``wfm forecast`` use); bad input becomes a located
``InputError``.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError

from api.errors import InputError, Problem
from api.pipeline.history import load_history_csv
from api.service.schemas import ForecastRequest, ForecastResponse, QueueForecastOut, StaffingRequest
from forecast.from_history import forecast_queues
from forecast.history import HistoryError, HistoryRecords, QueueHistory
from forecast.schema import ChannelPlan
from forecast.staffing import plan_channel

__all__ = ["compute_forecast", "compute_staffing"]


def compute_staffing(req: StaffingRequest) -> ChannelPlan:
    """Agents to schedule per interval, with every intermediate."""
    try:
        return plan_channel(req.as_forecast(), req.targets, req.channel, req.staffed)
    except (ValueError, OverflowError) as exc:
        raise InputError.one("body", str(exc)) from None


def _history(req: ForecastRequest) -> HistoryRecords | dict[str, QueueHistory]:
    if req.history_csv is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "history.csv"
            path.write_text(req.history_csv, encoding="utf-8")
            try:
                return load_history_csv(path, req.timezone)
            except InputError as exc:
                raise InputError(
                    [
                        Problem(p.where.replace(str(path), "history_csv"), p.message)
                        for p in exc.problems
                    ]
                ) from None
    rows = req.history or []
    if not rows:
        raise InputError.one("history", "no rows; expected at least one interval of history")
    try:
        return HistoryRecords(
            interval_start=[r.interval_start for r in rows],
            offered=[r.offered for r in rows],
            handle_time_seconds=[r.handle_time_seconds for r in rows],
            handled=[r.handled for r in rows] if any(r.handled is not None for r in rows) else None,
            queue=[r.queue or "default" for r in rows] if any(r.queue for r in rows) else None,
        )
    except ValidationError as exc:
        raise InputError(
            [
                Problem("history", part.strip())
                for e in exc.errors()
                for part in str(e["msg"]).removeprefix("Value error, ").split("; ")
            ]
        ) from None


def _field_of(message: str) -> str:
    head = message.split(":", 1)[0].strip()
    return head if head.isidentifier() else "body"


def compute_forecast(req: ForecastRequest) -> ForecastResponse:
    """Volume and handle time per interval for each queue of a history."""
    history = _history(req)
    start: date | datetime = req.start
    try:
        result = forecast_queues(
            history,
            start,
            req.days,
            req.interval_minutes,
            req.method,
            holidays_country=req.holidays,
            holidays_region=req.holidays_region,
            timezone=req.timezone,
        )
    except HistoryError as exc:
        raise InputError(
            [
                Problem(
                    "history"
                    + ("" if i.row is None else f" row {i.row + 1}")
                    + ("" if i.column is None else f" {i.column}"),
                    i.message,
                )
                for i in exc.issues
            ]
        ) from None
    except (ValueError, OverflowError) as exc:
        message = str(exc).strip("'\"")
        raise InputError.one(_field_of(message), message) from None
    return ForecastResponse(
        queues=[
            QueueForecastOut(
                queue=name,
                model=q.model,
                history_end=q.history_end.isoformat(timespec="minutes"),
                forecast=q.forecast,
            )
            for name, q in result.items()
        ]
    )
