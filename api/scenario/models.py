"""Scenario files -> a typed, checked ``Scenario`` (the contract is shared/scenario-format.md).

``load_scenario(path)`` reads the YAML (following ``extends:``), reads the CSV files it names
(agents, leave, pinned assignments), validates everything into pydantic models with unknown keys
forbidden, and cross-checks the references (agents' contracts and skills, leave of known agents,
break windows inside shifts ...). Every problem found is reported at once, each located by file
and line and, for YAML, the key path: ``scenarios/base.yaml:42 channels[phone].demand: ...``.
Nothing downstream reads raw dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.scenario.timewin import (
    DAY,
    WEEKDAYS,
    WindowError,
    parse_clock,
    parse_weekdays,
    parse_window,
)
from api.scenario.yamlsrc import Tree
from common.enums import ChannelKind, LeaveKind, LeaveStatus
from forecast.calendar import SpecialCalendar, SpecialKind
from solver.rule_ids import SOFT_RULES

__all__ = [
    "SOFT_RULES",
    "AgentSpec",
    "ChannelSpec",
    "ContractSpec",
    "LeaveSpec",
    "LoadedScenario",
    "PinnedSpec",
    "Scenario",
    "ShiftTypeSpec",
    "window_mask",
]

AGENT_COLUMNS = ("id", "name", "team", "contract", "skills", "roles")
AGENT_OPTIONAL = ("preferred_shift_types", "unavailable_days", "night_shifts")
LEAVE_COLUMNS = ("agent_id", "start", "end", "kind", "status")
LEAVE_OPTIONAL = ("weight",)
PINNED_COLUMNS = ("agent_id", "date", "shift_type")
PINNED_OPTIONAL = ("start", "length_minutes")
_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --------------------------------------------------------------------------- field types
def _clock(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f'expected a time of day like "08:30" in quotes, got the number {value}')
    try:
        minutes = parse_clock(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Clock = Annotated[str, BeforeValidator(_clock)]
"""A time of day 'HH:MM', normalised."""


def _ident(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and not _IDENT.match(value):
        raise ValueError(
            f"expected an id of letters, digits, '_', '-' or '.' (no spaces), got {value!r}"
        )
    return value


Ident = Annotated[str, BeforeValidator(_ident)]


def _split_list(value: object) -> object:
    """'a;b' (a CSV cell) or a YAML list -> a list of stripped words."""
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(";") if p.strip()]
    return value


WordList = Annotated[list[str], BeforeValidator(_split_list)]


def _window(value: object) -> object:
    try:
        parse_window(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None
    return value


WindowSpec = Annotated[str | dict[str, str], BeforeValidator(_window)]

WHEN_WORDS = ("open", "always", "any_channel_open")


def _when(value: object) -> object:
    if isinstance(value, str) and (
        value.strip() in WHEN_WORDS or value.strip().startswith("open:")
    ):
        return value.strip()
    try:
        parse_window(value)
    except WindowError as exc:
        raise ValueError(
            f"expected {', '.join(WHEN_WORDS)}, open:CHANNEL or a window like "
            f'"mon-fri 09:00-18:00" ({exc})'
        ) from None
    return value


WhenSpec = Annotated[str | dict[str, str], BeforeValidator(_when)]


def _date_or_datetime(value: object) -> object:
    """Dates are whole days; date-times are part-day (a CSV cell, or YAML's own types)."""
    if isinstance(value, (date, datetime)):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"expected a date 2026-12-07 or a date-time 2026-12-07T08:15, got {value!r}"
        )
    text = value.strip()
    try:
        if "T" in text or " " in text:
            dt = datetime.fromisoformat(text)
            if dt.tzinfo is not None:
                raise ValueError(f"expected a local time without a UTC offset, got {text!r}")
            return dt
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected a date 2026-12-07 or a local date-time 2026-12-07T08:15, got {text!r}"
        ) from None


DateOrTime = Annotated[date | datetime, BeforeValidator(_date_or_datetime)]


