"""Rolling-origin backtests: where origins fall, what is scored, the measures, and ``auto``."""

from __future__ import annotations

from datetime import date
from typing import Self

import numpy as np
import pytest
from forecast_helpers import queue_history, synthetic

from forecast.backtest import BacktestSettings, backtest, origins
from forecast.history import FloatArray, QueueHistory
from forecast.models import SeasonalNaive
from forecast.select import AutoForecaster


class Constant:
    """A forecaster that says ``value`` for every interval (for hand-computed measures)."""

    name = "constant"

    def __init__(self, value: float) -> None:
        self.value = value

    def fit(self, history: QueueHistory) -> Self:
        return self

    def predict(self, h: int) -> FloatArray:
        return np.full(h, self.value)

    def forecast(self, history: QueueHistory, h: int) -> FloatArray:
        return self.fit(history).predict(h)


def test_origins_fall_on_the_week_start_after_the_minimum_history() -> None:
    h = queue_history(synthetic(days=100, start=date(2025, 1, 1)))  # a Wednesday
    found = origins(h, BacktestSettings(week_start=6))
    dates = [str(d) for d in h.dates()[found]]
    assert dates[0] == "2025-03-02"  # the first Sunday at least 56 days in
    assert all(np.diff(found) == 7)
    assert found[-1] + 7 <= h.days
    assert len(origins(h, BacktestSettings(week_start=6, max_origins=2))) == 2
    assert origins(h, BacktestSettings(min_history_days=100)) == []


def test_origins_accept_a_horizon_ending_on_closed_days() -> None:
    # Mon-Fri centre, the history ends on a Friday: the last week counts
    rec = synthetic(days=68, weekday_factor=(1, 1, 1, 1, 1, 0, 0))
    h = queue_history(rec)
    found = origins(h, BacktestSettings(week_start=0))
    assert h.dates()[found[-1]] == np.datetime64("2025-03-10")


def test_measures_by_hand() -> None:
    rec = synthetic(days=70, noise=False, daily=480.0, weekday_factor=(1,) * 7)
    h = queue_history(rec)
    result = backtest(h, lambda: Constant(12.0), BacktestSettings(), "constant")
    actual = np.concatenate([r.actual[r.scored] for r in result.results])
    m = result.metrics
    assert m.origins == 2 and m.scored_intervals == 2 * 7 * 48
    assert m.wape == pytest.approx(np.abs(12 - actual).sum() / actual.sum())
    assert m.bias == pytest.approx((12 - actual).sum() / actual.sum())
    assert m.mae == pytest.approx(np.abs(12 - actual).mean())
    assert m.median_weekly_wape == pytest.approx(m.wape)
    assert m.seconds_per_fit is not None and m.seconds_per_fit >= 0


def test_missing_days_and_gaps_are_never_scored() -> None:
    rec = synthetic(days=70, skip_days=[date(2025, 3, 5)])
    offered = list(rec.offered)
    offered[-3] = None
    rec = rec.model_copy(update={"offered": offered})
    h = queue_history(rec)
    result = backtest(h, SeasonalNaive, BacktestSettings())
    last = result.results[-1]
    assert last.scored.sum() == 7 * 48 - 1
    before = result.results[0]
    assert before.scored.sum() == 6 * 48  # 5 March has no rows
    assert result.metrics.scored_intervals == 13 * 48 - 1


def test_no_origin_gives_empty_metrics() -> None:
    h = queue_history(synthetic(days=20))
    m = backtest(h, SeasonalNaive).metrics
    assert m.origins == 0 and m.wape is None and m.first_origin is None


def test_auto_picks_by_backtest_and_falls_back_when_short() -> None:
    # a noise-free repeating week: seasonal naive is exact, so auto must not do worse
    h = queue_history(synthetic(days=70, noise=False))
    auto = AutoForecaster().fit(h)
    assert auto.chosen is not None and len(auto.scores) == 4
    best = min(s.wape for s in auto.scores if s.wape is not None)
    chosen = next(s for s in auto.scores if s.model == auto.chosen)
    assert chosen.wape == best
    short = AutoForecaster().fit(queue_history(synthetic(days=20)))
    assert short.chosen == "combined" and short.scores == []
