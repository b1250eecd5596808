"""History input: the grid (missing days, gaps, closed hours and weekdays, time zones) and every
error a history can have."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest
from forecast_helpers import queue_history, synthetic
from pydantic import ValidationError

from forecast.history import HistoryError, HistoryRecords, build_histories


def records(
    starts: list[datetime],
    offered: list[float | None] | None = None,
    queue: list[str] | None = None,
    aht: list[float | None] | None = None,
    handled: list[float | None] | None = None,
) -> HistoryRecords:
    n = len(starts)
    return HistoryRecords(
        interval_start=starts,
        offered=offered if offered is not None else [1.0] * n,
        handle_time_seconds=aht if aht is not None else [100.0] * n,
        handled=handled,
        queue=queue,
    )


def day_rows(day: date, interval: int = 30, hours: tuple[int, int] = (0, 24)) -> list[datetime]:
    midnight = datetime.combine(day, datetime.min.time())
    return [midnight + timedelta(minutes=m) for m in range(hours[0] * 60, hours[1] * 60, interval)]


def issues(rec: HistoryRecords, tz: str | None = None) -> list[str]:
    with pytest.raises(HistoryError) as info:
        build_histories(rec, tz)
    return [str(i) for i in info.value.issues]


def test_grid_of_a_regular_history() -> None:
    h = queue_history(synthetic(days=14, interval=15))
    assert h.interval_minutes == 15 and h.slots_per_day == 96
    assert h.offered.shape == (14, 96) and h.first_day == date(2025, 1, 6)
    assert h.observed.all() and np.isfinite(h.offered).all()
    assert h.end == datetime(2025, 1, 20)
    assert h.known == 14 * 96
    assert h.has_handle_times


def test_missing_day_is_unknown_and_gap_rows_are_not_scored() -> None:
    rec = synthetic(days=21, skip_days=[date(2025, 1, 14)])
    offered = list(rec.offered)
    offered[5] = None  # a gap: the row is there, the count was lost
    rec = rec.model_copy(update={"offered": offered})
    h = queue_history(rec)
    missing = (date(2025, 1, 14) - h.first_day).days
    assert np.isnan(h.offered[missing]).all() and not h.has_rows[missing]
    assert np.isnan(h.offered[0, 5]) and not h.observed[0, 5]
    assert not h.complete_days()[0] and h.complete_days()[1]


def test_closed_hours_are_zero_and_closed_weekdays_detected() -> None:
    rec = synthetic(days=28, interval=15, open_hours=(7, 21), weekday_factor=(1, 1, 1, 1, 1, 0, 0))
    h = queue_history(rec)
    assert (h.offered[h.has_rows][:, : 7 * 4] == 0).all()
    assert not h.observed[:, : 7 * 4].any()
    assert h.closed_weekdays().tolist() == [False] * 5 + [True, True]
    # the last row is Friday 20:45: forecasts start right after it
    assert h.end == datetime(2025, 1, 31, 21, 0)


def test_partial_last_day_is_unknown_after_the_last_row() -> None:
    rec = synthetic(days=15)
    cut = len(rec) - 10
    rec = HistoryRecords(
        interval_start=rec.interval_start[:cut],
        offered=rec.offered[:cut],
        handle_time_seconds=rec.handle_time_seconds[:cut],
    )
    h = queue_history(rec)
    assert h.known == 15 * 48 - 10
    assert np.isnan(h.offered[-1, -10:]).all() and np.isfinite(h.offered[-1, :-10]).all()
    assert not h.complete_days()[-1]


def test_queues_are_split_and_keep_their_own_interval() -> None:
    a = day_rows(date(2025, 3, 3), 30)
    b = day_rows(date(2025, 3, 3), 15)
    rows = sorted([(t, "a") for t in a] + [(t, "b") for t in b])
    rec = records([t for t, _ in rows], queue=[q for _, q in rows])
    out = build_histories(rec)
    assert list(out) == ["a", "b"]
    assert out["a"].interval_minutes == 30 and out["b"].interval_minutes == 15


def test_handled_column_weights_handle_time_and_zero_aht_has_no_weight() -> None:
    starts = day_rows(date(2025, 3, 3))[:3]
    rec = records(starts, [10, 10, 10], aht=[100.0, 0.0, None], handled=[4, 5, 6])
    h = queue_history(rec)
    assert h.handled[0, :3].tolist() == [4, 0, 0]
    assert h.handle_total[0, :3].tolist() == [400, 0, 0]


def test_unsorted_and_duplicated_rows_are_named() -> None:
    starts = day_rows(date(2025, 3, 3))[:6]
    shuffled = [starts[0], starts[2], starts[1], starts[3], starts[3], starts[4]]
    found = issues(records(shuffled))
    assert any(m.startswith("row 2 column interval_start: earlier than") for m in found)
    assert any(m.startswith("row 4 column interval_start: duplicate") for m in found)


def test_mixed_interval_lengths_and_off_grid_rows() -> None:
    starts = day_rows(date(2025, 3, 3), 30)[:8]
    odd = [*starts[:4], starts[3] + timedelta(minutes=15), *starts[5:]]
    found = issues(records(odd))
    assert any("mixed interval lengths" in m and "15 min" in m for m in found)
    shifted = [t + timedelta(minutes=10) for t in starts]
    assert any("not on the 30-min grid" in m for m in issues(records(shifted)))


def test_unsupported_interval_and_single_row() -> None:
    starts = day_rows(date(2025, 3, 3), 45)[:5]
    assert any("45 min" in m and "not supported" in m for m in issues(records(starts)))
    assert any("one interval only" in m for m in issues(records(starts[:1])))


def test_negative_and_non_finite_counts_are_rejected_at_the_boundary() -> None:
    starts = day_rows(date(2025, 3, 3))[:3]
    with pytest.raises(ValidationError, match=r"row 1 column offered: expected a count >= 0"):
        records(starts, [1.0, -2.0, 3.0])
    with pytest.raises(ValidationError, match="handle_time_seconds"):
        records(starts, aht=[1.0, float("nan"), 3.0])
    with pytest.raises(ValidationError, match="one value per interval_start"):
        HistoryRecords(interval_start=starts, offered=[1.0], handle_time_seconds=[None] * 3)


def test_utc_offsets_need_a_time_zone_and_are_converted() -> None:
    utc = [datetime(2025, 3, 3, 6, 0, tzinfo=UTC) + timedelta(minutes=30 * i) for i in range(6)]
    assert any("has a UTC offset" in m for m in issues(records(utc)))
    h = queue_history(records(utc), "Europe/Berlin")
    assert h.start_of(int(np.flatnonzero(h.observed.ravel())[0])) == datetime(2025, 3, 3, 7, 0)
    mixed = [utc[0].replace(tzinfo=None), *utc[1:]]
    assert any("mixes times" in m for m in issues(records(mixed), "UTC"))


def test_daylight_saving_repeated_hour_is_added_up() -> None:
    # Europe/Berlin falls back at 03:00 on 2025-10-26: 02:00-03:00 happens twice.
    rows = [datetime(2025, 10, 26, 1, 0), datetime(2025, 10, 26, 1, 30)]
    rows += [datetime(2025, 10, 26, 2, 0), datetime(2025, 10, 26, 2, 30)] * 2
    rows += [datetime(2025, 10, 26, 3, 0), datetime(2025, 10, 26, 3, 30)]
    counts: list[float | None] = [1, 1, 2, 2, 3, 3, 1, 1]
    assert any("daylight-saving" in m for m in issues(records(rows, counts)))
    h = queue_history(records(rows, counts), "Europe/Berlin")
    assert h.offered[0, 4:6].tolist() == [5.0, 5.0]
    # the same instants given with their offsets convert to the same local grid
    aware = [
        datetime(2025, 10, 25, 23, 0, tzinfo=UTC) + timedelta(minutes=30 * i) for i in range(8)
    ]
    h2 = queue_history(records(aware, counts), "Europe/Berlin")
    assert h2.offered[0, 2:8].tolist() == [1.0, 1.0, 5.0, 5.0, 1.0, 1.0]


def test_local_time_that_does_not_exist_is_an_error() -> None:
    rows = [datetime(2025, 3, 30, 1, 30), datetime(2025, 3, 30, 2, 0), datetime(2025, 3, 30, 3, 0)]
    found = issues(records(rows), "Europe/Berlin")
    assert any("does not exist in Europe/Berlin" in m for m in found)


def test_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        build_histories(records(day_rows(date(2025, 3, 3))[:2]), "Mars/Base")


def test_fixed_offset_input_without_zone_name() -> None:
    tz = timezone(timedelta(hours=5, minutes=30))
    rows = [datetime(2025, 3, 3, 9, 0, tzinfo=tz) + timedelta(minutes=30 * i) for i in range(4)]
    h = queue_history(records(rows), "Asia/Kolkata")
    assert h.observed[0, 18:22].all()


def test_empty_history() -> None:
    with pytest.raises(HistoryError, match="no rows"):
        build_histories(records([]))


def test_until_cuts_at_midnight() -> None:
    h = queue_history(synthetic(days=21))
    past = h.until(14)
    assert past.days == 14 and past.known == 14 * 48 and past.end == datetime(2025, 1, 20)
    with pytest.raises(ValueError, match="day"):
        h.until(0)