def _bool_cell(value: object) -> object:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        t = value.strip().lower()
        if t in ("true", "yes", "1"):
            return True
        if t in ("false", "no", "0"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    return value


OptBool = Annotated[bool | None, BeforeValidator(_bool_cell)]


def _none_if_empty(value: object) -> object:
    return None if value == "" else value


# --------------------------------------------------------------------------- models
_Date = date


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicHolidays(_Spec):
    """The horizon's public holidays (for the holiday fairness rule): a country's, and the
    centre's own dates; dates outside the horizon are ignored."""

    country: str | None = Field(
        None, description="ISO code of the country whose public holidays count (US, GB, DE ...)"
    )
    region: str | None = Field(None, description="Region of that country, e.g. CA")
    dates: list[date] = Field(default_factory=list, description="Further holiday dates")

    @model_validator(mode="after")
    def _known(self) -> Self:
        if self.region is not None and self.country is None:
            raise ValueError("region needs the country too (e.g. country: US, region: CA)")
        # the calendar says what is wrong with an unknown country or region, in words
        SpecialCalendar(self.country, self.region)
        return self

    def days_in(self, start: date, days: int) -> tuple[int, ...]:
        """The horizon's days (0-based) that are public holidays."""
        cal = SpecialCalendar(self.country, self.region, adjacent_days=False)
        own = set(self.dates)
        out = []
        for d in range(days):
            day = start + timedelta(days=d)
            found = cal.lookup(day)
            if day in own or (found is not None and found.kind is SpecialKind.holiday):
                out.append(d)
        return tuple(out)


class Horizon(_Spec):
    """The planned period: whole days of local time from ``start``."""

    start: date = Field(description="First day (any weekday), a local date like 2026-12-07")
    days: int = Field(7, ge=1, le=62, description="Number of days, 1..62")
    interval_minutes: Literal[5, 10, 15, 30, 60] = Field(
        15, description="Planning interval (slot) length: 5, 10, 15, 30 or 60 minutes"
    )
    timezone: str = Field(
        "UTC",
        description="IANA time zone; every time in the files is local wall-clock time in it "
        "(daylight-saving changes are not modelled: every day has 24 h of intervals)",
    )
    public_holidays: PublicHolidays | None = Field(
        None,
        description="Public holidays in the horizon: {country, region, dates}; shifts on them "
        "are spread fairly across agents (fairness.holiday)",
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r}; expected an IANA name like Europe/Berlin or UTC"
            ) from None
        return v


class ServiceLevel(_Spec):
    """Share of contacts answered within a threshold (voice and chat)."""

    target: float = Field(0.8, gt=0, le=1, description="Share in (0, 1], e.g. 0.80")
    answer_seconds: float = Field(20.0, ge=0, description="Answer-time threshold, seconds")


class DemandSpec(_Spec):
    """Where a channel's volume and handle time come from: exactly one of forecast_file and
    history_file."""

    forecast_file: Path | None = Field(
        None, description="CSV interval_start,volume,aht_seconds[,channel]"
    )
    history_file: Path | None = Field(
        None,
        description="CSV interval_start,offered,handle_time_seconds[,queue][,handled]: "
        "forecast first",
    )
    queue: str | None = Field(
        None,
        description="The channel or queue of a file that holds several (default: the channel id)",
    )
    method: str = Field("auto", description="Forecast model when history_file is given")
    holidays: str | None = Field(
        None, description="Country of public holidays for the forecast (ISO code, e.g. US)"
    )
    holidays_region: str | None = Field(None, description="Region of that country, e.g. CA")
    volume_scale: float = Field(1.0, ge=0, description="What-if multiplier on volume")
    aht_scale: float = Field(1.0, gt=0, description="What-if multiplier on handle time")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.forecast_file is None) == (self.history_file is None):
            raise ValueError("give exactly one of forecast_file and history_file")
        return self


class ChannelSpec(_Spec):
    """A channel: how contacts arrive, when it is open, and its service target."""

    id: Ident = Field(description="Channel id, used in skills, floors and reports")
    kind: ChannelKind = Field(ChannelKind.voice, description="voice | chat | deferred")
    open: WindowSpec = Field(
        "24x7",
        description='Open hours: "24x7", or {mon-fri: "08:00-22:00", sat-sun: "09:00-18:00"}; '
        "for deferred channels the hours items arrive",
    )
    work_hours: WindowSpec | None = Field(
        None,
        description="Deferred channels: hours agents may work the channel (default: open); "
        "items arriving outside them fall under overnight_deadline",
    )
    demand: DemandSpec = Field(description="Volume and handle time (forecast or history file)")
    service_level: ServiceLevel | None = Field(
        None, description="Voice and chat (default target 0.80 in 20 s); not for deferred"
    )
    max_occupancy: float = Field(1.0, gt=0, le=1, description="Occupancy cap (1.0: no cap)")
    max_asa_seconds: float | None = Field(None, gt=0, description="Cap on ASA, seconds")
    patience_seconds: float | None = Field(
        None, gt=0, description="Mean patience: Erlang A (abandonment) instead of Erlang C"
    )
    concurrency: int = Field(1, ge=1, le=20, description="Chats one agent holds at once (chat)")
    deadline_minutes: float | None = Field(
        None, gt=0, description="Deferred: each item handled within this many minutes"
    )
    overnight_deadline: Clock | None = Field(
        None,
        description="Deferred: items arriving while nobody may work are due by this time of day",
    )
    shrinkage: float | None = Field(
        None, ge=0, lt=1, description="Overrides the scenario's shrinkage for this channel"
    )


