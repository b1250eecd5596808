"""The ``Forecaster`` protocol (fit -> self, predict(h), forecast) and the day-grid base class.

Every volume model takes a ``QueueHistory`` and forecasts the ``h`` intervals that follow its
last row. ``DayForecaster`` does the shared work once: it marks the days usable for training
(days with rows, complete, not special, on an open weekday), fills the others, and turns a
forecast of whole days into the ``h`` intervals asked for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from forecast.calendar import SpecialCalendar, SpecialDay
from forecast.daily import fill_days
from forecast.history import BoolArray, FloatArray, IntArray, QueueHistory, weekday_of

__all__ = ["DayForecaster", "DayView", "Forecaster", "prepare_days"]


@runtime_checkable
class Forecaster(Protocol):
    """A volume model: ``fit`` on one queue's history, then ``predict`` what follows it."""

    name: str

    def fit(self, history: QueueHistory) -> Self:
        """Learn from the history; returns the fitted model itself."""
        ...

    def predict(self, h: int) -> FloatArray:
        """Volume of the ``h`` intervals after the history's last row (>= 0 each)."""
        ...

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        """``fit(history).predict(h)`` in one call."""
        ...


@dataclass(frozen=True)
class DayView:
    """A history as whole days, ready for day-level models.

    ``values`` has no NaN: days that are not ``normal`` (missing, special, cut short, on a closed
    weekday) and gaps are filled from the last normal day of the same weekday.
    """

    history: QueueHistory
    values: FloatArray
    totals: FloatArray
    normal: BoolArray
    weekday: IntArray
    dates: NDArray[np.datetime64]
    closed: BoolArray
    special: list[SpecialDay | None]

    @property
    def slots(self) -> int:
        return int(self.values.shape[1])


MAX_GAP_SHARE = 0.25
"""A day with more unknown intervals than this share of its open intervals is not used."""


def prepare_days(history: QueueHistory, calendar: SpecialCalendar | None = None) -> DayView:
    """Mark the usable days of ``history`` and fill the rest (see ``DayView``)."""
    dates = history.dates()
    weekday = weekday_of(dates)
    closed = history.closed_weekdays()
    open_slots: BoolArray = np.asarray(history.observed.any(axis=0), dtype=np.bool_)
    unknown = np.isnan(history.offered) & open_slots[None, :]
    n_open = max(1, int(open_slots.sum()))
    usable = history.has_rows & (unknown.sum(axis=1) <= MAX_GAP_SHARE * n_open)
    usable &= ~closed[weekday]
    special: list[SpecialDay | None] = (
        [None] * history.days
        if calendar is None or calendar.empty
        else calendar.lookup_many([date.fromisoformat(str(d)) for d in dates])
    )
    is_special = np.array([s is not None for s in special], dtype=np.bool_)
    totals_raw = np.nansum(history.offered, axis=1)
    normal = usable & ~is_special & (totals_raw > 0)
    values = fill_days(history.offered, normal, weekday)
    return DayView(
        history=history,
        values=values,
        totals=values.sum(axis=1),
        normal=np.asarray(normal, dtype=np.bool_),
        weekday=weekday,
        dates=dates,
        closed=closed,
        special=special,
    )


class DayForecaster(ABC):
    """Base of the day-level models: subclasses implement ``_fit_days`` and ``_predict_days``."""

    name: str = "day"

    def __init__(self, calendar: SpecialCalendar | None = None) -> None:
        self.calendar = calendar
        self._view: DayView | None = None

    @property
    def view(self) -> DayView:
        if self._view is None:
            raise RuntimeError(f"{self.name}: call fit(history) before predict")
        return self._view

    def fit(self, history: QueueHistory) -> Self:
        view = prepare_days(history, self.calendar)
        if not view.normal.any() and not (history.has_rows & ~view.closed[view.weekday]).any():
            raise ValueError(f"queue {history.queue}: the history has no usable day")
        self._view = view
        self._fit_days(view)
        return self

    def predict(self, h: int) -> FloatArray:
        if h < 0:
            raise ValueError(f"h: expected a number of intervals >= 0, got {h}")
        view = self.view
        s = view.slots
        start = view.history.known
        first_day = start // s
        n_days = -(-(start + h) // s) - first_day
        if h == 0:
            return np.zeros(0)
        days = first_day + np.arange(n_days)
        dates = view.history.dates(first_day, n_days)
        weekday = weekday_of(dates)
        grid = self._predict_days(days, dates)
        grid[view.closed[weekday]] = 0.0
        flat = np.maximum(grid, 0.0).ravel()
        offset = start - first_day * s
        return np.asarray(flat[offset : offset + h], dtype=np.float64)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)

    @abstractmethod
    def _fit_days(self, view: DayView) -> None:
        """Learn from the prepared days."""

    @abstractmethod
    def _predict_days(self, days: IntArray, dates: NDArray[np.datetime64]) -> FloatArray:
        """Forecast whole days (grid day indices ``days``, dates ``dates``): (len, slots)."""
