"""Daily building blocks of the volume models: filling, robust references, month cycle, smoothing.

Pure numpy on a days x intervals matrix (or on daily totals); no pandas, no loops over intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from forecast.history import BoolArray, FloatArray, IntArray

__all__ = [
    "EtsFit",
    "MonthCycle",
    "centred_reference",
    "fill_days",
    "fit_ets",
    "fit_month_cycle",
    "month_phase",
]


def _last_index(mask: BoolArray) -> IntArray:
    """For each position, the index of the last True at or before it (-1 if none)."""
    idx = np.where(mask, np.arange(mask.size), -1)
    return np.asarray(np.maximum.accumulate(idx), dtype=np.int64)


def fill_days(values: FloatArray, normal: BoolArray, weekday: IntArray) -> FloatArray:
    """Replace every day that is not ``normal`` by the last normal day of the same weekday
    (the next one where there is none before), and the remaining unknown intervals by the
    interval's median over normal days of that weekday (0 if still unknown)."""
    out = values.copy()
    n = values.shape[0]
    source = np.full(n, -1, dtype=np.int64)
    for w in range(7):
        pos = np.flatnonzero(weekday == w)
        if pos.size == 0:
            continue
        ok = normal[pos]
        before = _last_index(ok)
        after = _last_index(ok[::-1])[::-1]
        after = np.where(after >= 0, pos.size - 1 - after, -1)
        pick = np.where(before >= 0, before, after)
        source[pos] = np.where(pick >= 0, pos[np.maximum(pick, 0)], -1)
    bad = ~normal & (source >= 0)
    out[bad] = values[source[bad]]
    if np.isnan(out).any():
        for w in range(7):
            rows = weekday == w
            ref = normal & rows
            if not ref.any():
                continue
            with np.errstate(all="ignore"):
                med = np.nanmedian(np.where(np.isnan(values[ref]), np.nan, values[ref]), axis=0)
            block = out[rows]
            hole = np.isnan(block)
            block[hole] = np.broadcast_to(np.nan_to_num(med), block.shape)[hole]
            out[rows] = block
    return np.nan_to_num(out, nan=0.0)


def centred_reference(
    totals: FloatArray, normal: BoolArray, weekday: IntArray, days: IntArray, width: int
) -> FloatArray:
    """For each day in ``days``: median total of up to ``width`` normal days of the same weekday
    before it and ``width`` after it (the day itself excluded); NaN where there are none."""
    out = np.full(days.size, np.nan)
    for w in range(7):
        pos = np.flatnonzero(normal & (weekday == w))
        targets = np.flatnonzero(weekday[days] == w)
        if pos.size == 0 or targets.size == 0:
            continue
        vals = totals[pos]
        padded = np.concatenate([np.full(width, np.nan), vals, np.full(width, np.nan)])
        left = np.searchsorted(pos, days[targets], side="left")
        right = np.searchsorted(pos, days[targets], side="right")
        offsets = np.arange(-width, width)
        # window: `width` normal days before `left`, `width` from `right` on (skips the day)
        take = np.where(offsets < 0, left[:, None] + offsets, right[:, None] + offsets)
        window = padded[take + width]
        with np.errstate(all="ignore"):
            out[targets] = np.nanmedian(window, axis=1)
    return out


def month_phase(dates: NDArray[np.datetime64]) -> FloatArray:
    """Position of each date in its month, in [0, 1): (day - 1) / days in the month."""
    months = dates.astype("datetime64[M]")
    day = (dates - months.astype("datetime64[D]")).astype(np.int64)
    next_month = (months + 1).astype("datetime64[D]")
    length = (next_month - months.astype("datetime64[D]")).astype(np.int64)
    return np.asarray(day / length, dtype=np.float64)


def _fourier(phase: FloatArray, harmonics: int) -> FloatArray:
    k = np.arange(1, harmonics + 1)
    angle = 2.0 * np.pi * phase[:, None] * k[None, :]
    return np.concatenate([np.cos(angle), np.sin(angle)], axis=1)


@dataclass(frozen=True)
class MonthCycle:
    """Multiplicative day-of-month cycle: exp(Fourier series of the month phase)."""

    coefficients: FloatArray

    def factor(self, dates: NDArray[np.datetime64]) -> FloatArray:
        if self.coefficients.size == 0:
            return np.ones(dates.size)
        harmonics = self.coefficients.size // 2
        return np.asarray(
            np.exp(_fourier(month_phase(dates), harmonics) @ self.coefficients), dtype=np.float64
        )