class MinStaffSpec(_Spec):
    """A hard floor of agents on a channel, independent of demand."""

    channel: str = Field(description="Channel id")
    count: int = Field(ge=1, description="Agents working the channel, at least")
    when: WhenSpec = Field(
        "open",
        description='"open" (the channel\'s open hours), "always", or a window like '
        '"mon-fri 09:00-18:00"',
    )


class RoleCoverageSpec(_Spec):
    """Someone with this role on duty (working, not on break) whenever ``when`` holds."""

    role: str = Field(description="A role agents hold (agents.csv roles)")
    count: int = Field(1, ge=1, description="Agents with the role on duty, at least")
    when: WhenSpec = Field(
        "any_channel_open",
        description='"any_channel_open", "always", "open:CHANNEL", or a window like '
        '"mon-fri 09:00-18:00"',
    )
    label: str | None = Field(None, description="Words for reports (default: from when)")


class StartSpec(_Spec):
    earliest: Clock = Field(description="Earliest start, HH:MM")
    latest: Clock | None = Field(None, description="Latest start, HH:MM (default: earliest)")
    step_minutes: int = Field(30, gt=0, description="Minutes between allowed starts")


class LengthSpec(_Spec):
    min: int = Field(gt=0, description="Shortest length, minutes (paid + unpaid)")
    max: int = Field(gt=0, description="Longest length, minutes")
    step_minutes: int = Field(30, gt=0, description="Minutes between allowed lengths")


class BreakSpec(_Spec):
    """A break whose placement the solver chooses inside its window."""

    name: Ident = Field(description="Break name, e.g. break_am, lunch")
    minutes: int = Field(gt=0, description="Length of the break")
    earliest: int = Field(ge=0, description="Window start, minutes after the shift start")
    latest: int = Field(
        gt=0,
        description="Window end, minutes after the shift start: the whole "
        "break lies inside [earliest, latest]",
    )
    paid: bool = Field(True, description="Paid breaks count toward paid hours")
    lunch: bool | None = Field(
        None, description="Shown as lunch (default: unpaid, or named lunch/meal)"
    )

    @property
    def is_lunch(self) -> bool:
        if self.lunch is not None:
            return self.lunch
        return not self.paid or any(w in self.name.lower() for w in ("lunch", "meal"))


class ShiftTypeSpec(_Spec):
    """A family of shifts: start window, lengths, weekdays, briefing and breaks."""

    id: Ident = Field(description="Shift type id")
    start: StartSpec = Field(description="Start window: {earliest, latest, step_minutes}")
    length_minutes: int | LengthSpec = Field(
        description="Length (paid + unpaid), or {min, max, step_minutes}"
    )
    days: WordList = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="Weekdays it may start on: [mon, tue, ...] or ranges like mon-fri",
    )
    briefing_minutes: int = Field(
        0, ge=0, description="Pre-shift briefing: paid, not available for contacts"
    )
    breaks: list[BreakSpec] = Field(default_factory=list, description="Breaks, in order")

    @property
    def length_range(self) -> tuple[int, int, int]:
        if isinstance(self.length_minutes, int):
            return self.length_minutes, self.length_minutes, 30
        return self.length_minutes.min, self.length_minutes.max, self.length_minutes.step_minutes

    @property
    def weekdays(self) -> tuple[int, ...]:
        out: set[int] = set()
        for d in self.days:
            out.update(parse_weekdays(d))
        return tuple(sorted(out))


class RulesSpec(_Spec):
    """Working-time rules for every agent (contracts may override rest and consecutive days)."""

    min_rest_hours: float = Field(11.0, ge=0, description="Rest between two shifts, hours")
    max_consecutive_days: int = Field(6, ge=1, description="Working days in a row, at most")
    max_on_break_share: float = Field(
        1.0, gt=0, le=1, description="Share of a channel's on-shift staff on break at once"
    )
    night_start: Clock = Field("00:00", description="Start of the night window")
    night_end: Clock = Field("06:00", description="End of the night window")
    night_min_hours: float = Field(
        3.0, ge=0, description="Hours inside the night window that make a shift a night shift"
    )
    late_end_after: Clock = Field("20:00", description="A shift ending after this is a late one")


