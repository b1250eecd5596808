"""Scenario files -> a typed, checked ``Scenario`` (the contract is shared/scenario-format.md).

``load_scenario(path)`` reads the YAML (following ``extends:``), reads the CSV files it names
(agents, leave, pinned assignments), validates everything into pydantic models with unknown keys
forbidden, and cross-checks the references (agents' contracts and skills, leave of known agents,
break windows inside shifts ...). Every problem found is reported at once, each located by file
and line and, for YAML, the key path: ``scenarios/base.yaml:42 channels[phone].demand: ...``.
Nothing downstream reads raw dicts.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from api.csvio import read_rows
from api.errors import InputError, Problem
from api.timewin import (
    DAY,
    WEEKDAYS,
    WindowError,
    parse_clock,
    parse_weekdays,
    parse_window,
)
from api.yamlsrc import Node, Tree, display_path, load_tree

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
    "check_scenario",
    "load_scenario",
    "window_mask",
]

SOFT_RULES = (
    "coverage.under",
    "coverage.over",
    "deferred.late",
    "leave.request_denied",
    "preference.shift_type",
    "days_off.consecutive",
    "fairness.weekend",
    "fairness.night",
    "fairness.late",
)
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


class ChannelKind(StrEnum):
    voice = "voice"
    chat = "chat"
    deferred = "deferred"


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


class LeaveKind(StrEnum):
    annual = "annual"
    sick = "sick"
    training = "training"
    meeting = "meeting"
    unpaid = "unpaid"
    day_off_request = "day_off_request"
    other = "other"


class LeaveStatus(StrEnum):
    approved = "approved"
    requested = "requested"


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


# --------------------------------------------------------------------------- loading
_FILE_KEYS = {
    "agents": (AGENT_COLUMNS, AGENT_OPTIONAL),
    "leave": (LEAVE_COLUMNS, LEAVE_OPTIONAL),
    "pinned": (PINNED_COLUMNS, PINNED_OPTIONAL),
}


def _csv_node(path: Path, columns: tuple[str, ...], optional: tuple[str, ...]) -> Node:
    rows = read_rows(path, columns, optional)
    items = []
    for row in rows:
        cells = {
            k: Node(v, path, row.line, csv=True)
            for k, v in row.cells.items()
            if not k.startswith("x_") and not (k in optional and v == "")
        }
        items.append(Node(cells, path, row.line, csv=True))
    return Node(items, path, 1, csv=True)


def _resolve_files(tree: Tree, problems: list[Problem]) -> list[Path]:
    """Read the CSV files the scenario names; make demand paths absolute (relative to the file
    that names them)."""
    files: list[Path] = []
    root = tree.root.value
    for key, (cols, optional) in _FILE_KEYS.items():
        node = root.get(key)
        if node is None or not isinstance(node.value, str):
            continue
        path = node.file.parent / node.value
        try:
            root[key] = _csv_node(path, cols, optional)
            files.append(path)
        except InputError as exc:
            for p in exc.problems:
                if p.where == str(path) and p.message == "file not found":
                    problems.append(
                        Problem(f"{node.where} {key}", f"file not found: {display_path(path)}")
                    )
                else:
                    problems.append(Problem(_relative_where(p.where, path), p.message))
    channels = root.get("channels")
    if channels is not None and isinstance(channels.value, list):
        for item in channels.value:
            demand = item.get("demand")
            if demand is None or not isinstance(demand.value, dict):
                continue
            for k in ("forecast_file", "history_file"):
                f = demand.value.get(k)
                if f is not None and isinstance(f.value, str):
                    f.value = str(f.file.parent / f.value)
    return files


def _relative_where(where: str, path: Path) -> str:
    s = str(path)
    return display_path(path) + where[len(s) :] if where.startswith(s) else where


def _model_at(cls: Any, loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the key at ``loc`` (to list its valid keys)."""
    current: Any = cls
    for part in loc:
        model = _unwrap_model(current)
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
    return _unwrap_model(current)


