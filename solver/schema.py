"""Typed roster problem and result (pydantic v2). Time is minutes from the horizon start.

The horizon is one absolute time axis of ``days x 1440`` minutes cut into slots of
``slot_minutes``; shifts cross midnight and the end of the week on it, and a shift belongs to the
day it starts. Per-slot lists (requirements, floors, role windows) have one value per slot.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.enums import ChannelKind, LeaveKind, LeaveStatus

__all__ = [
    "Agent",
    "BreakRule",
    "BreakTime",
    "Channel",
    "ChannelKind",
    "Conflict",
    "Contract",
    "CoverageRow",
    "DeferredWork",
    "Leave",
    "LeaveDecision",
    "LeaveKind",
    "LeaveStatus",
    "PenaltyRecord",
    "Pinned",
    "RequestKind",
    "RoleRequirement",
    "RosterProblem",
    "RosterResult",
    "Rules",
    "ShiftAssignment",
    "ShiftCover",
    "ShiftRequest",
    "ShiftType",
    "SolveStatus",
    "Weights",
    "WorkSegment",
]

DAY = 1440
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakRule(_Model):
    """A break inside a shift; the whole break lies in [earliest, latest] minutes after start."""

    name: str = Field(description="Break name, e.g. break_am, lunch")
    minutes: int = Field(gt=0, description="Length of the break")
    earliest: int = Field(ge=0, description="Earliest minute after shift start the break may begin")
    latest: int = Field(gt=0, description="Minute after shift start by which the break must end")
    paid: bool = Field(True, description="Paid breaks count toward paid hours")
    lunch: bool = Field(False, description="Reported as lunch rather than break")

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.latest - self.earliest < self.minutes:
            raise ValueError(
                f"break {self.name}: window {self.earliest}-{self.latest} min is shorter than "
                f"the break ({self.minutes} min)"
            )
        return self


class ShiftType(_Model):
    """A family of shifts: start window, lengths, weekdays, briefing and breaks."""

    id: str
    start_earliest: int = Field(ge=0, lt=DAY, description="Earliest start, minutes after midnight")
    start_latest: int = Field(ge=0, lt=DAY, description="Latest start, minutes after midnight")
    start_step: int = Field(30, gt=0, description="Minutes between allowed starts")
    length_min: int = Field(gt=0, le=2 * DAY, description="Shortest length, minutes (paid+unpaid)")
    length_max: int = Field(gt=0, le=2 * DAY, description="Longest length, minutes")
    length_step: int = Field(30, gt=0, description="Minutes between allowed lengths")
    weekdays: tuple[int, ...] = Field(
        (0, 1, 2, 3, 4, 5, 6), description="Days it may start on (0 = Monday)"
    )
    briefing_minutes: int = Field(
        0, ge=0, description="Pre-shift briefing: paid, not available for contacts"
    )
    breaks: tuple[BreakRule, ...] = Field((), description="Breaks in order")
    forbidden_next: tuple[str, ...] = Field(
        (),
        description="Shift types that may not start on the day after a shift of this type "
        "(e.g. no early shift after a late one); the shift before the horizon is not checked",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.start_latest < self.start_earliest:
            raise ValueError(f"shift type {self.id}: start latest is before start earliest")
        if self.length_max < self.length_min:
            raise ValueError(f"shift type {self.id}: length max is below length min")
        if any(d not in range(7) for d in self.weekdays) or not self.weekdays:
            raise ValueError(f"shift type {self.id}: weekdays must be a non-empty subset of 0..6")
        for b in self.breaks:
            if b.latest > self.length_min:
                raise ValueError(
                    f"shift type {self.id}: break {b.name} window ends at {b.latest} min, after "
                    f"the shortest shift ({self.length_min} min)"
                )
            if b.earliest < self.briefing_minutes:
                raise ValueError(
                    f"shift type {self.id}: break {b.name} may start during the briefing"
                )
        for first, second in zip(self.breaks, self.breaks[1:], strict=False):
            if second.earliest < first.latest:
                raise ValueError(
                    f"shift type {self.id}: windows of {first.name} ({first.earliest}-"
                    f"{first.latest}) and {second.name} ({second.earliest}-{second.latest}) "
                    "overlap; each break's window must end before the next one's starts"
                )
        return self

    @property
    def starts(self) -> range:
        return range(self.start_earliest, self.start_latest + 1, self.start_step)

    @property
    def lengths(self) -> range:
        return range(self.length_min, self.length_max + 1, self.length_step)

    @property
    def unpaid_minutes(self) -> int:
        return sum(b.minutes for b in self.breaks if not b.paid)


class Contract(_Model):
    """Working-time rules shared by agents."""

    id: str
    hours_min: float = Field(0.0, ge=0, description="Paid hours per week, at least")
    hours_max: float = Field(168.0, gt=0, description="Paid hours per week, at most")
    days_off_per_week: int | None = Field(None, ge=0, le=7)
    days_off_per_month: int | None = Field(None, ge=0, le=31)
    consecutive_days_off_preferred: bool = False
    shift_types: tuple[str, ...] | None = Field(None, description="Allowed types; None: all")
    night_shifts: bool = True
    max_consecutive_days: int | None = Field(None, ge=1, description="Overrides the rule")
    min_rest_minutes: int | None = Field(None, ge=0, description="Overrides the rule")
    max_shifts_per_type: dict[str, int] = Field(
        default_factory=dict,
        description="Most shifts of each listed type over the horizon (0: never that type)",
    )
    horizon_minutes_min: int | None = Field(
        None, ge=0, description="Paid minutes over the whole horizon, at least (leave not credited)"
    )
    horizon_minutes_max: int | None = Field(
        None, ge=0, description="Paid minutes over the whole horizon, at most"
    )
    min_consecutive_days: int | None = Field(
        None,
        ge=1,
        description="Working days in a row, at least; a run touching the start or the end of "
        "the horizon is exempt (it may continue outside it)",
    )
    min_consecutive_days_off: int | None = Field(
        None,
        ge=1,
        description="Days off in a row, at least (leave days count as off); a run touching the "
        "start or the end of the horizon is exempt",
    )
    max_working_weekends: int | None = Field(
        None,
        ge=0,
        description="Weekends (Saturday-Sunday of one calendar week) with a shift on either day, "
        "at most, over the horizon",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.hours_max < self.hours_min:
            raise ValueError(f"contract {self.id}: hours max is below hours min")
        if (
            self.horizon_minutes_min is not None
            and self.horizon_minutes_max is not None
            and self.horizon_minutes_max < self.horizon_minutes_min
        ):
            raise ValueError(f"contract {self.id}: horizon minutes max is below the min")
        bad = [t for t, n in self.max_shifts_per_type.items() if n < 0]
        if bad:
            raise ValueError(f"contract {self.id}: negative max_shifts_per_type for {bad}")
        if self.days_off_per_week is not None and self.days_off_per_month is not None:
            raise ValueError(f"contract {self.id}: give days off per week or per month, not both")
        return self

    def working_days_per_week(self) -> float:
        """Contract working days in a week (for prorating hours over leave)."""
        if self.days_off_per_week is not None:
            return float(7 - self.days_off_per_week)
        if self.days_off_per_month is not None:
            return 7.0 - self.days_off_per_month * 7.0 / 30.0
        return 7.0


class Agent(_Model):
    id: str
    name: str = ""
    team: str = ""
    contract: str
    skills: tuple[str, ...] = Field(description="Channels the agent may cover, primary first")
    skill_levels: tuple[int, ...] = Field((), description="Level per skill (informational)")
    roles: tuple[str, ...] = ()
    preferred_shift_types: tuple[str, ...] = ()
    unavailable_weekdays: tuple[int, ...] = ()
    night_shifts: bool | None = Field(None, description="Overrides the contract")
    prior_shift_end: int | None = Field(
        None,
        description="End of the last shift before the horizon, minutes (<= 0 or a little "
        "after 0 when it crosses midnight): for rest at the start",
    )
    prior_consecutive_days: int = Field(0, ge=0, description="Days worked in a row before")
    prior_fairness: dict[str, int] = Field(
        default_factory=dict,
        description="Shifts per fairness category (weekend, night, late, holiday) worked in "
        "the weeks before the horizon (a fairness ledger's window): the fairness rules spread "
        "these totals",
    )


class Leave(_Model):
    """Leave of one agent: whole days [start, end) on day boundaries, or a part-day interval."""

    agent_id: str
    kind: LeaveKind
    status: LeaveStatus
    start: int = Field(description="Minutes from the horizon start")
    end: int = Field(description="Minutes from the horizon start (exclusive)")
    whole_days: bool = True
    weight: float = Field(1.0, ge=0, description="Multiplies the refused-request penalty")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"leave of {self.agent_id}: ends before it starts")
        if self.whole_days and (self.start % DAY or self.end % DAY):
            raise ValueError(f"leave of {self.agent_id}: whole-day leave must start at midnight")
        return self

    @property
    def on_shift(self) -> bool:
        """Training and meetings are work: the agent is on shift but not available."""
        return self.kind in (LeaveKind.training, LeaveKind.meeting)

    @property
    def credited(self) -> bool:
        """Whole days of leave credit contract hours (a day-off request does not)."""
        return self.kind is not LeaveKind.day_off_request

    def days(self) -> range:
        return range(self.start // DAY, -(-self.end // DAY))


class Pinned(_Model):
    """An assignment the solver must keep (re-planning a published week)."""

    agent_id: str
    day: int = Field(ge=0)
    shift_type: str
    start: int | None = Field(None, description="Start, minutes after midnight; None: any")
    length: int | None = Field(None, description="Length in minutes; None: any")


class KeptShift(_Model):
    """A published assignment a re-plan should keep (soft): the agent's shift on ``day``
    starting at ``start`` (minutes after midnight) with this type and length, or, with
    ``shift_type`` None, the day off. Not kept, it costs ``weights.change x weight``."""

    agent_id: str
    day: int = Field(ge=0)
    shift_type: str | None = Field(None, description="None: the agent was off that day")
    start: int | None = Field(None, description="Minutes after midnight of the day")
    length: int | None = None
    weight: float = Field(1.0, ge=0, description="Multiplies weights.change (notice period)")


class DeferredWork(_Model):
    """Deferred demand as cumulative work classes (agent-slots), each in deadline order.

    For class k and slot t: ``arrived[k][t]`` work arrived by the end of t, ``due[k][t]`` work
    due by the end of t. Work is done earliest deadline first; a class split makes that exact.
    """

    arrived: tuple[tuple[float, ...], ...]
    due: tuple[tuple[float, ...], ...]


class Channel(_Model):
    id: str
    kind: ChannelKind = ChannelKind.voice
    required: tuple[int, ...] = Field(description="Agents required per slot (voice, chat)")
    min_staff: tuple[int, ...] = Field((), description="Hard floor per slot (empty: none)")
    open: tuple[bool, ...] = Field((), description="Open per slot (empty: always)")
    deferred: DeferredWork | None = None
    under_weight: float | None = Field(
        None, ge=0, description="Per agent-slot short on this channel (None: weights.under_cover)"
    )
    over_weight: float | None = Field(
        None, ge=0, description="Per agent-slot above the requirement (None: weights.over_cover)"
    )


class RoleRequirement(_Model):
    """At least ``count`` agents with ``role`` on duty (working, not on break) in these slots."""

    role: str
    count: int = Field(ge=1)
    slots: tuple[bool, ...]
    label: str = Field("", description="Words for explanations, e.g. 'whenever a channel is open'")


class RequestKind(StrEnum):
    on = "on"
    off = "off"


class ShiftRequest(_Model):
    """An agent's wish about one day (soft): to work that shift type (``on``) or not (``off``)."""

    agent_id: str
    day: int = Field(ge=0, description="Day of the horizon (0 = first day)")
    shift_type: str | None = Field(None, description="Shift type; None: any shift (work / off)")
    kind: RequestKind
    weight: float = Field(1.0, ge=0, description="Multiplies weights.shift_request")