class HoursSpec(_Spec):
    min: float = Field(0.0, ge=0, description="Paid hours per week, at least")
    max: float = Field(168.0, gt=0, description="Paid hours per week, at most")


class DaysOffSpec(_Spec):
    per_week: int | None = Field(None, ge=0, le=7, description="Days off in each week")
    per_month: int | None = Field(
        None, ge=0, le=31, description="Days off per 30 days (prorated over the horizon)"
    )
    consecutive_preferred: bool = Field(
        False, description="Penalise isolated days off (objective consecutive_days_off)"
    )

    @model_validator(mode="after")
    def _one(self) -> Self:
        if self.per_week is not None and self.per_month is not None:
            raise ValueError("give per_week or per_month, not both")
        return self


class ContractSpec(_Spec):
    """Working-time terms shared by agents."""

    id: Ident = Field(description="Contract id (agents.csv contract)")
    hours_per_week: HoursSpec = Field(default_factory=HoursSpec, description="{min, max} paid h")
    days_off: DaysOffSpec = Field(
        default_factory=DaysOffSpec, description="{per_week} or {per_month}, consecutive_preferred"
    )
    shift_types: list[str] | None = Field(None, description="Allowed shift types (default: all)")
    night_shifts: bool = Field(True, description="May work night shifts")
    min_rest_hours: float | None = Field(None, ge=0, description="Overrides rules.min_rest_hours")
    max_consecutive_days: int | None = Field(
        None, ge=1, description="Overrides rules.max_consecutive_days"
    )

    @model_validator(mode="after")
    def _hours(self) -> Self:
        if self.hours_per_week.max < self.hours_per_week.min:
            raise ValueError(
                f"hours_per_week: max ({self.hours_per_week.max:g}) is below min "
                f"({self.hours_per_week.min:g})"
            )
        return self


