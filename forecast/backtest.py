"""Rolling-origin backtests (expanding window) and their accuracy measures.

At each origin (a midnight, every ``step_days`` after ``min_history_days`` of history, optionally
on one weekday), a model is fit on everything before the origin and forecasts the next
``horizon_days``; only intervals given in the history with a count are scored (missing days,
gaps and closed weekdays never are). Measures, pooled over all scored intervals of all origins:

* WAPE = sum |F - A| / sum A; bias = sum (F - A) / sum A; MAE = mean |F - A| per interval;
* median weekly WAPE: the median over origins of each origin's WAPE;
* seconds per fit: fit + predict, mean per origin;
* handle time (when the history has it): sum n |F - A| / sum n A, n = contacts handled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from forecast.aht import HandleTimeProfile
from forecast.base import Forecaster
from forecast.history import BoolArray, FloatArray, QueueHistory, weekday_of

__all__ = [
    "BacktestMetrics",
    "BacktestResult",
    "BacktestSettings",
    "OriginResult",
    "backtest",
    "backtest_handle_time",
    "origins",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BacktestSettings(BaseModel):
    """Where the origins of a rolling-origin backtest fall and how far each forecasts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_days: int = Field(7, ge=1, le=62, description="Days forecast from each origin")
    step_days: int = Field(7, ge=1, le=62, description="Days between origins")
    min_history_days: int = Field(
        56, ge=1, description="Days of history (from its first day) before the first origin"
    )
    week_start: int | None = Field(
        None,
        ge=0,
        le=6,
        description="Weekday of the origins, 0 = Monday ... 6 = Sunday; None: the day reached "
        "after min_history_days",
    )
    max_origins: int | None = Field(
        None, ge=1, description="Keep only the last this many origins (None: all)"
    )


class BacktestMetrics(BaseModel):
    """Accuracy of one model on one queue over all origins of a backtest."""

    queue: str = Field(description="Queue id")
    model: str = Field(description="Model name")
    origins: int = Field(description="Number of origins scored")
    first_origin: date | None = Field(description="Date of the first origin")
    last_origin: date | None = Field(description="Date of the last origin")
    scored_intervals: int = Field(description="Intervals scored, all origins together")
    actual_volume: float = Field(description="Sum of the actual volume scored")
    wape: float | None = Field(description="Pooled WAPE: sum |F - A| / sum A")
    median_weekly_wape: float | None = Field(description="Median over origins of their WAPE")
    bias: float | None = Field(description="sum (F - A) / sum A (positive: over-forecast)")
    mae: float | None = Field(description="Mean absolute error per scored interval, contacts")
    seconds_per_fit: float | None = Field(description="Mean fit + predict time per origin, s")
    aht_error: float | None = Field(
        None, description="Handle time: sum n |F - A| / sum n A (n = contacts handled)"
    )
    aht_bias: float | None = Field(None, description="Handle time: sum n (F - A) / sum n A")


@dataclass(frozen=True)
class OriginResult:
    """One origin: the forecast, the actuals and which intervals were scored."""

    origin: date
    start_index: int
    forecast: FloatArray
    actual: FloatArray
    scored: BoolArray
    seconds: float

    @property
    def wape(self) -> float | None:
        a = self.actual[self.scored]
        total = float(a.sum())
        if total <= 0:
            return None
        return float(np.abs(self.forecast[self.scored] - a).sum() / total)


@dataclass(frozen=True)
class BacktestResult:
    """Metrics plus the per-origin detail (for plots)."""

    metrics: BacktestMetrics
    results: list[OriginResult]


def origins(history: QueueHistory, settings: BacktestSettings) -> list[int]:
    """Day indices of the origins: whole horizon inside the history (closed weekdays aside)."""
    closed = history.closed_weekdays()
    first = settings.min_history_days
    if settings.week_start is not None:
        weekday = int(weekday_of(history.dates(first, 1))[0])
        first += (settings.week_start - weekday) % 7
    out = []
    for o in range(first, history.days, settings.step_days):
        days = o + np.arange(settings.horizon_days)
        open_days = days[~closed[weekday_of(history.dates(o, settings.horizon_days))]]
        if open_days.size and int(open_days.max()) < history.days:
            out.append(o)
    if settings.max_origins is not None:
        out = out[-settings.max_origins :]
    return out