def _unwrap_model(tp: Any) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap_model(typing.get_args(tp)[0])
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            m = _unwrap_model(arg)
            if m is not None:
                return m
    return None


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "required key missing",
    "greater_than_equal": lambda e: f"expected a number >= {e['ctx']['ge']}, got {e['input']!r}",
    "greater_than": lambda e: f"expected a number > {e['ctx']['gt']}, got {e['input']!r}",
    "less_than_equal": lambda e: f"expected a number <= {e['ctx']['le']}, got {e['input']!r}",
    "less_than": lambda e: f"expected a number < {e['ctx']['lt']}, got {e['input']!r}",
    "too_short": lambda e: (
        f"expected at least {e['ctx']['min_length']} item(s), got none"
        if not e["input"]
        else f"expected at least {e['ctx']['min_length']} item(s)"
    ),
    "string_too_short": lambda e: "expected a non-empty text",
    "literal_error": lambda e: f"expected one of {e['ctx']['expected']}, got {e['input']!r}",
    "enum": lambda e: f"expected one of {e['ctx']['expected']}, got {e['input']!r}",
    "int_parsing": lambda e: f"expected a whole number, got {e['input']!r}",
    "int_from_float": lambda e: f"expected a whole number, got {e['input']!r}",
    "int_type": lambda e: f"expected a whole number, got {e['input']!r}",
    "float_parsing": lambda e: f"expected a number, got {e['input']!r}",
    "float_type": lambda e: f"expected a number, got {e['input']!r}",
    "bool_parsing": lambda e: f"expected true or false, got {e['input']!r}",
    "bool_type": lambda e: f"expected true or false, got {e['input']!r}",
    "date_from_datetime_parsing": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "date_parsing": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "date_type": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "string_type": lambda e: f"expected a text, got {e['input']!r}",
    "list_type": lambda e: f"expected a list, got {e['input']!r}",
    "model_type": lambda e: f"expected a mapping of keys, got {e['input']!r}",
    "dict_type": lambda e: f"expected a mapping, got {e['input']!r}",
    "path_type": lambda e: f"expected a file path, got {e['input']!r}",
}


def _describe(e: Any) -> str:
    fn = _MESSAGES.get(e["type"])
    if fn is not None:
        try:
            return fn(e)
        except (KeyError, TypeError):
            pass
    return str(e["msg"]).removeprefix("Value error, ")


_TAG = re.compile(r"^(?:function-[a-z-]+\[.*\]|(?:list|dict|tuple|union|nullable)\[.*\])$")
_TAGS = {
    "int",
    "str",
    "float",
    "bool",
    "date",
    "datetime",
    "LengthSpec",
    "lax-or-strict",
    "json-or-python",
}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch and function tags from an error location."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _TAGS or _TAG.match(p))))


def _pydantic_problems(exc: ValidationError, tree: Tree) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    union_seen: set[tuple[str | int, ...]] = set()
    for e in exc.errors():
        loc = _clean_loc(tuple(e["loc"]))
        raw = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            owner = _model_at(Scenario, loc[:-1])
            allowed = list(owner.model_fields) if owner is not None else []
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            msg = f"unknown key {key!r}"
            msg += f"; did you mean {hint[0]!r}?" if hint else ""
            if allowed:
                msg += f" (allowed: {', '.join(allowed)})"
            where = tree.where(loc)
        else:
            if len(raw) != len(loc) and "length_minutes" in loc:
                # int | {min, max}: one message for both branches
                if loc in union_seen:
                    continue
                union_seen.add(loc)
                if e["type"] in ("int_type", "int_parsing", "model_type", "int_from_float"):
                    e = {**e, "type": "value_error"}
                    e["msg"] = (
                        "expected minutes (a whole number) or {min, max, step_minutes}, got "
                        f"{e['input']!r}"
                    )
            msg = _describe(e)
            node, covered = tree.node(loc)
            where = tree.where(loc)
            if node.csv and len(loc) > len(covered) and isinstance(loc[-1], str):
                where = f"{where} column {loc[-1]}"
            if node.csv and isinstance(node.value, list) and e["type"] == "too_short":
                msg = f"no data rows; expected at least one {str(loc[-1]).rstrip('s')}"
        if (where, msg) not in seen:
            seen.add((where, msg))
            problems.append(Problem(where, msg))
    return problems


