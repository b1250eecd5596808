"""Request and response models of the HTTP service: thin wrappers around the domain models.

The domain models are reused as they are (``forecast.schema`` for staffing and forecasts,
``api.scenario.models`` for horizons and leave, ``solver.schema`` for statuses); what is here only
says how they travel over HTTP (ids, time stamps, job state, error bodies).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.scenario.models import DateOrTime, Horizon
from api.store.models import (
    MAX_ID,
    InputModel,
    JobOut,
    ProblemOut,
)
from common.enums import ChannelKind, LeaveKind, LeaveStatus
from forecast.schema import IntervalForecast, StaffingTargets
from forecast.select import MODEL_NAMES
from solver.schema import SolveStatus

MAX_INTERVALS = 366 * 96
"""A leap year of 15-minute intervals: the longest forecast the calculators take."""
MAX_TRAFFIC_ERLANGS = 10_000.0
MAX_HISTORY_ROWS = 200_000
MAX_SECONDS = 86_400.0
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


# --------------------------------------------------------------------------- errors


class ErrorBody(BaseModel):
    """The body of every error response (4xx, and 500 for a bug)."""

    error: str = Field(
        description="unauthorized, forbidden, not_found, conflict, invalid_input, "
        "payload_too_large, queue_full, method_not_allowed or internal"
    )
    message: str = Field(description="What went wrong, in words")
    error_id: str | None = Field(
        None, description="For an unexpected error (500): the id the server logged it under"
    )
    problems: list[ProblemOut] = Field(
        default_factory=list, description="Every problem found (invalid_input)"
    )


# --------------------------------------------------------------------------- calculators
class StaffingRequest(InputModel):
    """A staffing calculation: a whole forecast, or one interval (volume, aht_seconds,
    interval_minutes)."""

    targets: StaffingTargets = Field(
        default_factory=StaffingTargets, description="Service targets of the channel"
    )
    forecast: IntervalForecast | None = Field(
        None, description=f"Volume and handle time per interval (at most {MAX_INTERVALS})"
    )
    volume: float | None = Field(None, ge=0, le=1e6, description="One interval: contacts")
    aht_seconds: float | None = Field(
        None, gt=0, le=MAX_SECONDS, description="One interval: average handle time, seconds"
    )
    interval_minutes: int | None = Field(
        None, gt=0, le=1440, description="One interval: its length, minutes"
    )
    channel: str = Field("channel", min_length=1, max_length=100, description="Channel name")
    staffed: list[bool] | None = Field(
        None,
        max_length=MAX_INTERVALS,
        description="Deferred work: whether the channel is worked in each interval",
    )

    @model_validator(mode="after")
    def _shape(self) -> Self:
        single = (self.volume, self.aht_seconds, self.interval_minutes)
        if self.forecast is None:
            if any(x is None for x in single):
                raise ValueError(
                    "give a forecast, or volume, aht_seconds and interval_minutes of one interval"
                )
        elif any(x is not None for x in single):
            raise ValueError("give a forecast or one interval (volume ...), not both")
        fc = self.as_forecast()
        n = len(fc.volume)
        if not 1 <= n <= MAX_INTERVALS:
            raise ValueError(f"forecast: expected 1..{MAX_INTERVALS} intervals, got {n}")
        if self.staffed is not None and len(self.staffed) != n:
            raise ValueError(f"staffed: expected {n} values (one per interval)")
        interval_s = fc.interval_minutes * 60.0
        for i, (v, h) in enumerate(zip(fc.volume, fc.aht_seconds, strict=True)):
            if h > MAX_SECONDS:
                raise ValueError(f"forecast.aht_seconds[{i}]: expected at most {MAX_SECONDS:g}")
            if v * h / interval_s > MAX_TRAFFIC_ERLANGS:
                raise ValueError(
                    f"forecast interval {i}: {v * h / interval_s:g} Erlangs of traffic; the "
                    f"calculator takes at most {MAX_TRAFFIC_ERLANGS:g} per interval"
                )
        t = self.targets
        for key in ("answer_seconds", "max_asa_seconds", "patience_seconds"):
            value = getattr(t, key)
            if value is not None and value > MAX_SECONDS:
                raise ValueError(f"targets.{key}: expected at most {MAX_SECONDS:g} seconds")
        if t.deadline_minutes is not None and t.deadline_minutes > 31 * 1440:
            raise ValueError("targets.deadline_minutes: expected at most 31 days (44640)")
        return self

    def as_forecast(self) -> IntervalForecast:
        if self.forecast is not None:
            return self.forecast
        assert self.interval_minutes is not None
        assert self.volume is not None and self.aht_seconds is not None
        return IntervalForecast(
            interval_start=[datetime(2000, 1, 1)],
            volume=[self.volume],
            aht_seconds=[self.aht_seconds],
            interval_minutes=self.interval_minutes,
        )


class HistoryRow(InputModel):
    """One interval of contact history."""

    interval_start: datetime = Field(description="Local start (or with a UTC offset + timezone)")
    offered: float | None = Field(description="Contacts offered (>= 0); null: not recorded")
    handle_time_seconds: float | None = Field(
        None, description="Average handle time of the contacts handled, seconds"
    )
    handled: float | None = Field(None, description="Contacts handled (default: offered)")
    queue: str | None = Field(None, max_length=100, description="Queue (default: one queue)")


class ForecastRequest(InputModel):
    """A forecast from history: rows as JSON, or the text of a history CSV file."""

    history: list[HistoryRow] | None = Field(
        None, max_length=MAX_HISTORY_ROWS, description="History rows, in time order per queue"
    )
    history_csv: str | None = Field(
        None,
        max_length=20_000_000,
        description="Or: a history file interval_start,offered,handle_time_seconds[,queue]"
        "[,handled]",
    )
    start: datetime | date = Field(description="First day (or date-time) to forecast")
    days: int = Field(7, ge=1, le=62, description="Days to forecast")
    interval_minutes: int | None = Field(
        None, gt=0, le=1440, description="Interval of the forecast (default: the history's)"
    )
    method: str = Field("auto", description=f"Volume model: {', '.join(MODEL_NAMES)}")
    holidays: str | None = Field(None, max_length=10, description="Holiday country (ISO code)")
    holidays_region: str | None = Field(None, max_length=10, description="Region of it")
    timezone: str | None = Field(None, max_length=64, description="IANA time zone of the centre")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.history is None) == (self.history_csv is None):
            raise ValueError("give exactly one of history and history_csv")
        if self.method not in MODEL_NAMES:
            raise ValueError(f"method: expected one of {', '.join(MODEL_NAMES)}")
        for row in self.history or []:
            for v in (row.offered, row.handle_time_seconds, row.handled):
                if v is not None and not math.isfinite(v):
                    raise ValueError("history: every number must be finite")
        return self


class QueueForecastOut(BaseModel):
    queue: str = Field(description="Queue name ('default' for a history without queues)")
    model: str = Field(description="The model used (auto: the one chosen by backtest)")
    history_end: str = Field(description="End of the history, local ISO date-time")
    forecast: IntervalForecast


class ForecastResponse(BaseModel):
    queues: list[QueueForecastOut]


# --------------------------------------------------------------------------- scenarios
class ScenarioUpload(InputModel):
    """A scenario as JSON: its files by relative path (text), and which one is the scenario."""

    main_file: str = Field(
        min_length=1, max_length=200, description="The scenario YAML among files, e.g. base.yaml"
    )
    files: dict[str, str] = Field(
        max_length=200,
        description="Relative path -> file text: the YAML file(s) (what-ifs with extends: "
        "include their base) and every CSV they name",
    )
    comment: str = Field("", max_length=2000, description="What changed, for the history")


class FileOut(BaseModel):
    path: str
    size: int
    sha256: str


class ChannelOverview(BaseModel):
    id: str
    kind: ChannelKind


class ScenarioOverview(BaseModel):
    """What a checked revision holds, at a glance."""

    horizon: Horizon
    channels: list[ChannelOverview]
    agents: list[str] = Field(description="Agent ids")
    shift_types: list[str]
    leave: int = Field(description="Leave rows in the scenario's own files")
    notes: list[str] = Field(default_factory=list, description="Notes of the checks")


class RevisionOut(BaseModel):
    number: int = Field(description="1 for the first upload, then 2, 3 ...")
    name: str = Field(description="The scenario's name: key")
    description: str
    main_file: str
    comment: str
    sha256: str = Field(description="SHA-256 of the merged scenario and its demand files")
    created_at: datetime
    created_by: str = Field(description="Role of the key that uploaded it")
    overview: ScenarioOverview
    files: list[FileOut]


class ScenarioOut(BaseModel):
    id: int
    name: str = Field(description="Name of the latest revision")
    latest_revision: int
    created_at: datetime
    updated_at: datetime
    revisions: list[RevisionOut] = Field(default_factory=list, description="Oldest first")


class ScenarioList(BaseModel):
    items: list[ScenarioOut]
    total: int


# --------------------------------------------------------------------------- jobs


class JobList(BaseModel):
    items: list[JobOut]
    total: int


class SolveSummary(BaseModel):
    """summary.json of a solve (the contract's keys; more may be present)."""

    model_config = ConfigDict(extra="allow")

    status: SolveStatus
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    wall_time_s: float
    under_cover_agent_hours: float | None = None
    over_cover_agent_hours: float | None = None
    service_level: dict[str, float | None]
    penalties: dict[str, dict[str, float]]
    agents_scheduled: int
    solver_version: str
    scenario_sha256: str


class RosterRow(BaseModel):
    agent_id: str
    name: str
    date: str = Field(description="Day the shift starts, YYYY-MM-DD")
    shift_type: str
    start: str = Field(description="Local ISO date-time")
    end: str = Field(description="Local ISO date-time")
    paid_minutes: int


class ActivityRow(BaseModel):
    agent_id: str
    date: str
    activity: str = Field(description="work, briefing, break, lunch, training, meeting, leave")
    start: str
    end: str
    channel: str | None = Field(None, description="Set for work")


class CoverageOut(BaseModel):
    interval_start: str = Field(description="Local ISO date-time")
    channel: str
    required: float
    scheduled: int
    under: float
    over: float
    projected_service_level: float | None


class LeaveDecisionRow(BaseModel):
    agent_id: str
    start: str
    end: str
    kind: str
    granted: bool | None = Field(description="null: not decided (outside the horizon ...)")
    reason: str


class ChangeRow(BaseModel):
    """One agent-day a re-plan changed (changes.csv)."""

    agent_id: str
    date: str = Field(description="YYYY-MM-DD")
    before: str = Field(description="The published shift in words, or 'off'")
    after: str = Field(description="The re-planned shift in words, or 'off'")


class LedgerRowOut(BaseModel):
    """One agent's fairness counts over one horizon (ledger.csv)."""

    horizon_start: str = Field(description="First day of the horizon, YYYY-MM-DD")
    horizon_days: int
    agent_id: str
    weekend: int = Field(description="Weekend shifts worked")
    night: int = Field(description="Night shifts worked")
    late: int = Field(description="Late shifts worked")
    holiday: int = Field(description="Shifts worked on public holidays")
    refused_requests: int = Field(description="Leave requests refused")


class ComparisonTable(BaseModel):
    header: list[str]
    rows: list[list[str]]


# --------------------------------------------------------------------------- leave
class LeaveImport(InputModel):
    """Leave records as JSON (the same fields as a leave.csv row)."""

    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=50_000,
        description="Rows: agent_id, start, end, kind, status[, weight]",
    )
    scenario_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Check the agent ids against this scenario's latest revision",
    )


