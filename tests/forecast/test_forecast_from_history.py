"""forecast_from_history: the pipeline's entry point, from history to staffing-ready forecasts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from forecast_helpers import synthetic

from forecast.calendar import SpecialDate
from forecast.from_history import aggregate, forecast_from_history, forecast_queues
from forecast.history import HistoryError, HistoryRecords, build_histories
from forecast.schema import IntervalForecast, StaffingTargets
from forecast.staffing import plan_channel


def two_queues() -> HistoryRecords:
    a = synthetic(days=63, seed=1)
    b = synthetic(days=63, seed=2, daily=300.0, aht=600.0)
    rows = sorted(
        [
            (t, "phone", v, h)
            for t, v, h in zip(a.interval_start, a.offered, a.handle_time_seconds, strict=True)
        ]
        + [
            (t, "chat", v, h)
            for t, v, h in zip(b.interval_start, b.offered, b.handle_time_seconds, strict=True)
        ]
    )
    return HistoryRecords(
        interval_start=[r[0] for r in rows],
        queue=[r[1] for r in rows],
        offered=[r[2] for r in rows],
        handle_time_seconds=[r[3] for r in rows],
    )


def test_one_forecast_per_queue_ready_for_staffing() -> None:
    out = forecast_from_history(two_queues(), date(2025, 3, 10), 7, method="combined")
    assert list(out) == ["chat", "phone"]
    for fc in out.values():
        assert isinstance(fc, IntervalForecast)
        assert len(fc.volume) == 7 * 48 and fc.interval_minutes == 30
        assert fc.interval_start[0] == datetime(2025, 3, 10)
        assert fc.interval_start[-1] == datetime(2025, 3, 16, 23, 30)
    assert sum(out["phone"].volume) > 2.5 * sum(out["chat"].volume)
    assert np.mean(out["chat"].aht_seconds) == pytest.approx(600, rel=0.05)
    plan = plan_channel(out["phone"], StaffingTargets(), "phone")
    assert max(plan.agents_required) > 0


def test_start_after_a_gap_and_coarser_interval() -> None:
    rec = synthetic(days=63, interval=15)
    out = forecast_queues(rec, datetime(2025, 3, 20), 2, interval_minutes=60, method="profile")
    q = out["default"]
    assert q.model == "profile" and q.history_end == datetime(2025, 3, 10)
    fc = q.forecast
    assert fc.interval_minutes == 60 and len(fc.volume) == 48
    fine = forecast_queues(rec, datetime(2025, 3, 20), 2, method="profile")["default"].forecast
    np.testing.assert_allclose(fc.volume, np.asarray(fine.volume).reshape(-1, 4).sum(axis=1))


def test_auto_reports_its_choice_and_scores() -> None:
    q = forecast_queues(synthetic(days=70), date(2025, 3, 17), 1)["default"]
    assert q.model.startswith("auto: ") and len(q.scores) == 4


def test_holidays_and_special_dates_reach_the_models() -> None:
    rec = synthetic(days=63)
    sale = SpecialDate(date=date(2025, 3, 12), name="sale", factor=2.0)
    plain = forecast_from_history(rec, date(2025, 3, 10), 7, method="profile")["default"]
    special = forecast_from_history(
        rec, date(2025, 3, 10), 7, method="profile", holidays_country="US", special_dates=[sale]
    )["default"]
    day = slice(2 * 48, 3 * 48)
    assert sum(special.volume[day]) == pytest.approx(2 * sum(plain.volume[day]), rel=0.01)


def test_time_zone_conversion_is_passed_through() -> None:
    rec = synthetic(days=63)  # winter: Europe/Berlin is UTC+1
    utc = rec.model_copy(
        update={
            "interval_start": [
                (t - timedelta(hours=1)).replace(tzinfo=UTC) for t in rec.interval_start
            ]
        }
    )
    local = forecast_from_history(rec, date(2025, 3, 10), 1, method="profile")["default"]
    converted = forecast_from_history(
        utc, date(2025, 3, 10), 1, method="profile", timezone="Europe/Berlin"
    )["default"]
    assert converted.volume == local.volume


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": date(2025, 3, 1)}, "start: .* is inside the history"),
        ({"start": datetime(2025, 3, 10, 0, 10)}, "not on the 30-min interval grid"),
        ({"interval_minutes": 15}, "interval_minutes: the history .* has 30-min intervals"),
        ({"interval_minutes": 45}, "not 45"),
        ({"days": 0}, "days: expected 1..366"),
        ({"method": "arima"}, "unknown model 'arima'"),
        ({"holidays_country": "XX"}, "unknown holiday country"),
        ({"timezone": "Nowhere/City"}, "unknown time zone"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"start": date(2025, 3, 10), "days": 7, "method": "profile"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        forecast_from_history(synthetic(days=63), **args)  # type: ignore[arg-type]


def test_broken_history_raises_history_error() -> None:
    rec = synthetic(days=14)
    rec = rec.model_copy(update={"interval_start": list(reversed(rec.interval_start))})
    with pytest.raises(HistoryError, match="time order"):
        forecast_from_history(rec, date(2025, 3, 10), 7)


def test_precomputed_histories_are_accepted() -> None:
    histories = build_histories(synthetic(days=63))
    out = forecast_from_history(histories, date(2025, 3, 10), 1, method="seasonal_naive")
    assert len(out["default"].volume) == 48


def test_aggregate_weights_handle_time_by_volume() -> None:
    v, h = aggregate(np.array([1.0, 3.0, 0.0, 0.0]), np.array([100.0, 200.0, 50.0, 70.0]), 2)
    np.testing.assert_allclose(v, [4.0, 0.0])
    np.testing.assert_allclose(h, [175.0, 60.0])