class ShiftCover(_Model):
    """Agents wanted on one shift type on one day, counted per shift rather than per slot
    (soft: each agent short or above costs its weight)."""

    day: int = Field(ge=0, description="Day of the horizon (0 = first day)")
    shift_type: str
    required: int = Field(ge=0)
    under_weight: float | None = Field(
        None, ge=0, description="Per agent short (None: weights.shift_cover_under)"
    )
    over_weight: float | None = Field(
        None, ge=0, description="Per agent above (None: weights.shift_cover_over)"
    )


class Rules(_Model):
    min_rest_minutes: int = Field(660, ge=0)
    max_consecutive_days: int = Field(6, ge=1)
    max_on_break_share: float = Field(1.0, gt=0, le=1)
    night_start: int = Field(0, description="Night window start, minutes after midnight")
    night_end: int = Field(360, description="Night window end, minutes after midnight")
    night_min_minutes: int = Field(180, description="Minutes in the window that make a night shift")
    late_end_after: int = Field(1200, description="A shift ending after this minute is late")


class Weights(_Model):
    """Objective weights; all >= 0. Units: per agent-slot, per day, per shift, per unit spread."""

    under_cover: float = Field(10.0, ge=0)
    over_cover: float = Field(1.0, ge=0)
    deferred_late: float = Field(10.0, ge=0, description="Per agent-slot of work overdue, per slot")
    leave_request_denied: float = Field(20.0, ge=0, description="Per requested day refused")
    preference: float = Field(1.0, ge=0, description="Per shift not of a preferred type")
    consecutive_days_off: float = Field(1.0, ge=0, description="Per isolated day off")
    fairness: float = Field(5.0, ge=0, description="Per unit of spread across agents")
    shift_request: float = Field(
        1.0, ge=0, description="Per shift on/off request not met (times the request's weight)"
    )
    shift_cover_under: float = Field(
        10.0, ge=0, description="Per agent short of a per-day shift cover (unless it says)"
    )
    shift_cover_over: float = Field(
        1.0, ge=0, description="Per agent above a per-day shift cover (unless it says)"
    )
    distinct_shift: float = Field(
        0.0,
        ge=0,
        description="Per distinct shift (start time of day, length) used anywhere in the horizon",
    )
    change: float = Field(
        50.0,
        ge=0,
        description="Per published shift or day off a re-plan changes (times its weight)",
    )


