"""Handle-time forecasting: a time-of-day profile shrunk toward the global mean, times a level.

Per interval of the day, the mean handle time of the contacts handled in it (weighted by their
number, recent days weighing more), smoothed with the neighbouring intervals and shrunk toward
the queue's global mean by ``shrink_contacts`` pseudo-contacts (intervals with few contacts borrow
from the mean). The level of handle time then moves the whole profile: each day's ratio of actual
to profile-expected handle time is tracked by exponential smoothing with a damped additive trend
(Holt's method with Gardner-McKenzie damping), each day's update weighted by its contacts, so a
level that drifts during the month is followed and extrapolated a little, never far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from forecast.history import FloatArray, QueueHistory

__all__ = ["HandleTimeProfile"]


def _decay(days: int, half_life: float) -> FloatArray:
    """Weight of each day, 1 for the last and halving every ``half_life`` days back."""
    age = np.arange(days - 1, -1, -1, dtype=np.float64)
    return np.asarray(0.5 ** (age / half_life), dtype=np.float64)


def _smooth(values: FloatArray, weight: float) -> FloatArray:
    """Mix each interval with its two neighbours: ``weight`` each (edges repeat themselves)."""
    if weight <= 0 or values.size < 3:
        return values
    padded = np.concatenate([values[:1], values, values[-1:]])
    return np.asarray(
        weight * padded[:-2] + (1 - 2 * weight) * padded[1:-1] + weight * padded[2:],
        dtype=np.float64,
    )


@dataclass
class HandleTimeProfile:
    """Average handle time per interval of the day (see the module docstring)."""

    shape_half_life_days: float = 28.0
    level_half_life_days: float = 3.0
    trend_smoothing: float = 0.1
    damping: float = 0.9
    shrink_contacts: float = 30.0
    neighbour_weight: float = 0.2
    name: str = "time_of_day_shrunk"

    def __post_init__(self) -> None:
        if self.shape_half_life_days <= 0 or self.level_half_life_days <= 0:
            raise ValueError("half-lives must be > 0 days")
        if self.shrink_contacts < 0 or not 0 <= self.neighbour_weight < 0.5:
            raise ValueError("shrink_contacts must be >= 0 and neighbour_weight in [0, 0.5)")
        if not 0 <= self.trend_smoothing < 1 or not 0 <= self.damping < 1:
            raise ValueError("trend_smoothing and damping must be in [0, 1)")
        self._profile: FloatArray | None = None
        self._known = 0
        self._trend = 0.0

    def fit(self, history: QueueHistory) -> Self:
        n, total = history.handled, history.handle_total
        if not (n > 0).any():
            raise ValueError(
                f"queue {history.queue}: no handle times in the history "
                "(handle_time_seconds is empty on every row with contacts)"
            )
        w = _decay(history.days, self.shape_half_life_days)
        counts = _smooth(w @ n, self.neighbour_weight)
        seconds = _smooth(w @ total, self.neighbour_weight)
        overall = float(seconds.sum() / counts.sum())
        k = self.shrink_contacts
        weight = counts + k
        profile = np.where(
            weight > 0, (seconds + k * overall) / np.where(weight > 0, weight, 1.0), overall
        )
        level, trend = self._level_and_trend(n @ profile, total.sum(axis=1), n.sum(axis=1))
        self._profile = np.asarray(profile * level, dtype=np.float64)
        self._trend = trend / level if level > 0 else 0.0
        self._known = history.known
        return self

    def _level_and_trend(
        self, expected: FloatArray, actual: FloatArray, contacts: FloatArray
    ) -> tuple[float, float]:
        """Damped-trend smoothing of the daily ratio actual / expected (level, trend per day).

        A day with ``c`` contacts updates the level with ``1 - (1 - alpha) ** (c / mean c)``
        (alpha from ``level_half_life_days``; the trend likewise with ``trend_smoothing``), so a
        quiet Saturday moves it less than a busy Monday; days without contacts only age the trend.
        """
        live = expected > 0
        alpha = 1.0 - 0.5 ** (1.0 / self.level_half_life_days)
        beta, phi = self.trend_smoothing, self.damping
        mean_contacts = float(contacts[live].mean()) if live.any() else 1.0
        level, trend = 1.0, 0.0  # the profile is the history's mean: its ratio is about 1
        for day in np.flatnonzero(live):
            ratio = float(actual[day] / expected[day])
            share = float(contacts[day]) / mean_contacts
            a = 1.0 - (1.0 - alpha) ** share
            b = 1.0 - (1.0 - beta) ** share
            new = a * ratio + (1.0 - a) * (level + phi * trend)
            trend = b * (new - level) + (1.0 - b) * phi * trend
            level = new
        return level, trend

    @property
    def profile(self) -> FloatArray:
        """Forecast handle time of each interval of the day, seconds."""
        if self._profile is None:
            raise RuntimeError("HandleTimeProfile: call fit(history) before predict")
        return self._profile

    def predict(self, h: int) -> FloatArray:
        """Handle time of the ``h`` intervals after the history's last row, seconds."""
        if h < 0:
            raise ValueError(f"h: expected a number of intervals >= 0, got {h}")
        profile = self.profile
        steps = self._known + np.arange(h)
        days_ahead = steps // profile.size - (self._known - 1) // profile.size
        phi = self.damping
        # damped trend: phi + phi^2 + ... + phi^k of the daily trend, k days ahead
        reach = phi * (1.0 - phi**days_ahead) / (1.0 - phi)
        factor = np.maximum(1.0 + self._trend * reach, 0.5)
        return np.asarray(profile[steps % profile.size] * factor, dtype=np.float64)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)