class LeaveRecord(BaseModel):
    id: int
    agent_id: str
    start: str = Field(description="First day (YYYY-MM-DD) or local start date-time")
    end: str = Field(description="Last day, inclusive, or local end date-time")
    kind: LeaveKind
    status: LeaveStatus
    weight: float
    batch_id: str = Field(description="The import it came in")
    created_at: datetime
    updated_at: datetime


class LeaveImportResult(BaseModel):
    batch_id: str
    imported: int
    records: list[LeaveRecord]


class LeaveList(BaseModel):
    items: list[LeaveRecord]
    total: int


class LeaveUpdate(InputModel):
    status: LeaveStatus = Field(description="approved or requested")


class LeaveRequestIn(InputModel):
    """Leave an agent asks for (not stored)."""

    agent_id: str = Field(min_length=1, max_length=100)
    start: DateOrTime = Field(description="First day (2026-12-07), or start date-time")
    end: DateOrTime = Field(description="Last day (inclusive), or end date-time")
    kind: LeaveKind = LeaveKind.annual


class LeaveImpactRequest(InputModel):
    """Leave to evaluate against a roster before anyone approves it."""

    solve_id: str | None = Field(
        None,
        max_length=32,
        description="The roster (a finished solve); default: the latest that covers the leave",
    )
    requests: list[LeaveRequestIn] = Field(default_factory=list, max_length=50)
    leave_ids: list[DbId] = Field(
        default_factory=list, max_length=50, description="Stored leave records to evaluate"
    )

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.requests and not self.leave_ids:
            raise ValueError("give requests or leave_ids")
        return self


