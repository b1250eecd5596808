"""Special days: holidays by country and region, user dates, eves and days after, bad input."""

from __future__ import annotations

from datetime import date

import pytest

from forecast.calendar import SpecialCalendar, SpecialDate, SpecialKind


def test_public_holidays_and_observances() -> None:
    il = SpecialCalendar("IL")
    assert il.lookup(date(1999, 9, 20)) is not None
    assert il.lookup(date(1999, 9, 20)).kind is SpecialKind.holiday  # type: ignore[union-attr]
    chol_hamoed = il.lookup(date(1999, 9, 27))
    assert chol_hamoed is not None and chol_hamoed.kind is SpecialKind.observance
    assert il.lookup(date(1999, 6, 15)) is None
    us = SpecialCalendar("us")  # case-insensitive
    assert us.lookup(date(2003, 7, 4)) is not None and us.describe() == "US"


def test_eve_and_day_after_a_public_holiday() -> None:
    us = SpecialCalendar("US")
    eve, after = us.lookup(date(2003, 7, 3)), us.lookup(date(2003, 9, 2))
    assert eve is not None and eve.kind is SpecialKind.eve and eve.name == "eve of Independence Day"
    assert after is not None and after.kind is SpecialKind.after
    assert SpecialCalendar("US", adjacent_days=False).lookup(date(2003, 7, 3)) is None


def test_region_adds_its_holidays() -> None:
    # Assumption Day (15 Aug) is a public holiday in Saarland, not in Berlin
    assert SpecialCalendar("DE", "SL", categories=("public",)).lookup(date(2024, 8, 15))
    assert SpecialCalendar("DE", "BE", categories=("public",)).lookup(date(2024, 8, 15)) is None


def test_user_dates_come_first_and_carry_factors() -> None:
    cal = SpecialCalendar(
        "US",
        special_dates=[SpecialDate(date=date(2003, 7, 4), name="fireworks", factor=0.3)],
    )
    day = cal.lookup(date(2003, 7, 4))
    assert day is not None and day.kind is SpecialKind.user and day.factor == 0.3
    plain = SpecialCalendar(special_dates=[date(2026, 11, 27)])
    assert plain.lookup(date(2026, 11, 27)) is not None and not plain.empty
    assert SpecialCalendar().empty and SpecialCalendar().describe() == "none"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"country": "XX"}, "unknown holiday country 'XX'"),
        ({"country": "US", "region": "ZZ"}, "unknown region 'ZZ' of US"),
        ({"region": "CA"}, "give the country too"),
        ({"country": "US", "categories": ("optional",)}, "not available for US"),
    ],
)
def test_bad_calendar_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpecialCalendar(**kwargs)  # type: ignore[arg-type]


def test_special_date_validation() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        SpecialDate(date=date(2026, 1, 1), factor=0)