def load_scenario(path: Path) -> LoadedScenario:
    """Read, merge, validate and cross-check a scenario; InputError with every problem found."""
    tree = load_tree(path)
    problems: list[Problem] = []
    files = _resolve_files(tree, problems)
    plain = tree.root.plain()
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, tree)
        raise InputError(problems) from None
    if problems:
        raise InputError(problems)
    loaded = LoadedScenario(scenario=scenario, tree=tree, files=(path, *files))
    problems = check_scenario(loaded)
    if problems:
        raise InputError(problems)
    return loaded


# --------------------------------------------------------------------------- cross checks
def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    listing = ", ".join(known) if len(known) <= 12 else ", ".join(known[:12]) + ", ..."
    return (f"; did you mean {close[0]!r}?" if close else "") + f" (known: {listing})"


class _Checker:
    def __init__(self, loaded: LoadedScenario) -> None:
        self.s = loaded.scenario
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.slot = self.s.horizon.interval_minutes

    def bad(self, loc: tuple[str | int, ...], message: str) -> None:
        self.problems.append(Problem(self.loaded.tree.where(loc), message))

    def unique(self, key: str, ids: list[str]) -> None:
        seen: dict[str, int] = {}
        for i, ident in enumerate(ids):
            if ident in seen:
                self.bad((key, i, "id"), f"duplicate id {ident!r} (also item {seen[ident] + 1})")
            seen.setdefault(ident, i)

    def run(self) -> list[Problem]:
        s = self.s
        self.unique("channels", [c.id for c in s.channels])
        self.unique("shift_types", [t.id for t in s.shift_types])
        self.unique("contracts", [c.id for c in s.contracts])
        self.unique("agents", [a.id for a in s.agents])
        for i, ch in enumerate(s.channels):
            self.channel(i, ch)
        for i, t in enumerate(s.shift_types):
            self.shift_type(i, t)
        for i, ct in enumerate(s.contracts):
            self.contract(i, ct)
        self.unused_shift_types()
        for i, a in enumerate(s.agents):
            self.agent(i, a)
        self.skills_covered()
        for i, m in enumerate(s.min_staff):
            self.min_staff(i, m)
        for i, r in enumerate(s.role_coverage):
            self.role(i, r)
        for i, lv in enumerate(s.leave):
            self.leave(i, lv)
        for i, p in enumerate(s.pinned):
            self.pinned(i, p)
        for i, rule in enumerate(s.disabled_rules):
            if rule not in SOFT_RULES:
                self.bad(
                    ("disabled_rules", i), f"unknown rule {rule!r}" + _hint(rule, list(SOFT_RULES))
                )
        return self.problems

    # ------------------------------------------------------------------ channels
    def channel(self, i: int, c: ChannelSpec) -> None:
        loc: tuple[str | int, ...] = ("channels", i)
        if c.kind is ChannelKind.deferred:
            if c.deadline_minutes is None:
                self.bad(
                    (*loc, "deadline_minutes"),
                    "required for a deferred channel (each item handled within this many minutes)",
                )
            if c.service_level is not None:
                self.bad(
                    (*loc, "service_level"),
                    "applies to voice and chat; a deferred channel's target is deadline_minutes",
                )
            if c.patience_seconds is not None:
                self.bad((*loc, "patience_seconds"), "applies to voice and chat, not deferred")
        else:
            for key, value in (
                ("deadline_minutes", c.deadline_minutes),
                ("overnight_deadline", c.overnight_deadline),
                ("work_hours", c.work_hours),
            ):
                if value is not None:
                    self.bad(
                        (*loc, key),
                        f"applies to deferred channels only (this channel is {c.kind.value})",
                    )
        if c.concurrency > 1 and c.kind is not ChannelKind.chat:
            self.bad(
                (*loc, "concurrency"),
                f"applies to chat channels only (this channel is {c.kind.value})",
            )
        d = c.demand
        if d.forecast_file is not None:
            for key in ("holidays", "holidays_region"):
                if getattr(d, key) is not None:
                    self.bad((*loc, "demand", key), "applies to history_file (forecasting) only")
            if d.method != "auto":
                self.bad((*loc, "demand", "method"), "applies to history_file only")
        path = d.forecast_file or d.history_file
        key = "forecast_file" if d.forecast_file is not None else "history_file"
        if path is not None and not path.exists():
            self.bad((*loc, "demand", key), f"file not found: {display_path(path)}")

    # ------------------------------------------------------------------ shift types
    def on_grid(self, loc: tuple[str | int, ...], minutes: int, what: str) -> bool:
        if minutes % self.slot:
            self.bad(
                loc,
                f"{what} ({minutes} min) is not a multiple of the {self.slot}-minute "
                "interval (horizon.interval_minutes)",
            )
            return False
        return True

    def shift_type(self, i: int, t: ShiftTypeSpec) -> None:
        loc: tuple[str | int, ...] = ("shift_types", i)
        try:
            days = t.weekdays
            if not days:
                self.bad((*loc, "days"), "expected at least one weekday")
        except WindowError as exc:
            self.bad((*loc, "days"), str(exc))
        earliest = parse_clock(t.start.earliest)
        latest = earliest if t.start.latest is None else parse_clock(t.start.latest)
        self.on_grid((*loc, "start", "earliest"), earliest, f"start {t.start.earliest}")
        self.on_grid((*loc, "start", "step_minutes"), t.start.step_minutes, "start step")
        if latest < earliest:
            self.bad(
                (*loc, "start", "latest"),
                f"{t.start.latest} is before earliest "
                f"{t.start.earliest} (a start window cannot wrap midnight)",
            )
        lo, hi, step = t.length_range
        length_loc = (*loc, "length_minutes")
        if hi < lo:
            self.bad(length_loc, f"max ({hi}) is below min ({lo})")
        if hi > 2 * DAY:
            self.bad(length_loc, f"expected at most {2 * DAY} minutes, got {hi}")
        self.on_grid(length_loc, lo, "length")
        self.on_grid(length_loc, step, "length step")
        if t.briefing_minutes >= lo:
            self.bad(
                (*loc, "briefing_minutes"),
                f"the briefing ({t.briefing_minutes} min) is not shorter than the shift ({lo} min)",
            )
        briefing_end = -(-t.briefing_minutes // self.slot) * self.slot
        prev: BreakSpec | None = None
        for j, b in enumerate(t.breaks):
            bloc = (*loc, "breaks", j)
            ok = all(
                self.on_grid((*bloc, k), getattr(b, k), f"break {b.name} {k}")
                for k in ("minutes", "earliest", "latest")
            )
            if b.latest - b.earliest < b.minutes:
                self.bad(
                    bloc,
                    f"window {b.earliest}-{b.latest} min is shorter than the break "
                    f"({b.minutes} min)",
                )
            elif b.latest > lo:
                self.bad(
                    (*bloc, "latest"),
                    f"break window longer than the shift: it ends "
                    f"{b.latest} min after the start, but the shortest {t.id} shift is "
                    f"{lo} min long",
                )
            if ok and b.earliest < briefing_end:
                self.bad(
                    (*bloc, "earliest"),
                    f"break {b.name} may start at {b.earliest} min, "
                    f"during the briefing (first {briefing_end} min)",
                )
            if prev is not None and b.earliest < prev.latest:
                self.bad(
                    (*bloc, "earliest"),
                    f"the windows of {prev.name} ({prev.earliest}-"
                    f"{prev.latest}) and {b.name} ({b.earliest}-{b.latest}) overlap; each "
                    "break's window must end before the next one's starts",
                )
            prev = b
        names = [b.name for b in t.breaks]
        for name, n in Counter(names).items():
            if n > 1:
                self.bad((*loc, "breaks"), f"break name {name!r} is used {n} times")

    def unused_shift_types(self) -> None:
        allowed: set[str] = set()
        for c in self.s.contracts:
            allowed.update(
                c.shift_types if c.shift_types is not None else [t.id for t in self.s.shift_types]
            )
        for i, t in enumerate(self.s.shift_types):
            if t.id not in allowed:
                self.bad(
                    ("shift_types", i),
                    f"no contract allows shift type {t.id!r}; add it to "
                    "a contract's shift_types or remove it",
                )

    # ------------------------------------------------------------------ contracts, agents
    def contract(self, i: int, c: ContractSpec) -> None:
        types = [t.id for t in self.s.shift_types]
        for j, t in enumerate(c.shift_types or []):
            if t not in types:
                self.bad(
                    ("contracts", i, "shift_types", j),
                    f"unknown shift type {t!r}" + _hint(t, types),
                )
        if c.shift_types is not None and not c.shift_types:
            self.bad(
                ("contracts", i, "shift_types"),
                "expected at least one shift type (leave the key out to allow all)",
            )

    def agent(self, i: int, a: AgentSpec) -> None:
        s = self.s
        contracts = [c.id for c in s.contracts]
        if a.contract not in contracts:
            self.bad(
                ("agents", i, "contract"),
                f"unknown contract {a.contract!r}" + _hint(a.contract, contracts),
            )
        channels = [c.id for c in s.channels]
        for j, (skill, raw) in enumerate(zip(a.skill_ids, a.skills, strict=True)):
            if skill not in channels:
                self.bad(
                    ("agents", i, "skills"),
                    f"unknown channel {skill!r} in skills" + _hint(skill, channels),
                )
            level = raw.partition(":")[2].strip()
            if level and (not level.isdigit() or int(level) < 1):
                self.bad(
                    ("agents", i, "skills"),
                    f"skill {raw!r}: the level after ':' must be a whole number >= 1",
                )
            if a.skill_ids.index(skill) != j:
                self.bad(("agents", i, "skills"), f"skill {skill!r} is listed twice")
        types = [t.id for t in s.shift_types]
        for t in a.preferred_shift_types:
            if t not in types:
                self.bad(
                    ("agents", i, "preferred_shift_types"),
                    f"unknown shift type {t!r}" + _hint(t, types),
                )
        for d in a.unavailable_days:
            try:
                parse_weekdays(d)
            except WindowError as exc:
                self.bad(("agents", i, "unavailable_days"), str(exc))

    def skills_covered(self) -> None:
        held = {sk for a in self.s.agents for sk in a.skill_ids}
        for i, c in enumerate(self.s.channels):
            if c.id not in held:
                self.bad(
                    ("channels", i),
                    f"no agent has the skill {c.id!r}; nobody could work this channel",
                )

    def agents_with(self, role: str | None = None, skill: str | None = None) -> int:
        return sum(
            1
            for a in self.s.agents
            if (role is None or role in a.roles) and (skill is None or skill in a.skill_ids)
        )

    # ------------------------------------------------------------------ floors, roles
    def min_staff(self, i: int, m: MinStaffSpec) -> None:
        channels = [c.id for c in self.s.channels]
        if m.channel not in channels:
            self.bad(
                ("min_staff", i, "channel"),
                f"unknown channel {m.channel!r}" + _hint(m.channel, channels),
            )
            return
        self.when(("min_staff", i, "when"), m.when, {"open", "always", "any_channel_open"})
        n = self.agents_with(skill=m.channel)
        if m.count > n:
            self.bad(
                ("min_staff", i, "count"),
                f"{m.count} agents on {m.channel} at once, but only {n} agent(s) have that skill",
            )

    def role(self, i: int, r: RoleCoverageSpec) -> None:
        roles = sorted({x for a in self.s.agents for x in a.roles})
        n = self.agents_with(role=r.role)
        if n == 0:
            self.bad(
                ("role_coverage", i, "role"),
                f"no agent has the role {r.role!r}"
                + (_hint(r.role, roles) if roles else " (no agent has any role)"),
            )
        elif r.count > n:
            self.bad(
                ("role_coverage", i, "count"),
                f"{r.count} on duty at once, but only {n} agent(s) have the role {r.role!r}",
            )
        self.when(("role_coverage", i, "when"), r.when, {"any_channel_open", "always"})

    def when(
        self, loc: tuple[str | int, ...], value: str | dict[str, str], words: set[str]
    ) -> None:
        if isinstance(value, str):
            t = value.strip()
            if t in words:
                return
            if t.startswith("open:"):
                ch = t[5:].strip()
                channels = [c.id for c in self.s.channels]
                if ch not in channels:
                    self.bad(loc, f"unknown channel {ch!r} in {value!r}" + _hint(ch, channels))
                return
            if t in WHEN_WORDS:
                self.bad(
                    loc,
                    f"expected {', '.join(sorted(words))}, open:CHANNEL or a window "
                    f'like "mon-fri 09:00-18:00", got {value!r}',
                )

    # ------------------------------------------------------------------ leave, pinned
    def agent_ref(self, loc: tuple[str | int, ...], agent_id: str) -> bool:
        ids = [a.id for a in self.s.agents]
        if agent_id not in ids:
            self.bad(loc, f"unknown agent {agent_id!r}" + _hint(agent_id, ids))
            return False
        return True

    def leave(self, i: int, lv: LeaveSpec) -> None:
        self.agent_ref(("leave", i, "agent_id"), lv.agent_id)
        if isinstance(lv.start, datetime) != isinstance(lv.end, datetime):
            self.bad(
                ("leave", i, "end"),
                "start and end must both be dates (whole days) or "
                f"both date-times (part of a day), got {lv.start} and {lv.end}",
            )
            return
        if lv.end < lv.start or (isinstance(lv.start, datetime) and lv.end == lv.start):
            self.bad(
                ("leave", i, "end"), f"the leave ends ({lv.end}) before it starts ({lv.start})"
            )

    def pinned(self, i: int, p: PinnedSpec) -> None:
        s = self.s
        known_agent = self.agent_ref(("pinned", i, "agent_id"), p.agent_id)
        types = {t.id: t for t in s.shift_types}
        t = types.get(p.shift_type)
        if t is None:
            self.bad(
                ("pinned", i, "shift_type"),
                f"unknown shift type {p.shift_type!r}" + _hint(p.shift_type, list(types)),
            )
            return
        day = (p.date - s.horizon.start).days
        if not 0 <= day < s.horizon.days:
            last = s.horizon.start + timedelta(days=s.horizon.days - 1)
            self.bad(
                ("pinned", i, "date"), f"{p.date} is outside the horizon {s.horizon.start}..{last}"
            )
            return
        if p.date.weekday() not in t.weekdays:
            self.bad(
                ("pinned", i, "date"),
                f"shift type {t.id} does not run on {WEEKDAYS[p.date.weekday()]}",
            )
        if p.start is not None:
            lo = parse_clock(t.start.earliest)
            hi = lo if t.start.latest is None else parse_clock(t.start.latest)
            m = parse_clock(p.start)
            if not (lo <= m <= hi and (m - lo) % t.start.step_minutes == 0):
                self.bad(
                    ("pinned", i, "start"),
                    f"{p.start} is not an allowed start of "
                    f"{t.id} ({t.start.earliest}-{t.start.latest or t.start.earliest} every "
                    f"{t.start.step_minutes} min)",
                )
        if p.length_minutes is not None:
            lo_len, hi_len, step = t.length_range
            if not (
                lo_len <= p.length_minutes <= hi_len and (p.length_minutes - lo_len) % step == 0
            ):
                self.bad(
                    ("pinned", i, "length_minutes"),
                    f"{p.length_minutes} is not an allowed length of {t.id}",
                )
        if known_agent:
            agent = next(a for a in s.agents if a.id == p.agent_id)
            contract = next((c for c in s.contracts if c.id == agent.contract), None)
            if (
                contract is not None
                and contract.shift_types is not None
                and t.id not in contract.shift_types
            ):
                self.bad(
                    ("pinned", i, "shift_type"),
                    f"contract {contract.id} of {agent.id} does not allow {t.id}",
                )


def check_scenario(loaded: LoadedScenario) -> list[Problem]:
    """Cross-field checks, each located by file, line and key path."""
    return _Checker(loaded).run()


def window_mask(value: str | dict[str, str], scenario: Scenario) -> tuple[bool, ...]:
    """A window (already validated) as one value per slot of the horizon."""
    h = scenario.horizon
    return parse_window(value).mask(h.start.weekday(), h.days, h.interval_minutes)