class IntervalChange(BaseModel):
    interval_start: str
    required: float
    scheduled_before: int
    scheduled_after: int
    service_level_before: float | None
    service_level_after: float | None


class ChannelImpact(BaseModel):
    channel: str
    kind: ChannelKind
    service_level_target: float | None
    service_level_before: float | None = Field(
        description="Projected over the horizon, volume-weighted (on time, for deferred work)"
    )
    service_level_after: float | None
    under_cover_agent_hours_before: float
    under_cover_agent_hours_after: float
    agent_hours_removed: float
    intervals_changed: int
    floors_broken: list[str] = Field(
        default_factory=list, description="Hard floors (min_staff) the leave would break"
    )
    worst_intervals: list[IntervalChange] = Field(
        default_factory=list, description="The intervals whose service level drops most"
    )


class RequestImpact(BaseModel):
    agent_id: str
    start: str
    end: str
    kind: LeaveKind
    leave_id: int | None = None
    shifts_affected: list[str] = Field(description="Shifts of the roster it touches, in words")
    agent_hours_removed: float
    channels: list[ChannelImpact]
    roles_broken: list[str] = Field(
        default_factory=list, description="Role cover (team lead on duty ...) it would break"
    )
    notes: list[str] = Field(default_factory=list)


class LeaveImpactResponse(BaseModel):
    solve_id: str
    scenario_id: int
    revision: int
    roster_status: SolveStatus
    requests: list[RequestImpact] = Field(description="Each request on its own")
    combined: list[ChannelImpact] = Field(description="All requests granted together")
    combined_roles_broken: list[str] = Field(default_factory=list)


class Health(BaseModel):
    status: str = Field(description="ok")
    database: str = Field(description="sqlite or postgresql")
    queued: int
    running: int
    max_concurrent_solves: int
    version: str