class RosterProblem(_Model):
    horizon_start: date
    days: int = Field(ge=1, le=62)
    slot_minutes: int = Field(description="5, 10, 15, 20, 30 or 60")
    channels: tuple[Channel, ...]
    shift_types: tuple[ShiftType, ...]
    contracts: tuple[Contract, ...]
    agents: tuple[Agent, ...]
    leave: tuple[Leave, ...] = ()
    pinned: tuple[Pinned, ...] = ()
    roles: tuple[RoleRequirement, ...] = ()
    rules: Rules = Rules()
    weights: Weights = Weights()
    disabled_rules: tuple[str, ...] = Field((), description="Soft rule ids switched off")
    name: str = ""
    cyclic: bool = Field(
        False,
        description="The horizon wraps for coverage: a shift running past the end of the last "
        "day covers the first day's slots (a repeating week); agent rules stay linear",
    )
    shift_requests: tuple[ShiftRequest, ...] = Field(
        (), description="Soft wishes to work or not work a shift type on a day"
    )
    shift_cover: tuple[ShiftCover, ...] = Field(
        (), description="Soft cover per day and shift type (counted per shift, not per slot)"
    )
    frozen_until: int | None = Field(
        None,
        description="Re-planning: minutes from the horizon start before which no shift may start "
        "but the pinned (published) ones",
    )
    kept: tuple[KeptShift, ...] = Field(
        (), description="A re-plan's published shifts and days off, kept unless worth changing"
    )
    holidays: tuple[int, ...] = Field(
        (),
        description="Days of the horizon (0-based) that are public holidays: shifts starting "
        "on them count for the holiday fairness rule",
    )

    @property
    def n_slots(self) -> int:
        return self.days * DAY // self.slot_minutes

    def weekday(self, day: int) -> int:
        return (self.horizon_start.weekday() + day) % 7

    def slot_index(self, t: int) -> int | None:
        """The horizon slot that absolute slot ``t`` counts in: ``t`` itself, wrapped on a
        cyclic horizon, or None when it falls outside the horizon."""
        n = self.n_slots
        if self.cyclic:
            return t % n
        return t if 0 <= t < n else None

    def channel_weights(self, channel: Channel) -> tuple[float, float]:
        """(under, over) weight per agent-slot on a channel: its own, or the global ones."""
        w = self.weights
        under = w.under_cover if channel.under_weight is None else channel.under_weight
        over = w.over_cover if channel.over_weight is None else channel.over_weight
        return under, over

    def weekend_of(self, day: int) -> int | None:
        """Index of the calendar week whose weekend contains ``day`` (Saturday or Sunday), or
        None on a weekday."""
        if self.weekday(day) < 5:
            return None
        return (self.horizon_start.weekday() + day) // 7

    def weekend_days(self) -> dict[int, list[int]]:
        """The horizon's Saturdays and Sundays grouped by ``weekend_of``."""
        out: dict[int, list[int]] = {}
        for d in range(self.days):
            w = self.weekend_of(d)
            if w is not None:
                out.setdefault(w, []).append(d)
        return out

    @model_validator(mode="after")
    def _check(self) -> Self:
        errors: list[str] = []
        if self.slot_minutes not in (5, 10, 15, 20, 30, 60):
            errors.append(
                f"slot_minutes: expected 5, 10, 15, 20, 30 or 60, got {self.slot_minutes}"
            )
        n = self.n_slots
        s = self.slot_minutes
        for c in self.channels:
            if c.kind is ChannelKind.deferred:
                if c.deferred is None:
                    errors.append(f"channel {c.id}: deferred channel without deferred work")
                else:
                    for k, (arr, due) in enumerate(
                        zip(c.deferred.arrived, c.deferred.due, strict=True)
                    ):
                        if len(arr) != n or len(due) != n:
                            errors.append(f"channel {c.id}: work class {k} needs {n} slots")
            elif len(c.required) != n:
                errors.append(
                    f"channel {c.id}: required has {len(c.required)} values, "
                    f"expected {n} (one per slot)"
                )
            for name, values in (("min_staff", c.min_staff), ("open", c.open)):
                if values and len(values) != n:
                    errors.append(f"channel {c.id}: {name} has {len(values)} values, expected {n}")
        for d in self.holidays:
            if not 0 <= d < self.days:
                errors.append(f"holidays: day {d} is outside the horizon (0..{self.days - 1})")
        for r in self.roles:
            if len(r.slots) != n:
                errors.append(f"role {r.role}: slots has {len(r.slots)} values, expected {n}")
        for t in self.shift_types:
            for what, v in (
                ("start earliest", t.start_earliest),
                ("start step", t.start_step),
                ("length min", t.length_min),
                ("length step", t.length_step),
                ("briefing", t.briefing_minutes),
            ):
                if v % s:
                    errors.append(
                        f"shift type {t.id}: {what} ({v} min) is not a multiple of the {s}-min slot"
                    )
            for b in t.breaks:
                for what, v in (
                    ("length", b.minutes),
                    ("earliest", b.earliest),
                    ("latest", b.latest),
                ):
                    if v % s:
                        errors.append(
                            f"shift type {t.id}: break {b.name} {what} ({v} min) is not "
                            f"a multiple of the {s}-min slot"
                        )
        ids = [a.id for a in self.agents]
        if len(set(ids)) != len(ids):
            errors.append("agents: duplicate agent ids")
        channels = {c.id for c in self.channels}
        types = {t.id for t in self.shift_types}
        contracts = {c.id for c in self.contracts}
        for a in self.agents:
            if a.contract not in contracts:
                errors.append(f"agent {a.id}: unknown contract {a.contract}")
            bad = [sk for sk in a.skills if sk not in channels]
            if bad:
                errors.append(f"agent {a.id}: unknown channel(s) {', '.join(bad)} in skills")
            bad = [t for t in a.preferred_shift_types if t not in types]
            if bad:
                errors.append(f"agent {a.id}: unknown preferred shift type(s) {', '.join(bad)}")
        for con in self.contracts:
            bad = [t for t in (con.shift_types or ()) if t not in types]
            if bad:
                errors.append(f"contract {con.id}: unknown shift type(s) {', '.join(bad)}")
            bad = [t for t in con.max_shifts_per_type if t not in types]
            if bad:
                errors.append(
                    f"contract {con.id}: unknown shift type(s) {', '.join(bad)} in "
                    "max_shifts_per_type"
                )
        for t in self.shift_types:
            bad = [x for x in t.forbidden_next if x not in types]
            if bad:
                errors.append(f"shift type {t.id}: unknown forbidden_next type(s) {', '.join(bad)}")
        known = set(ids)
        for lv in self.leave:
            if lv.agent_id not in known:
                errors.append(f"leave: unknown agent {lv.agent_id}")
        for p in self.pinned:
            if p.agent_id not in known:
                errors.append(f"pinned: unknown agent {p.agent_id}")
            if p.shift_type not in types:
                errors.append(f"pinned: unknown shift type {p.shift_type}")
            if p.day >= self.days:
                errors.append(f"pinned: day {p.day} is outside the horizon")
        for req in self.shift_requests:
            if req.agent_id not in known:
                errors.append(f"shift request: unknown agent {req.agent_id}")
            if req.shift_type is not None and req.shift_type not in types:
                errors.append(f"shift request: unknown shift type {req.shift_type}")
            if req.day >= self.days:
                errors.append(
                    f"shift request of {req.agent_id}: day {req.day} is outside the horizon"
                )
        for cover in self.shift_cover:
            if cover.shift_type not in types:
                errors.append(f"shift cover: unknown shift type {cover.shift_type}")
            if cover.day >= self.days:
                errors.append(f"shift cover: day {cover.day} is outside the horizon")
        if errors:
            raise ValueError("; ".join(errors))
        return self


