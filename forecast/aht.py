"""Handle-time forecasting: a time-of-day profile shrunk toward the global mean, times a level.

Per interval of the day, the mean handle time of the contacts handled in it (weighted by their
number, recent days weighing more), smoothed with the neighbouring intervals and shrunk toward
the queue's global mean by ``shrink_contacts`` pseudo-contacts (intervals with few contacts borrow
from the mean). A level factor then moves the whole profile to the recent days' handle time
(actual / profile-expected over the last few days), so a drift in handle time is followed.
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
    shrink_contacts: float = 30.0
    neighbour_weight: float = 0.2
    name: str = "time_of_day_shrunk"

    def __post_init__(self) -> None:
        if self.shape_half_life_days <= 0 or self.level_half_life_days <= 0:
            raise ValueError("half-lives must be > 0 days")
        if self.shrink_contacts < 0 or not 0 <= self.neighbour_weight < 0.5:
            raise ValueError("shrink_contacts must be >= 0 and neighbour_weight in [0, 0.5)")
        self._profile: FloatArray | None = None
        self._known = 0

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
        lw = _decay(history.days, self.level_half_life_days)
        expected = float(lw @ (n @ profile))
        actual = float(lw @ total.sum(axis=1))
        level = actual / expected if expected > 0 else 1.0
        self._profile = np.asarray(profile * level, dtype=np.float64)
        self._known = history.known
        return self

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
        slots = (self._known + np.arange(h)) % profile.size
        return np.asarray(profile[slots], dtype=np.float64)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)