class AgentSpec(_Spec):
    """An agent (a row of agents.csv or an inline item)."""

    id: Ident = Field(description="Agent id (letters, digits, _ - .)")
    name: str = Field("", description="Display name")
    team: str = Field("", description="Team, for reports")
    contract: str = Field(description="Contract id")
    skills: WordList = Field(
        min_length=1, description="Channels, primary first; 'phone:2;chat' in a CSV cell"
    )
    roles: WordList = Field(default_factory=list, description="Roles, e.g. team_lead")
    preferred_shift_types: WordList = Field(
        default_factory=list, description="Preferred shift types (soft)"
    )
    unavailable_days: WordList = Field(
        default_factory=list, description="Weekdays the agent never works, e.g. sun"
    )
    night_shifts: OptBool = Field(None, description="Overrides the contract's night_shifts")

    @field_validator("name", "team", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return "" if v is None else v

    @property
    def skill_ids(self) -> tuple[str, ...]:
        return tuple(s.partition(":")[0].strip() for s in self.skills)

    @property
    def skill_levels(self) -> tuple[int, ...]:
        out = []
        for s in self.skills:
            _, _, level = s.partition(":")
            out.append(int(level) if level.strip().isdigit() else 1)
        return tuple(out)


class LeaveSpec(_Spec):
    """Leave of one agent: whole days (dates, inclusive) or part of a day (date-times)."""

    agent_id: str = Field(description="Agent id")
    start: DateOrTime = Field(description="First day, or start date-time (part-day)")
    end: DateOrTime = Field(description="Last day (inclusive), or end date-time (part-day)")
    kind: LeaveKind = Field(
        description="annual, sick, training, meeting, unpaid, day_off_request or other"
    )
    status: LeaveStatus = Field(description="approved (hard) or requested (soft, decided)")
    weight: Annotated[float, BeforeValidator(_none_if_empty)] = Field(
        1.0, ge=0, description="Multiplies the refused-request penalty"
    )

    @property
    def whole_days(self) -> bool:
        return not isinstance(self.start, datetime)


class PinnedSpec(_Spec):
    """An assignment the solver must keep."""

    agent_id: str = Field(description="Agent id")
    date: _Date = Field(description="Day the shift starts")
    shift_type: str = Field(description="Shift type id")
    start: Annotated[Clock | None, BeforeValidator(_none_if_empty)] = Field(
        None, description="Start time HH:MM (default: any allowed)"
    )
    length_minutes: Annotated[int | None, BeforeValidator(_none_if_empty)] = Field(
        None, gt=0, description="Length (default: any allowed)"
    )


class ObjectiveSpec(_Spec):
    """Weights of the soft rules; all >= 0 (0 switches a rule off)."""

    under_cover: float = Field(10.0, ge=0, description="Per agent-interval short of requirement")
    over_cover: float = Field(1.0, ge=0, description="Per agent-interval above requirement")
    leave_request_denied: float = Field(20.0, ge=0, description="Per requested day not granted")
    preference: float = Field(1.0, ge=0, description="Per shift not of a preferred type")
    fairness: float = Field(5.0, ge=0, description="Per unit of spread of weekends/nights/lates")
    deferred_late: float = Field(
        10.0, ge=0, description="Per agent-interval of deferred work overdue, per interval"
    )
    consecutive_days_off: float = Field(
        1.0, ge=0, description="Per isolated day off (contracts with consecutive_preferred)"
    )
    change: float = Field(
        50.0, ge=0, description="wfm replan: per published shift or day off changed"
    )


class SolverSpec(_Spec):
    time_limit_seconds: float = Field(60.0, gt=0, description="Wall-clock limit of the solve")
    workers: int = Field(2, ge=1, le=64, description="CP-SAT search workers (cores)")
    seed: int = Field(0, ge=0, description="Random seed (pinned)")
    relative_gap: float = Field(0.0, ge=0, le=1, description="Stop when within this gap")
    deterministic: bool = Field(
        False,
        description="Reproducible search: the same scenario and seed give the same roster "
        "(limits in CP-SAT's deterministic time; slower to a good roster in short limits)",
    )
    week_at_a_time: bool | None = Field(
        None,
        description="Horizons of two weeks or more: solve a week at a time, then refine the "
        "whole (true), one plan for the whole horizon (false), or a week at a time when each "
        "week gets 40 s or more of the limit (unset)",
    )


class Scenario(_Spec):
    """A whole scenario, CSV files read in."""

    name: str = Field(min_length=1, description="Scenario name, used in reports")
    description: str = Field("", description="Free text")
    horizon: Horizon = Field(description="start, days, interval_minutes, timezone")
    channels: list[ChannelSpec] = Field(min_length=1, description="At least one channel")
    shrinkage: float = Field(
        0.0, ge=0, lt=1, description="Share of paid time lost to unplanned absence etc."
    )
    min_staff: list[MinStaffSpec] = Field(default_factory=list, description="Hard floors")
    role_coverage: list[RoleCoverageSpec] = Field(default_factory=list, description="Roles on duty")
    shift_types: list[ShiftTypeSpec] = Field(min_length=1, description="At least one")
    rules: RulesSpec = Field(default_factory=RulesSpec, description="Working-time rules")
    contracts: list[ContractSpec] = Field(min_length=1, description="At least one")
    agents: list[AgentSpec] = Field(
        min_length=1, description="agents.csv (path) or an inline list; at least one agent"
    )
    leave: list[LeaveSpec] = Field(default_factory=list, description="leave.csv or a list")
    pinned: list[PinnedSpec] = Field(default_factory=list, description="pinned.csv or a list")
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec, description="Weights")
    solver: SolverSpec = Field(default_factory=SolverSpec, description="Search settings")
    disabled_rules: list[str] = Field(
        default_factory=list, description=f"Soft rules switched off: {', '.join(SOFT_RULES)}"
    )

    @property
    def slots_per_day(self) -> int:
        return DAY // self.horizon.interval_minutes

    @property
    def n_slots(self) -> int:
        return self.horizon.days * self.slots_per_day

    def channel(self, channel_id: str) -> ChannelSpec:
        return next(c for c in self.channels if c.id == channel_id)

    def slot_time(self, slot: int) -> datetime:
        """Local start of a slot."""
        start = datetime.combine(self.horizon.start, datetime.min.time())
        return start + timedelta(minutes=slot * self.horizon.interval_minutes)

    def minute_time(self, minute: int) -> datetime:
        return datetime.combine(self.horizon.start, datetime.min.time()) + timedelta(minutes=minute)

    def minute_of(self, when: datetime) -> int:
        """Minutes from the horizon start to a local date-time (``minute_time``'s inverse)."""
        start = datetime.combine(self.horizon.start, datetime.min.time())
        return round((when - start).total_seconds() / 60)


@dataclass(frozen=True)
class LoadedScenario:
    """A checked scenario, its source tree (for locating later problems) and its files."""

    scenario: Scenario
    tree: Tree
    files: tuple[Path, ...]

    @property
    def path(self) -> Path:
        return self.tree.path

    def where(self, *loc: str | int) -> str:
        return self.tree.where(tuple(loc))


def window_mask(value: str | dict[str, str], scenario: Scenario) -> tuple[bool, ...]:
    """A window (already validated) as one value per slot of the horizon."""
    h = scenario.horizon
    return parse_window(value).mask(h.start.weekday(), h.days, h.interval_minutes)
