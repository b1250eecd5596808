"""Special days: public holidays from the ``holidays`` package plus the user's own special dates.

Special days are left out of the training profiles (treated like missing days) and forecast as a
normal day times a factor of their own: the user's factor if given, otherwise one learned from the
history (by name if that special day occurred before, else by kind), see ``forecast.models``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import holidays
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_CATEGORIES",
    "SpecialCalendar",
    "SpecialDate",
    "SpecialDay",
    "SpecialKind",
    "supported_countries",
]

DEFAULT_CATEGORIES = ("public", "optional")
"""Holiday categories used when none are given (each country's supported subset of these)."""


class SpecialKind(StrEnum):
    """Why a day is special; factors are learned per kind when a name has no history."""

    holiday = "holiday"
    observance = "observance"
    eve = "eve"
    after = "after"
    user = "user"


class SpecialDate(BaseModel):
    """A special date given by the user (a sale, a mailing, an outage, a local holiday)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: dt.date = Field(description="The local date")
    name: str = Field(
        "special day",
        min_length=1,
        description="Name; dates with the same name share a factor learned from the history",
    )
    factor: float | None = Field(
        None,
        gt=0.0,
        description="Volume relative to a normal day of the same weekday (0.5: half); "
        "None: learned from the history",
    )


@dataclass(frozen=True)
class SpecialDay:
    """What the calendar knows about one date."""

    kind: SpecialKind
    name: str
    factor: float | None = None


@cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """ISO country codes of the ``holidays`` package and their subdivisions (regions)."""
    return {k: tuple(v) for k, v in holidays.list_supported_countries().items()}


class SpecialCalendar:
    """Holidays of one country (and region) plus user dates; answers for any date.

    Raises ValueError with a readable message for an unknown country, region or category.
    """

    def __init__(
        self,
        country: str | None = None,
        region: str | None = None,
        special_dates: Iterable[SpecialDate | dt.date] = (),
        categories: Sequence[str] | None = None,
        adjacent_days: bool = True,
    ) -> None:
        self.country = None if country is None else country.upper()
        self.region = region
        self.adjacent_days = adjacent_days
        self._user: dict[dt.date, SpecialDay] = {}
        self._cache: dict[dt.date, SpecialDay | None] = {}
        for item in special_dates:
            sd = item if isinstance(item, SpecialDate) else SpecialDate(date=item)
            self._user[sd.date] = SpecialDay(SpecialKind.user, sd.name, sd.factor)
        self._tables: list[tuple[SpecialKind, holidays.HolidayBase]] = []
        if self.country is None:
            if region is not None:
                raise ValueError("region: give the country too (e.g. --holidays US --region CA)")
            return
        countries = supported_countries()
        if self.country not in countries:
            raise ValueError(
                f"unknown holiday country {country!r}; expected an ISO 3166 code such as "
                "US, GB, DE, IL, FR, IN"
            )
        if region is not None and region not in countries[self.country]:
            known = ", ".join(countries[self.country][:12]) or "none"
            raise ValueError(
                f"unknown region {region!r} of {self.country}; known: {known}"
                + (" ..." if len(countries[self.country]) > 12 else "")
            )
        base = holidays.country_holidays(self.country, subdiv=region)
        supported = set(getattr(type(base), "supported_categories", ("public",)))
        wanted = DEFAULT_CATEGORIES if categories is None else tuple(categories)
        unknown = [c for c in wanted if c not in supported]
        if categories is not None and unknown:
            raise ValueError(
                f"holiday categories {', '.join(unknown)} not available for {self.country}; "
                f"available: {', '.join(sorted(supported))}"
            )
        for category in wanted:
            if category in supported:
                kind = SpecialKind.holiday if category == "public" else SpecialKind.observance
                table = holidays.country_holidays(
                    self.country, subdiv=region, categories=(category,)
                )
                self._tables.append((kind, table))

    @property
    def empty(self) -> bool:
        return not self._tables and not self._user

    def lookup(self, day: dt.date) -> SpecialDay | None:
        """The special day on ``day``: a user date first, then a holiday, an observance, and
        (with ``adjacent_days``) the eve or the day after a public holiday."""
        if day not in self._cache:
            self._cache[day] = self._find(day)
        return self._cache[day]

    def _find(self, day: dt.date) -> SpecialDay | None:
        if day in self._user:
            return self._user[day]
        for kind, table in self._tables:
            name = table.get(day)
            if name is not None:
                return SpecialDay(kind, str(name))
        if self.adjacent_days:
            one = dt.timedelta(days=1)
            for kind, table in self._tables:
                if kind is not SpecialKind.holiday:
                    continue
                name = table.get(day + one)
                if name is not None:
                    return SpecialDay(SpecialKind.eve, f"eve of {name}")
                name = table.get(day - one)
                if name is not None:
                    return SpecialDay(SpecialKind.after, f"after {name}")
        return None

    def lookup_many(self, days: Sequence[dt.date]) -> list[SpecialDay | None]:
        return [self.lookup(d) for d in days]

    def describe(self) -> str:
        parts = []
        if self.country:
            parts.append(self.country + (f"-{self.region}" if self.region else ""))
        if self._user:
            parts.append(f"{len(self._user)} user date(s)")
        return ", ".join(parts) or "none"
