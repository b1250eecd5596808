"""Volume forecasters: seasonal naive, robust weekday x interval profile, level tracking, combined.

All but seasonal naive share one structure: a day's forecast is its **daily total** times its
weekday's **intraday shape**.

* shape: the per-interval median of the shares (interval / day total) of the last ``n_shapes``
  usable days of that weekday, rescaled to sum to 1;
* daily total, de-cycled by the **day-of-month cycle** (``forecast.daily.fit_month_cycle``) and
  then: ``profile`` the median of the last ``n_totals`` usable same-weekday totals; ``ets``
  exponential smoothing of the level with weekday factors (``forecast.daily.fit_ets``);
  ``combined`` the mean of the two;
* **special days** (holidays, user dates) are left out of training and forecast as a normal day
  times their factor: the user's, else the median ratio of earlier days of the same name, else
  of the same kind (shrunk toward 1 when there are few), else 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from forecast.base import DayForecaster, DayView, Forecaster
from forecast.calendar import SpecialCalendar, SpecialDay
from forecast.daily import NO_CYCLE, MonthCycle, centred_reference, fit_ets, fit_month_cycle
from forecast.history import FloatArray, IntArray, weekday_of

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "ProfileForecaster",
    "SeasonalNaive",
    "SpecialFactors",
    "make_forecaster",
]

Level = Literal["median", "ets", "combined"]


class SeasonalNaive(DayForecaster):
    """Each interval as the same interval one week earlier (missing days filled first).

    The benchmark's baseline: it ignores the holiday calendar on purpose.
    """

    name = "seasonal_naive"

    def __init__(self, calendar: SpecialCalendar | None = None) -> None:
        super().__init__(None)

    def _fit_days(self, view: DayView) -> None:
        self._values = view.values

    def _predict_days(self, days: IntArray, dates: NDArray[np.datetime64]) -> FloatArray:
        last = self._values.shape[0] - 1
        weeks = np.maximum(1, -(-(days - last) // 7))
        source = days - 7 * weeks
        # less than a week of history: repeat the last day
        source = np.where(source < 0, last, source)
        return np.asarray(self._values[source], dtype=np.float64)


class SpecialFactors:
    """Factors of special days learned from a history (see the module docstring)."""

    def __init__(self, view: DayView, cycle: MonthCycle, prior_days: float = 0.5) -> None:
        self.prior_days = prior_days
        self.by_name: dict[str, list[float]] = {}
        self.by_kind: dict[str, list[float]] = {}
        hist = view.history
        idx = np.array([i for i, s in enumerate(view.special) if s is not None], dtype=np.int64)
        if idx.size == 0:
            return
        raw = np.nansum(hist.offered, axis=1)
        complete = hist.complete_days() & ~view.closed[view.weekday]
        idx = idx[complete[idx]]
        if idx.size == 0:
            return
        z = view.totals / cycle.factor(view.dates)
        ref = centred_reference(z, view.normal, view.weekday, idx, width=3)
        ref = ref * cycle.factor(view.dates[idx])
        for i, r in zip(idx.tolist(), ref.tolist(), strict=True):
            if not np.isfinite(r) or r <= 0:
                continue
            special = view.special[i]
            assert special is not None
            value = float(np.log(max(raw[i], 0.01 * r) / r))
            self.by_name.setdefault(special.name, []).append(value)
            self.by_kind.setdefault(special.kind.value, []).append(value)

    def factor(self, special: SpecialDay | None) -> float:
        if special is None:
            return 1.0
        if special.factor is not None:
            return special.factor
        named = self.by_name.get(special.name)
        if named:
            return float(np.exp(np.median(named)))
        kind = self.by_kind.get(special.kind.value)
        if kind:
            n = len(kind)
            return float(np.exp(n / (n + self.prior_days) * np.median(kind)))
        return 1.0


class ProfileForecaster(DayForecaster):
    """Daily total x intraday shape per weekday, with month cycle and special days.

    ``level``: ``median`` (robust profile: median of the last ``n_totals`` same-weekday totals),
    ``ets`` (exponential smoothing of the level with weekday factors) or ``combined`` (mean).
    """

    def __init__(
        self,
        calendar: SpecialCalendar | None = None,
        level: Level = "combined",
        n_totals: int = 5,
        n_shapes: int = 8,
        month_cycle: bool = True,
        name: str | None = None,
    ) -> None:
        super().__init__(calendar)
        if n_totals < 1 or n_shapes < 1:
            raise ValueError("n_totals and n_shapes must be >= 1")
        self.level: Level = level
        self.n_totals = n_totals
        self.n_shapes = n_shapes
        self.month_cycle = month_cycle
        self.name = name or {"median": "profile", "ets": "ets", "combined": "combined"}[level]

    def _fit_days(self, view: DayView) -> None:
        normal = view.normal
        self.cycle = (
            fit_month_cycle(view.totals, normal, view.weekday, view.dates)
            if self.month_cycle
            else NO_CYCLE
        )
        z = view.totals / self.cycle.factor(view.dates)
        self.shapes = np.zeros((7, view.slots))
        self.median_level = np.zeros(7)
        pooled = np.flatnonzero(normal)
        if pooled.size == 0:  # nothing usable but filled days: fall back to all open days
            pooled = np.flatnonzero(view.history.has_rows & ~view.closed[view.weekday])
        for w in range(7):
            days = np.flatnonzero(normal & (view.weekday == w))
            if days.size == 0:
                days = pooled
            self.median_level[w] = float(np.median(z[days[-self.n_totals :]]))
            recent = days[-self.n_shapes :]
            tot = view.totals[recent]
            shares = view.values[recent] / np.where(tot > 0, tot, 1.0)[:, None]
            shape = np.median(shares[tot > 0], axis=0) if (tot > 0).any() else shares[0]
            self.shapes[w] = shape / shape.sum() if shape.sum() > 0 else shape
        self.ets = None
        if self.level != "median" and normal.sum() >= 7:
            self.ets = fit_ets(z[normal], view.weekday[normal])
        self.factors = SpecialFactors(view, self.cycle)

    def daily_totals(self, days: IntArray, dates: NDArray[np.datetime64]) -> FloatArray:
        """Forecast daily totals of the given days (before the closed-weekday rule)."""
        weekday = weekday_of(dates)
        median = self.median_level[weekday]
        if self.ets is None or self.level == "median":
            level = median
        else:
            ets = self.ets.forecast(weekday)
            ets = np.where(ets > 0, ets, median)
            level = ets if self.level == "ets" else 0.5 * (median + ets)
        specials = self._specials(days, dates)
        factor = np.array([self.factors.factor(s) for s in specials])
        return np.asarray(level * self.cycle.factor(dates) * factor, dtype=np.float64)

    def _specials(self, days: IntArray, dates: NDArray[np.datetime64]) -> list[SpecialDay | None]:
        if self.calendar is None or self.calendar.empty:
            return [None] * days.size
        return self.calendar.lookup_many([date.fromisoformat(str(d)) for d in dates])

    def _predict_days(self, days: IntArray, dates: NDArray[np.datetime64]) -> FloatArray:
        totals = self.daily_totals(days, dates)
        return np.asarray(totals[:, None] * self.shapes[weekday_of(dates)], dtype=np.float64)


def _profile(level: Level) -> Callable[[SpecialCalendar | None], Forecaster]:
    def make(calendar: SpecialCalendar | None) -> Forecaster:
        return ProfileForecaster(calendar, level=level)

    return make


MODELS: dict[str, Callable[[SpecialCalendar | None], Forecaster]] = {
    "seasonal_naive": SeasonalNaive,
    "profile": _profile("median"),
    "ets": _profile("ets"),
    "combined": _profile("combined"),
}
"""Every volume model by name; ``auto`` (in ``forecast.backtest``) picks one per queue."""

DEFAULT_MODEL = "combined"


def make_forecaster(name: str, calendar: SpecialCalendar | None = None) -> Forecaster:
    """A fresh forecaster by name; ValueError naming the known ones for an unknown name."""
    try:
        factory = MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown model {name!r}; expected one of {', '.join([*MODELS, 'auto'])}"
        ) from None
    return factory(calendar)
