"""History -> interval forecasts of volume and handle time: the one call a scenario pipeline makes.

``forecast_from_history`` checks the history, builds the holiday calendar, fits the chosen volume
model (``auto``: per queue, by backtest) and the handle-time profile on each queue, and returns one
``IntervalForecast`` per queue for ``days`` days from ``start``. ``forecast_queues`` returns the
same with the model chosen and its backtest scores, for reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from forecast.aht import HandleTimeProfile
from forecast.backtest import BacktestMetrics
from forecast.calendar import SpecialCalendar, SpecialDate
from forecast.history import FloatArray, HistoryRecords, QueueHistory, build_histories
from forecast.schema import IntervalForecast
from forecast.select import AutoForecaster, make_model

__all__ = ["QueueForecast", "aggregate", "forecast_from_history", "forecast_queues"]

MAX_DAYS = 366


@dataclass(frozen=True)
class QueueForecast:
    """The forecast of one queue and how it was made."""

    queue: str
    model: str
    forecast: IntervalForecast
    history_end: datetime
    scores: list[BacktestMetrics]


def aggregate(volume: FloatArray, aht: FloatArray, factor: int) -> tuple[FloatArray, FloatArray]:
    """Merge runs of ``factor`` intervals: volumes add up, handle time is volume-weighted."""
    v = volume.reshape(-1, factor)
    h = aht.reshape(-1, factor)
    total = v.sum(axis=1)
    weighted = np.where(total > 0, (v * h).sum(axis=1) / np.where(total > 0, total, 1.0), 0.0)
    return (
        np.asarray(total, dtype=np.float64),
        np.asarray(np.where(total > 0, weighted, h.mean(axis=1)), dtype=np.float64),
    )


def _start(start: date | datetime) -> datetime:
    if isinstance(start, datetime):
        if start.tzinfo is not None:
            raise ValueError("start: expected a local date-time without a UTC offset")
        return start
    return datetime.combine(start, datetime.min.time())


def _output_factor(history: QueueHistory, interval_minutes: int | None) -> int:
    step = history.interval_minutes
    if interval_minutes is None or interval_minutes == step:
        return 1
    if interval_minutes % step or 1440 % interval_minutes:
        raise ValueError(
            f"interval_minutes: the history of queue {history.queue} has {step}-min intervals; "
            f"a forecast can have {step} min or a multiple of it that divides a day, "
            f"not {interval_minutes}"
        )
    return interval_minutes // step


def forecast_queues(
    history: HistoryRecords | Mapping[str, QueueHistory],
    start: date | datetime,
    days: int,
    interval_minutes: int | None = None,
    method: str = "auto",
    holidays_country: str | None = None,
    holidays_region: str | None = None,
    special_dates: Iterable[SpecialDate | date] = (),
    timezone: str | None = None,
    holiday_categories: tuple[str, ...] | None = None,
) -> dict[str, QueueForecast]:
    """Forecast every queue of a history, with the model used and its backtest scores.

    ``start`` (a date: midnight) must not be before the end of the history and must fall on the
    output interval grid. Raises ``HistoryError`` for a broken history and ``ValueError`` for bad
    arguments (unknown model, country, region or time zone; a start inside the history).
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days: expected 1..{MAX_DAYS}, got {days}")
    first = _start(start)
    calendar = SpecialCalendar(holidays_country, holidays_region, special_dates, holiday_categories)
    make_model(method, calendar)  # fails early on an unknown model name
    queues = (
        build_histories(history, timezone) if isinstance(history, HistoryRecords) else dict(history)
    )
    out: dict[str, QueueForecast] = {}
    for name, past in queues.items():
        factor = _output_factor(past, interval_minutes)
        step = past.interval_minutes
        out_step = step * factor
        offset = (first - datetime.combine(past.first_day, datetime.min.time())) // timedelta(
            minutes=1
        )
        when = first.isoformat(sep=" ", timespec="minutes")
        if offset % out_step:
            raise ValueError(f"start: {when} is not on the {out_step}-min interval grid")
        skip = offset // step - past.known
        if skip < 0:
            raise ValueError(
                f"start: {when} is inside the history of queue {name}, which runs to "
                f"{past.end.isoformat(sep=' ', timespec='minutes')}; forecasts start at or after it"
            )
        n = days * past.slots_per_day
        model = make_model(method, calendar).fit(past)
        volume = model.predict(skip + n)[skip:]
        aht = HandleTimeProfile().fit(past).predict(skip + n)[skip:]
        if factor > 1:
            volume, aht = aggregate(volume, aht, factor)
        starts = [first + timedelta(minutes=out_step * i) for i in range(volume.size)]
        chosen = model.chosen if isinstance(model, AutoForecaster) else None
        scores = model.scores if isinstance(model, AutoForecaster) else []
        out[name] = QueueForecast(
            queue=name,
            model=f"auto: {chosen}" if chosen else model.name,
            forecast=IntervalForecast(
                interval_start=starts,
                volume=volume.tolist(),
                aht_seconds=aht.tolist(),
                interval_minutes=out_step,
            ),
            history_end=past.end,
            scores=scores,
        )
    return out


def forecast_from_history(
    history: HistoryRecords | Mapping[str, QueueHistory],
    start: date | datetime,
    days: int,
    interval_minutes: int | None = None,
    method: str = "auto",
    holidays_country: str | None = None,
    holidays_region: str | None = None,
    special_dates: Iterable[SpecialDate | date] = (),
    timezone: str | None = None,
    holiday_categories: tuple[str, ...] | None = None,
) -> dict[str, IntervalForecast]:
    """Volume and handle time per interval for ``days`` days from ``start``, one per queue.

    The scenario pipeline's entry point for a channel with a ``history_file``: see
    ``forecast_queues`` for the arguments and errors.
    """
    result = forecast_queues(
        history,
        start,
        days,
        interval_minutes,
        method,
        holidays_country,
        holidays_region,
        special_dates,
        timezone,
        holiday_categories,
    )
    return {name: q.forecast for name, q in result.items()}
