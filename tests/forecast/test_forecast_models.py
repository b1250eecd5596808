"""The Forecaster contract, run over every model, plus what each model must get right."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from forecast_helpers import queue_history, synthetic
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.backtest import BacktestSettings, backtest
from forecast.base import Forecaster, prepare_days
from forecast.calendar import SpecialCalendar, SpecialDate
from forecast.daily import centred_reference, fill_days, fit_ets, fit_month_cycle, month_phase
from forecast.history import HistoryRecords
from forecast.models import MODELS, ProfileForecaster, SeasonalNaive, make_forecaster
from forecast.select import MODEL_NAMES, AutoForecaster, make_model

HISTORY = queue_history(synthetic(days=70, seed=1))
WEEK = 7 * 48


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_contract(name: str) -> None:
    model = make_model(name, SpecialCalendar("US"))
    assert isinstance(model, Forecaster)
    assert model.name == name
    with pytest.raises(RuntimeError, match="fit"):
        model.predict(3)
    assert model.fit(HISTORY) is model
    fc = model.predict(WEEK)
    assert fc.shape == (WEEK,) and fc.dtype == np.float64
    assert np.isfinite(fc).all() and (fc >= 0).all()
    assert model.predict(0).shape == (0,)
    with pytest.raises(ValueError, match="h"):
        model.predict(-1)
    again = make_model(name, SpecialCalendar("US")).forecast(HISTORY, WEEK)
    np.testing.assert_array_equal(fc, again)  # deterministic, and forecast == fit + predict
    # a longer horizon extends the shorter one
    np.testing.assert_allclose(model.predict(2 * WEEK)[:WEEK], fc)
    # the level is right: a week of forecast is within 10 % of the last week's volume
    assert abs(fc.sum() / np.nansum(HISTORY.offered[-7:]) - 1) < 0.1


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_contract_closed_weekdays_and_hours_forecast_zero(name: str) -> None:
    rec = synthetic(days=63, interval=15, open_hours=(7, 21), weekday_factor=(1, 1, 1, 1, 1, 0, 0))
    h = queue_history(rec)
    fc = make_model(name).forecast(h, 7 * 96 + 3 * 4).reshape(-1, 4)
    # the history ends Friday 21:00: 3 h of Friday night, then Sat, Sun (closed), then Monday
    grid = fc[3:].reshape(7, 96)
    assert (fc[:3] == 0).all() and (grid[:2] == 0).all()
    assert (grid[2:6, : 7 * 4] == 0).all() and (grid[2:6, 21 * 4 :] == 0).all()
    assert grid[2, 10 * 4] > 0


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_contract_history_ending_mid_day(name: str) -> None:
    rec = synthetic(days=64)
    cut = len(rec) - 20  # the last day stops at 14:00
    rec = HistoryRecords(
        interval_start=rec.interval_start[:cut],
        offered=rec.offered[:cut],
        handle_time_seconds=rec.handle_time_seconds[:cut],
    )
    h = queue_history(rec)
    fc = make_model(name).forecast(h, 20 + 48)
    full = make_model(name).forecast(h.until(63), 2 * 48)
    # the first forecast interval is 14:00 of the last day, on the same time-of-day grid
    assert fc.shape == (68,)
    assert np.argmax(fc[20:]) == np.argmax(full[48:])


def test_make_forecaster_unknown() -> None:
    with pytest.raises(ValueError, match="unknown model 'arima'; expected one of"):
        make_forecaster("arima")
    with pytest.raises(ValueError, match="unknown candidate"):
        AutoForecaster(candidates=("arima",))


def test_seasonal_naive_repeats_last_week_and_fills_missing_days() -> None:
    rec = synthetic(days=28, seed=3, skip_days=[date(2025, 1, 28)])
    h = queue_history(rec)
    fc = SeasonalNaive().forecast(h, 2 * WEEK).reshape(14, 48)
    np.testing.assert_array_equal(fc[:7][[0, 2, 3, 4, 5, 6]], h.offered[-7:][[0, 2, 3, 4, 5, 6]])
    # Tuesday 28 Jan is missing: filled from the Tuesday before
    np.testing.assert_array_equal(fc[1], h.offered[-14 + 1])
    np.testing.assert_array_equal(fc[7:], fc[:7])


def test_profile_recovers_a_noise_free_pattern() -> None:
    h = queue_history(synthetic(days=70, noise=False, daily=4800))
    for level in ("median", "ets", "combined"):
        fc = ProfileForecaster(level=level).forecast(h, WEEK).reshape(7, 48)  # type: ignore[arg-type]
        np.testing.assert_allclose(fc, h.offered[-7:], atol=0.6)


@settings(max_examples=20, deadline=None)
@given(scale=st.floats(0.1, 50.0), seed=st.integers(0, 5))
def test_forecasts_scale_with_the_history(scale: float, seed: int) -> None:
    rec = synthetic(days=63, seed=seed)
    scaled = rec.model_copy(update={"offered": [v * scale for v in rec.offered if v is not None]})
    for name in MODELS:
        a = make_forecaster(name).forecast(queue_history(rec), WEEK)
        b = make_forecaster(name).forecast(queue_history(scaled), WEEK)
        np.testing.assert_allclose(b, a * scale, rtol=1e-6, atol=1e-9)


def test_special_days_are_learned_excluded_and_applied() -> None:
    # MLK day and Washington's Birthday 2025 at 20 % of a normal day; a US calendar knows them.
    special = {date(2025, 1, 20): 0.2, date(2025, 2, 17): 0.2}
    rec = synthetic(days=84, start=date(2025, 1, 6), special=special, seed=4)
    h = queue_history(rec)
    calendar = SpecialCalendar("US", adjacent_days=False)
    view = prepare_days(h, calendar)
    holiday = (date(2025, 2, 17) - h.first_day).days
    assert not view.normal[holiday]  # left out of training
    model = ProfileForecaster(calendar, level="median").fit(h)
    # by name (Washington's Birthday 2026 happened once before), else by kind, shrunk
    # toward 1 with half a day's weight: 0.2 ** (2 / 2.5)
    assert model.factors.factor(calendar.lookup(date(2026, 2, 16))) == pytest.approx(0.2, rel=0.1)
    memorial = calendar.lookup(date(2025, 5, 26))
    assert model.factors.factor(memorial) == pytest.approx(0.2**0.8, rel=0.1)
    # the Monday after the holiday is forecast as a normal Monday, untouched by the dip
    plain = ProfileForecaster(None, level="median").fit(h)
    assert plain.median_level[0] < model.median_level[0] * 1.01
    # Memorial Day in the future is forecast low
    days = np.array([(date(2025, 5, 26) - h.first_day).days])
    dates = h.dates(int(days[0]), 1)
    assert model.daily_totals(days, dates)[0] < 0.3 * model.daily_totals(days + 7, dates + 7)[0]


def test_user_special_date_with_and_without_factor() -> None:
    h = queue_history(synthetic(days=63, seed=5))
    day = h.first_day + timedelta(days=70)
    fixed = SpecialCalendar(special_dates=[SpecialDate(date=day, name="sale", factor=1.5)])
    learned = SpecialCalendar(special_dates=[day])
    days = np.array([70])
    dates = h.dates(70, 1)
    base = ProfileForecaster().fit(h).daily_totals(days, dates)[0]
    assert ProfileForecaster(fixed).fit(h).daily_totals(days, dates)[0] == pytest.approx(1.5 * base)
    assert ProfileForecaster(learned).fit(h).daily_totals(days, dates)[0] == pytest.approx(base)


def test_month_cycle_is_found_and_helps() -> None:
    rec = synthetic(days=168, month_amplitude=0.25, seed=6)
    h = queue_history(rec)
    view = prepare_days(h)
    cycle = fit_month_cycle(view.totals, view.normal, view.weekday, view.dates)
    f = cycle.factor(np.array(["2025-03-01", "2025-03-16"], dtype="datetime64[D]"))
    assert f[0] > 1.15 and f[1] < 0.85
    bt = BacktestSettings(max_origins=8)
    with_cycle = backtest(h, lambda: ProfileForecaster(level="median"), bt).metrics.wape
    without = backtest(
        h, lambda: ProfileForecaster(level="median", month_cycle=False), bt
    ).metrics.wape
    assert with_cycle is not None and without is not None and with_cycle < 0.9 * without


def test_month_cycle_needs_eight_weeks() -> None:
    view = prepare_days(queue_history(synthetic(days=40, month_amplitude=0.3)))
    cycle = fit_month_cycle(view.totals, view.normal, view.weekday, view.dates)
    assert cycle.coefficients.size == 0


def test_ets_tracks_a_level_shift() -> None:
    weekday = np.arange(120) % 7
    season = np.array([1.2, 1.0, 1.0, 1.0, 0.9, 0.5, 0.4])
    level = np.where(np.arange(120) < 90, 1000.0, 1300.0)
    fit = fit_ets(level * season[weekday], weekday)
    assert fit.alpha >= 0.1
    np.testing.assert_allclose(fit.forecast(np.arange(7)), 1300 * season, rtol=0.02)


def test_daily_helpers() -> None:
    values = np.arange(21 * 2, dtype=np.float64).reshape(21, 2)
    values[3] = np.nan
    normal = np.ones(21, dtype=np.bool_)
    normal[3] = normal[17] = False
    weekday = np.arange(21) % 7
    filled = fill_days(values, normal, weekday)
    np.testing.assert_array_equal(filled[3], values[10])  # nothing before: the next one
    np.testing.assert_array_equal(filled[17], values[10])  # the last one before
    np.testing.assert_array_equal(filled[normal], values[normal])
    totals = np.arange(28, dtype=np.float64)
    everyday = np.ones(28, dtype=np.bool_)
    ref = centred_reference(totals, everyday, np.arange(28) % 7, np.array([14]), 2)
    assert ref.tolist() == [7.0]  # median of days 0, 7 (before) and 21 (after)
    days = np.array(["2025-02-01", "2025-02-15", "2025-03-31"], dtype="datetime64[D]")
    np.testing.assert_allclose(month_phase(days), [0.0, 0.5, 30 / 31])