NO_CYCLE = MonthCycle(np.zeros(0))


def fit_month_cycle(
    totals: FloatArray,
    normal: BoolArray,
    weekday: IntArray,
    dates: NDArray[np.datetime64],
    harmonics: int = 2,
    min_days: int = 56,
) -> MonthCycle:
    """Day-of-month cycle (pay days, statements, bills) of the daily totals.

    Each normal day's log ratio to the median of its neighbouring same-weekday days (two before,
    two after: about a month, so the cycle itself averages out) is regressed on ``harmonics``
    Fourier pairs of the month phase, robustly (Huber weights). No cycle when the normal days
    span less than ``min_days``.
    """
    days = np.flatnonzero(normal & (totals > 0))
    if harmonics <= 0 or days.size < 8 or days[-1] - days[0] + 1 < min_days:
        return NO_CYCLE
    ref = centred_reference(totals, normal & (totals > 0), weekday, days, width=2)
    ok = np.isfinite(ref) & (ref > 0)
    if ok.sum() < 4 * harmonics + 4:
        return NO_CYCLE
    y = np.clip(np.log(totals[days[ok]] / ref[ok]), -1.0, 1.0)
    x = _fourier(month_phase(dates[days[ok]]), harmonics)
    x = np.concatenate([np.ones((x.shape[0], 1)), x], axis=1)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(5):
        resid = y - x @ beta
        scale = 1.4826 * float(np.median(np.abs(resid))) + 1e-9
        cut = 1.345 * scale
        w = np.sqrt(np.minimum(1.0, cut / np.maximum(np.abs(resid), 1e-12)))
        beta = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
    return MonthCycle(np.asarray(beta[1:], dtype=np.float64))


ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6)
GAMMAS = (0.0, 0.05, 0.1, 0.2, 0.3)


@dataclass(frozen=True)
class EtsFit:
    """Exponential smoothing of daily totals with multiplicative weekday factors."""

    level: float
    seasonal: FloatArray
    alpha: float
    gamma: float

    def forecast(self, weekday: IntArray) -> FloatArray:
        return np.asarray(self.level * self.seasonal[weekday], dtype=np.float64)


def fit_ets(
    totals: FloatArray,
    weekday: IntArray,
    horizon: int = 7,
    alphas: tuple[float, ...] = ALPHAS,
    gammas: tuple[float, ...] = GAMMAS,
    burn_in: int = 21,
) -> EtsFit:
    """Level + weekday-factor exponential smoothing of a sequence of daily totals.

    ``totals``/``weekday`` are the usable days in time order (special and missing days left
    out). The smoothing constants are chosen on a grid (all candidates run at once, vectorised)
    by the mean absolute error of the 1- to ``horizon``-day-ahead forecasts after ``burn_in``
    days: the errors of a week-ahead forecast, not just the next day's.
    """
    n = totals.size
    if n == 0:
        raise ValueError("fit_ets: no usable day")
    a_grid, g_grid = np.meshgrid(np.asarray(alphas), np.asarray(gammas), indexing="ij")
    a, g = a_grid.ravel(), g_grid.ravel()
    present = np.bincount(weekday, minlength=7) > 0
    init = min(n, 14)
    level0 = float(np.mean(totals[:init])) or 1.0
    season0 = np.ones(7)
    sums = np.bincount(weekday[:init], weights=totals[:init], minlength=7)
    counts = np.bincount(weekday[:init], minlength=7)
    seen = counts > 0
    season0[seen] = sums[seen] / counts[seen] / level0
    season0[~seen & present] = 1.0
    season0[season0 <= 0] = 1e-3
    level = np.full(a.size, level0)
    season = np.tile(season0, (a.size, 1))
    levels = np.empty((n, a.size))
    err = np.zeros(a.size)
    for t in range(n):
        w = int(weekday[t])
        x = totals[t]
        if t >= burn_in:
            back = levels[max(0, t - horizon) : t]
            err += np.abs(back * season[:, w] - x).sum(axis=0)
        s = season[:, w]
        level = level + a * (x / s - level)
        level = np.maximum(level, 1e-9)
        season[:, w] = s + g * (x / level - s)
        season[:, present] /= season[:, present].mean(axis=1, keepdims=True)
        levels[t] = level
    best = int(np.argmin(err)) if n > burn_in else int(np.argmin(np.abs(a - 0.2) + g))
    seasonal = season[best].copy()
    seasonal[~present] = 0.0
    return EtsFit(float(level[best]), seasonal, float(a[best]), float(g[best]))
