"""Handle-time profile: shrinkage, smoothing, level tracking, and what it refuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from forecast_helpers import queue_history, synthetic

from forecast.aht import HandleTimeProfile
from forecast.backtest import BacktestSettings, backtest_handle_time
from forecast.history import HistoryRecords


def flat_history(days: int, aht_by_slot: np.ndarray, calls: np.ndarray) -> HistoryRecords:
    starts, offered, handle = [], [], []
    for d in range(days):
        midnight = datetime(2025, 1, 6) + timedelta(days=d)
        for s in range(aht_by_slot.shape[-1]):
            starts.append(midnight + timedelta(minutes=30 * s))
            n = float(calls[s])
            offered.append(n)
            a = aht_by_slot[d, s] if aht_by_slot.ndim == 2 else aht_by_slot[s]
            handle.append(float(a) if n > 0 else None)
    return HistoryRecords(interval_start=starts, offered=offered, handle_time_seconds=handle)


def test_profile_follows_time_of_day_and_shrinks_sparse_intervals() -> None:
    aht = np.full(48, 200.0)
    aht[20] = 400.0  # a busy interval with long calls
    aht[2] = 800.0  # a night interval with one call a day
    calls = np.full(48, 50.0)
    calls[2] = 1.0
    h = queue_history(flat_history(14, aht, calls))
    p = HandleTimeProfile(neighbour_weight=0.0).fit(h).profile
    assert p[20] == pytest.approx(400.0, rel=0.05)
    assert 200 < p[2] < 500  # pulled toward the global mean: 14 calls vs 30 pseudo-calls
    smooth = HandleTimeProfile(neighbour_weight=0.2).fit(h).profile
    assert smooth[19] > p[19] and smooth[20] < p[20]


def test_level_follows_a_recent_shift() -> None:
    aht = np.full((28, 48), 200.0)
    aht[-5:] = 260.0
    h = queue_history(flat_history(28, aht, np.full(48, 40.0)))
    p = HandleTimeProfile().fit(h).profile
    assert 240 < p.mean() < 262
    no_level = HandleTimeProfile(
        level_half_life_days=1e9, shape_half_life_days=1e9, trend_smoothing=0.0
    ).fit(h)
    assert no_level.profile.mean() < 215


def test_a_steady_drift_is_extrapolated_and_damped() -> None:
    days = 28
    aht = 200.0 + 2.0 * np.arange(days)[:, None] * np.ones((1, 48))  # +2 s a day
    h = queue_history(flat_history(days, aht, np.full(48, 40.0)))
    model = HandleTimeProfile().fit(h)
    week = model.predict(7 * 48).reshape(7, 48).mean(axis=1)
    flat = HandleTimeProfile(trend_smoothing=0.0).fit(h).predict(7 * 48)
    assert np.all(np.diff(week) > 0)  # keeps rising ...
    assert week[0] > flat.mean()  # ... from above the level alone (which lags the drift)
    assert np.all(np.diff(np.diff(week)) < 0)  # ... ever more slowly (damped)
    assert week[-1] < 200.0 + 2.0 * (days - 1 + 7)  # below the undamped straight line


def test_no_trend_on_a_flat_history() -> None:
    h = queue_history(flat_history(28, np.full((28, 48), 180.0), np.full(48, 40.0)))
    np.testing.assert_allclose(HandleTimeProfile().fit(h).predict(7 * 48), 180.0)


def test_predict_is_aligned_with_the_time_of_day() -> None:
    rec = synthetic(days=14)
    cut = len(rec) - 6
    h = queue_history(
        HistoryRecords(
            interval_start=rec.interval_start[:cut],
            offered=rec.offered[:cut],
            handle_time_seconds=rec.handle_time_seconds[:cut],
        )
    )
    model = HandleTimeProfile(trend_smoothing=0.0).fit(h)  # no trend: the profile itself
    np.testing.assert_allclose(model.predict(8), model.profile[np.r_[42:48, 0:2]])
    trended = HandleTimeProfile().fit(h)
    ratio = trended.predict(8) / trended.profile[np.r_[42:48, 0:2]]
    assert np.ptp(ratio[:6]) < 1e-12 and np.ptp(ratio[6:]) < 1e-12  # one factor per day ahead


def test_no_handle_times_is_an_error() -> None:
    rec = synthetic(days=7)
    rec = rec.model_copy(update={"handle_time_seconds": [None] * len(rec)})
    with pytest.raises(ValueError, match="no handle times in the history"):
        HandleTimeProfile().fit(queue_history(rec))
    assert backtest_handle_time(queue_history(rec)) == (None, None)
    with pytest.raises(ValueError, match="half-lives"):
        HandleTimeProfile(level_half_life_days=0)
    with pytest.raises(ValueError, match="damping"):
        HandleTimeProfile(damping=1.0)
    with pytest.raises(RuntimeError, match="fit"):
        HandleTimeProfile().predict(1)


def test_backtest_of_handle_time_scores_weighted_error() -> None:
    h = queue_history(synthetic(days=35, start=date(2025, 1, 6), seed=2))
    error, bias = backtest_handle_time(h, BacktestSettings(min_history_days=14))
    assert error is not None and bias is not None
    assert 0.05 < error < 0.12  # 10 % noise per interval around a flat 300 s
    assert abs(bias) < 0.02
