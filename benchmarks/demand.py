"""Seeded generator of realistic contact-centre demand (volume and handle time per interval).

A retail-bank profile: two intraday peaks (late morning, mid afternoon), quiet nights, Monday the
busiest day, Saturday at ~55 % and Sunday at ~40 % of a weekday, Poisson noise around the
profile, a slow seasonal swing over the year, handle time longer at night and with random noise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

WEEKDAY_FACTOR = np.array([1.15, 1.05, 1.0, 0.98, 1.02, 0.55, 0.40])


def intraday_shape(minutes_of_day: np.ndarray) -> np.ndarray:
    """Relative arrival rate by time of day (peak about 1.0)."""
    h = minutes_of_day / 60.0
    morning = np.exp(-0.5 * ((h - 10.75) / 1.6) ** 2)
    afternoon = 0.85 * np.exp(-0.5 * ((h - 14.75) / 1.9) ** 2)
    evening = 0.35 * np.exp(-0.5 * ((h - 19.5) / 1.5) ** 2)
    night = 0.03
    return np.asarray(night + morning + afternoon + evening, dtype=np.float64)


def generate(
    start: datetime,
    days: int,
    interval_minutes: int,
    daily_volume: float,
    aht_s: float,
    seed: int,
    aht_spread: float = 0.12,
) -> tuple[list[datetime], np.ndarray, np.ndarray]:
    """Interval starts, Poisson volumes and handle times for `days` days from `start`."""
    rng = np.random.default_rng(seed)
    per_day = 1440 // interval_minutes
    n = days * per_day
    idx = np.arange(n)
    minutes = (idx % per_day) * interval_minutes + interval_minutes / 2.0
    day = idx // per_day
    weekday = (start.weekday() + day) % 7
    shape = intraday_shape(minutes)
    shape_day = shape.reshape(days, per_day)[0].sum()
    season = 1.0 + 0.12 * np.sin(2 * np.pi * (start.timetuple().tm_yday + day) / 365.25)
    rate = daily_volume * WEEKDAY_FACTOR[weekday] * season * shape / shape_day
    volume = rng.poisson(rate).astype(np.float64)
    night = (minutes < 7 * 60) | (minutes >= 22 * 60)
    aht = aht_s * (1.0 + 0.15 * night) * np.exp(rng.normal(0.0, aht_spread, n))
    aht = np.where(volume > 0, np.round(aht, 1), 0.0)
    starts = [start + timedelta(minutes=int(i) * interval_minutes) for i in idx]
    return starts, volume, aht