def _actual(history: QueueHistory, o: int, days: int) -> tuple[FloatArray, BoolArray]:
    s = history.slots_per_day
    end = min(history.days, o + days)
    actual = np.zeros(days * s)
    scored = np.zeros(days * s, dtype=np.bool_)
    block = history.offered[o:end].ravel()
    seen = history.observed[o:end].ravel() & np.isfinite(block)
    actual[: block.size] = np.where(seen, block, 0.0)
    scored[: block.size] = seen
    return actual, scored


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def backtest(
    history: QueueHistory,
    model: Callable[[], Forecaster],
    settings: BacktestSettings | None = None,
    name: str | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of a model (a factory giving a fresh, unfitted forecaster)."""
    settings = settings or BacktestSettings()
    s = history.slots_per_day
    h = settings.horizon_days * s
    results = []
    label = name
    for o in origins(history, settings):
        forecaster = model()
        label = label or forecaster.name
        t0 = time.perf_counter()
        fc = forecaster.forecast(history.until(o), h)
        seconds = time.perf_counter() - t0
        actual, scored = _actual(history, o, settings.horizon_days)
        day = history.dates(o, 1)[0].astype(object)
        results.append(OriginResult(day, o * s, fc, actual, scored, seconds))
    return BacktestResult(_metrics(history.queue, label or "model", results), results)


def _metrics(queue: str, model: str, results: Sequence[OriginResult]) -> BacktestMetrics:
    if not results:
        return BacktestMetrics(
            queue=queue,
            model=model,
            origins=0,
            first_origin=None,
            last_origin=None,
            scored_intervals=0,
            actual_volume=0.0,
            wape=None,
            median_weekly_wape=None,
            bias=None,
            mae=None,
            seconds_per_fit=None,
        )
    f = np.concatenate([r.forecast[r.scored] for r in results])
    a = np.concatenate([r.actual[r.scored] for r in results])
    total = float(a.sum())
    weekly = [w for r in results if (w := r.wape) is not None]
    return BacktestMetrics(
        queue=queue,
        model=model,
        origins=len(results),
        first_origin=results[0].origin,
        last_origin=results[-1].origin,
        scored_intervals=int(a.size),
        actual_volume=total,
        wape=_ratio(float(np.abs(f - a).sum()), total),
        median_weekly_wape=float(np.median(weekly)) if weekly else None,
        bias=_ratio(float((f - a).sum()), total),
        mae=float(np.abs(f - a).mean()) if a.size else None,
        seconds_per_fit=float(np.mean([r.seconds for r in results])),
    )


def backtest_handle_time(
    history: QueueHistory,
    settings: BacktestSettings | None = None,
    model: Callable[[], HandleTimeProfile] = HandleTimeProfile,
) -> tuple[float | None, float | None]:
    """Handle-time error and bias of the model over the backtest's origins (None: no data)."""
    settings = settings or BacktestSettings()
    if not history.has_handle_times:
        return None, None
    s = history.slots_per_day
    num = den = signed = 0.0
    for o in origins(history, settings):
        past = history.until(o)
        if not past.has_handle_times:
            continue
        fc = model().forecast(past, settings.horizon_days * s)
        end = min(history.days, o + settings.horizon_days)
        n = history.handled[o:end].ravel()
        seconds = history.handle_total[o:end].ravel()
        live = n > 0
        actual = seconds[live] / n[live]
        f = fc[: n.size][live]
        num += float((n[live] * np.abs(f - actual)).sum())
        signed += float((n[live] * (f - actual)).sum())
        den += float(seconds[live].sum())
    return _ratio(num, den), _ratio(signed, den)