# --------------------------------------------------------------------------- result
class SolveStatus(StrEnum):
    optimal = "optimal"
    feasible = "feasible"
    infeasible = "infeasible"
    timeout_no_solution = "timeout_no_solution"
    invalid = "invalid"


class BreakTime(_Model):
    name: str
    start: int = Field(description="Minutes from the horizon start")
    minutes: int
    paid: bool
    lunch: bool = False


class WorkSegment(_Model):
    """Time on one channel (or idle: channel None) within a shift."""

    start: int
    end: int
    channel: str | None


class ShiftAssignment(_Model):
    agent_id: str
    day: int
    shift_type: str
    start: int = Field(description="Minutes from the horizon start")
    length: int
    paid_minutes: int
    briefing_minutes: int = 0
    breaks: tuple[BreakTime, ...] = ()
    work: tuple[WorkSegment, ...] = Field((), description="Channel per stretch of contact time")

    @property
    def end(self) -> int:
        return self.start + self.length


class CoverageRow(_Model):
    channel: str
    slot: int
    required: float
    scheduled: int
    under: float
    over: float


class PenaltyRecord(_Model):
    """A named soft-rule cost: what rule, about whom or when, and how much."""

    rule_id: str
    subject: str
    cost: float
    detail: str = ""


class LeaveDecision(_Model):
    leave_index: int = Field(description="Index of the request in problem.leave")
    agent_id: str
    granted: bool
    reason: str


class Conflict(_Model):
    """Hard rules that cannot all hold, in plain words, with the relaxation found."""

    message: str
    rules: tuple[str, ...]
    relaxation: str = ""


class RosterResult(_Model):
    status: SolveStatus
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    wall_time_s: float = 0.0
    assignments: tuple[ShiftAssignment, ...] = ()
    coverage: tuple[CoverageRow, ...] = ()
    penalties: tuple[PenaltyRecord, ...] = ()
    leave_decisions: tuple[LeaveDecision, ...] = ()
    explanation: tuple[Conflict, ...] = ()
    solver_version: str = ""
    problem_sha256: str = ""
    phases: dict[str, float] = Field(default_factory=dict, description="Seconds per phase")
    reproducible: bool = Field(
        False,
        description="The search was deterministic and finished within its wall-clock limit: the "
        "same problem, options and seed give the same roster",
    )
    message: str = ""
