"""Re-planning a published roster: events in, the fewest changes out.

``wfm replan PUBLISHED_DIR EVENTS.yaml --out DIR`` reads the published solve's ``roster.csv``
and ``activities.csv`` (its shifts, breaks and channels) and an events file::

    scenario: ../scenarios/base.yaml     # the scenario it was solved from (default: the one
                                         # its summary.json names)
    frozen_until: 2026-12-08T10:00       # nothing starts or changes before this
    notice_minutes: 120                  # changes starting within this after it cost 3x
    events:
      - absence: {agent: A012, from: 2026-12-08T08:00, to: 2026-12-10T00:00}
      - volume: {channel: phone, factor: 1.25, from: 2026-12-08T12:00, to: 2026-12-08T18:00}
      - handle_time: {channel: chat, factor: 1.1, from: 2026-12-08T12:00, to: 2026-12-08T18:00}
      - pin: {agent: A007, date: 2026-12-09}   # this published shift stays exactly as it is

The scenario is prepared again with the volume and handle-time factors applied before staffing
(Erlang and deferred work recomputed), each absence becomes approved sick leave, every
published shift starting before ``frozen_until`` is pinned exactly (unless an absence now
overlaps it), no other shift may start before it, and every later published shift and day
off is *kept*: changing one costs ``weights.change`` (three times that within the notice
period, twice for a day off given up); a pinned shift (the workspace's grid pins them) is
kept exactly, like a frozen one. The solver starts from the published roster and
refines it (``solver.solve(start=...)``), so what it changes is what pays for itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.errors import InputError, Problem
from api.pipeline.prepare import DemandFactors, Prepared, build
from api.pipeline.previous import read_roster
from api.scenario.csvio import cell, parse_datetime, read_rows
from api.scenario.loader import describe_error, load_scenario
from api.scenario.yamlsrc import display_path, load_tree
from common.enums import LeaveKind, LeaveStatus
from solver.schema import (
    DAY,
    BreakTime,
    KeptShift,
    Leave,
    Pinned,
    RosterResult,
    ShiftAssignment,
    WorkSegment,
)

__all__ = [
    "CHANGES_HEADER",
    "REPLAN_S",
    "Change",
    "EventsFile",
    "changes",
    "check_events",
    "field_path",
    "load_events",
    "load_for_replan",
    "published_roster",
    "replan_prepared",
    "replan_summary",
]

REPLAN_S = 10.0
"""A re-plan's default time limit (the supervisor is waiting)."""
NOTICE_WEIGHT = 3.0
"""A change starting within the notice period costs this many times ``weights.change``."""
DAY_OFF_WEIGHT = 2.0
"""Working a published day off costs this many times ``weights.change``."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Span(_Spec):
    start: datetime = Field(alias="from", description="Local date-time")
    end: datetime = Field(alias="to", description="Local date-time (exclusive)")

    @model_validator(mode="after")
    def _order(self) -> _Span:
        if self.end <= self.start:
            raise ValueError(f"to ({self.end}) must be after from ({self.start})")
        return self


class Absence(_Span):
    agent: str = Field(min_length=1)


class Factor(_Span):
    channel: str = Field(min_length=1)
    factor: float = Field(gt=0, le=100)


class Pin(_Spec):
    agent: str = Field(min_length=1)
    day: date = Field(alias="date", description="The day whose published shift is kept")


EVENT_KINDS: dict[str, type[_Spec]] = {
    "absence": Absence,
    "volume": Factor,
    "handle_time": Factor,
    "pin": Pin,
}
"""Each event is a mapping with one of these keys; its value is checked against the model."""


class EventsFile(_Spec):
    """What happened since the roster was published."""

    scenario: Path | None = Field(
        None, description="The scenario the roster was solved from (relative to this file)"
    )
    frozen_until: datetime = Field(description="Nothing starts or changes before this")
    notice_minutes: int = Field(120, ge=0, le=7 * 24 * 60)
    events: list[dict[str, Any]] = Field(default_factory=list)

    def typed(self) -> list[tuple[str, Any]]:
        """(kind, checked event) of each event (``load_events`` has checked them)."""
        out = []
        for ev in self.events:
            ((kind, body),) = ev.items()
            out.append((kind, EVENT_KINDS[kind].model_validate(body)))
        return out


@dataclass(frozen=True)
class Change:
    """One agent-day whose shift the re-plan changed, in plain words."""

    agent_id: str
    day: date
    before: str
    after: str

    def row(self) -> list[str]:
        return [self.agent_id, self.day.isoformat(), self.before, self.after]


def check_events(plain: Any, where: Callable[[tuple[str | int, ...]], str]) -> EventsFile:
    """Events from plain data (a YAML file's, or a request body's), each problem placed by
    ``where`` (a location -> 'file:line key' or a field path); InputError with all of them."""
    problems: list[Problem] = []

    def located(exc: ValidationError, prefix: tuple[str | int, ...]) -> None:
        for e in exc.errors():
            loc = (*prefix, *e["loc"])
            extra = e["type"] == "extra_forbidden"
            msg = f"unknown key {loc[-1]!r}" if extra else describe_error(e)
            problems.append(Problem(where(loc), msg))

    try:
        events = EventsFile.model_validate(plain)
    except ValidationError as exc:
        located(exc, ())
        raise InputError(problems) from None
    for i, ev in enumerate(events.events):
        kinds = [k for k in ev if k in EVENT_KINDS]
        if len(ev) != 1 or len(kinds) != 1:
            problems.append(
                Problem(
                    where(("events", i)),
                    f"expected one of {', '.join(EVENT_KINDS)} (one per event), got "
                    f"{', '.join(map(str, ev)) or 'nothing'}",
                )
            )
            continue
        try:
            EVENT_KINDS[kinds[0]].model_validate(ev[kinds[0]])
        except ValidationError as exc:
            located(exc, ("events", i, kinds[0]))
    if problems:
        raise InputError(problems)
    return events


def load_events(path: Path) -> EventsFile:
    """The events file, or InputError naming its lines and keys."""
    tree = load_tree(path)
    return check_events(tree.root.plain(), tree.where)


def field_path(loc: tuple[str | int, ...]) -> str:
    """A location as a request body's field path: ``events[0].absence.agent``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def replan_summary(
    prepared: Prepared, result: RosterResult, before: list[ShiftAssignment], solved: bool
) -> tuple[list[Change], dict[str, Any]]:
    """What the re-plan changed against the published roster (nothing without a valid one)
    and the summary's ``changes`` entry."""
    after = list(result.assignments) if solved else before
    moved = changes(prepared, before, after)
    cost = sum(x.cost for x in result.penalties if x.rule_id == "replan.change") if solved else 0
    return moved, {
        "agent_days": len(moved),
        "agents": len({c.agent_id for c in moved}),
        "cost": round(cost, 2),
    }


CHANGES_HEADER = ("agent_id", "date", "before", "after")


def published_roster(folder: Path, prepared: Prepared) -> list[ShiftAssignment]:
    """The published shifts with their breaks and channels, from ``roster.csv`` and
    ``activities.csv`` of a solve's output folder; InputError naming the file and line."""
    where = display_path(folder)
    if not folder.is_dir():
        raise InputError.one(where, "folder not found; expected the output folder of `wfm solve`")
    s = prepared.scenario
    minutes = s.minute_of
    problems: list[Problem] = []
    roster_path, acts_path = folder / "roster.csv", folder / "activities.csv"
    shifts = []
    known = {a.id for a in s.agents}
    types = {t.id: t for t in prepared.problem.shift_types}
    try:
        lines = read_roster(roster_path, need_type=True)
    except InputError as exc:
        problems += exc.problems  # reported with the activities' own
        lines = []
    for ln in lines:
        where = f"{display_path(roster_path)}:{ln.line}"
        if ln.agent_id not in known:
            problems.append(
                Problem(where, f"column agent_id: {ln.agent_id!r} is not in the scenario")
            )
        elif ln.shift_type not in types:
            problems.append(
                Problem(where, f"column shift_type: unknown shift type {ln.shift_type!r}")
            )
        else:
            shifts.append((ln.agent_id, ln.shift_type, minutes(ln.start), minutes(ln.end)))
    acts: dict[str, list[tuple[str, int, int, str]]] = defaultdict(list)
    for r in read_rows(acts_path, ("agent_id", "activity", "start", "end", "channel"), ("date",)):
        start = cell(r, "start", parse_datetime, display_path(acts_path), problems)
        end = cell(r, "end", parse_datetime, display_path(acts_path), problems)
        if start is not None and end is not None:
            acts[r.cells["agent_id"]].append(
                (r.cells["activity"], minutes(start), minutes(end), r.cells["channel"])
            )
    if problems:
        raise InputError(problems)
    out = []
    for agent, type_id, s0, s1 in shifts:
        t = types[type_id]
        rules = {b.name: b for b in t.breaks}
        breaks, work = [], []
        for kind, a0, a1, channel in sorted(acts.get(agent, []), key=lambda x: x[1]):
            if not (s0 <= a0 and a1 <= s1):
                continue
            if kind in rules:
                b = rules[kind]
                breaks.append(
                    BreakTime(name=kind, start=a0, minutes=a1 - a0, paid=b.paid, lunch=b.lunch)
                )
            elif kind == "work":
                work.append(WorkSegment(start=a0, end=a1, channel=channel or None))
        out.append(
            ShiftAssignment(
                agent_id=agent,
                day=s0 // DAY,
                shift_type=type_id,
                start=s0,
                length=s1 - s0,
                paid_minutes=s1 - s0 - t.unpaid_minutes,
                breaks=tuple(breaks),
                work=tuple(work),
            )
        )
    return out


_NOT_DEMAND = ("absence", "pin")
"""Event kinds that leave the demand as it was."""


def _factors(prepared: Prepared, events: EventsFile, where: str) -> DemandFactors:
    s = prepared.scenario
    n = s.n_slots
    out: DemandFactors = {}
    problems = []
    channels = {c.id for c in s.channels}
    for i, (kind, spec) in enumerate(events.typed()):
        if kind in _NOT_DEMAND:
            continue
        if spec.channel not in channels:
            problems.append(
                Problem(f"{where} events[{i}].{kind}.channel", f"unknown channel {spec.channel!r}")
            )
            continue
        vol, aht = out.setdefault(spec.channel, (np.ones(n), np.ones(n)))
        target = vol if kind == "volume" else aht
        for t in range(n):
            if spec.start <= s.slot_time(t) < spec.end:
                target[t] *= spec.factor
    if problems:
        raise InputError(problems)
    return out


def replan_prepared(
    prepared: Prepared, events: EventsFile, published: list[ShiftAssignment], where: str
) -> Prepared:
    """The scenario prepared again for the re-plan: demand factors, absences as sick leave,
    the frozen shifts pinned, the later ones and the days off kept (see the module)."""
    s = prepared.scenario
    if any(kind not in _NOT_DEMAND for kind, _ in events.typed()):
        prepared = dataclasses.replace(
            build(prepared.loaded, _factors(prepared, events, where)), notes=prepared.notes
        )
    p = prepared.problem
    minutes = s.minute_of
    frozen = minutes(events.frozen_until)
    if not 0 <= frozen <= p.days * DAY:
        raise InputError.one(
            f"{where} frozen_until",
            f"{events.frozen_until} is outside the horizon ({s.horizon.start} for "
            f"{s.horizon.days} days)",
        )
    known = {a.id for a in p.agents}
    absences: dict[str, list[tuple[int, int]]] = defaultdict(list)
    leave = list(p.leave)
    problems = []
    for i, (kind, a) in enumerate(events.typed()):
        if kind == "absence":
            if a.agent not in known:
                problems.append(
                    Problem(f"{where} events[{i}].absence.agent", f"unknown agent {a.agent!r}")
                )
                continue
            lo, hi = max(0, minutes(a.start)), min(p.days * DAY, minutes(a.end))
            if hi <= lo:
                problems.append(
                    Problem(f"{where} events[{i}].absence", "falls outside the horizon")
                )
                continue
            absences[a.agent].append((lo, hi))
            # a training or meeting the absence overlaps is not attended (it would make the
            # agent work, a contradiction): it becomes part of the absence, its index kept
            for k, lv in enumerate(leave):
                if lv.agent_id == a.agent and lv.on_shift and lv.start < hi and lo < lv.end:
                    leave[k] = lv.model_copy(update={"kind": LeaveKind.sick})
            whole = lo % DAY == 0 and hi % DAY == 0
            leave.append(
                Leave(
                    agent_id=a.agent,
                    kind=LeaveKind.sick,
                    status=LeaveStatus.approved,
                    start=lo,
                    end=hi,
                    whole_days=whole,
                )
            )
    by_day = {(sh.agent_id, sh.day): sh for sh in published}

    def absent(sh: ShiftAssignment) -> bool:
        """Whether one of this re-plan's absences overlaps the published shift."""
        return any(lo < sh.end and sh.start < hi for lo, hi in absences.get(sh.agent_id, []))

    pinned: set[tuple[str, int]] = set()
    for i, (kind, pin) in enumerate(events.typed()):
        if kind != "pin":
            continue
        at = f"{where} events[{i}].pin"
        d = (pin.day - s.horizon.start).days
        if pin.agent not in known:
            problems.append(Problem(f"{at}.agent", f"unknown agent {pin.agent!r}"))
        elif not 0 <= d < p.days:
            problems.append(
                Problem(
                    f"{at}.date",
                    f"{pin.day} is outside the horizon ({s.horizon.start} for "
                    f"{s.horizon.days} days)",
                )
            )
        elif (pin.agent, d) not in by_day:
            problems.append(
                Problem(at, f"{pin.agent} has no published shift on {pin.day:%a %d %b} to pin")
            )
        else:
            if absent(by_day[(pin.agent, d)]):
                problems.append(
                    Problem(
                        at,
                        f"{pin.agent}'s pinned shift on {pin.day:%a %d %b} overlaps "
                        "their absence in the same re-plan",
                    )
                )
            pinned.add((pin.agent, d))
    if problems:
        raise InputError(problems)
    notice = frozen + events.notice_minutes
    pins, kept = [], []
    n_frozen = 0
    for agent in p.agents:
        for d in range(p.days):
            sh = by_day.get((agent.id, d))
            if sh is None:
                if (d + 1) * DAY > frozen:  # a day off not yet begun stays off, if it can
                    kept.append(KeptShift(agent_id=agent.id, day=d, weight=DAY_OFF_WEIGHT))
                continue
            hit = absent(sh)
            # the published shift as a pin (the frozen past) or as kept (later)
            shape = {
                "agent_id": agent.id,
                "day": d,
                "shift_type": sh.shift_type,
                "start": sh.start - d * DAY,
                "length": sh.length,
            }
            if sh.start < frozen or (agent.id, d) in pinned:
                if not hit:
                    pins.append(Pinned(**shape))
                    n_frozen += sh.start < frozen
                continue
            weight = NOTICE_WEIGHT if sh.start < notice else 1.0
            kept.append(KeptShift(**shape, weight=weight))
    problem = p.model_copy(
        update={
            "leave": tuple(leave),
            "pinned": (*p.pinned, *pins),
            "kept": tuple(kept),
            "frozen_until": frozen,
        }
    )
    # leave indices: the absences are the problem's own (no scenario row)
    return dataclasses.replace(
        prepared,
        problem=type(p).model_validate(problem.model_dump()),
        notes=(
            *prepared.notes,
            f"re-plan: {n_frozen} shift(s) frozen before "
            f"{events.frozen_until:%a %d %b %H:%M}, {len(pins) - n_frozen} pinned, "
            f"{sum(1 for k in kept if k.shift_type)} published shift(s) and "
            f"{sum(1 for k in kept if not k.shift_type)} day(s) off kept unless worth changing",
        ),
    )


def _describe(sh: ShiftAssignment | None, origin: datetime) -> str:
    if sh is None:
        return "off"
    t0 = origin + timedelta(minutes=sh.start)
    t1 = origin + timedelta(minutes=sh.end)
    lunch = [b for b in sh.breaks if b.lunch]
    text = f"{sh.shift_type} {t0:%H:%M}-{t1:%H:%M}"
    if lunch:
        text += f", {lunch[0].name} {origin + timedelta(minutes=lunch[0].start):%H:%M}"
    return text


def changes(
    prepared: Prepared, before: list[ShiftAssignment], after: list[ShiftAssignment]
) -> list[Change]:
    """Per agent and day, the shifts (times, type, lunch) that differ, in plain words."""
    s = prepared.scenario
    origin = datetime.combine(s.horizon.start, datetime.min.time())
    old = {(sh.agent_id, sh.day): sh for sh in before}
    new = {(sh.agent_id, sh.day): sh for sh in after}
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = _describe(old.get(key), origin), _describe(new.get(key), origin)
        if a != b:
            out.append(Change(key[0], s.horizon.start + timedelta(days=key[1]), a, b))
    return out


def scenario_path(events_path: Path, events: EventsFile, folder: Path) -> Path:
    """The scenario to re-plan: the events file's ``scenario`` (relative to it), else the one
    the published summary.json names."""
    if events.scenario is not None:
        path = events_path.parent / events.scenario
        if not path.exists():
            raise InputError.one(f"{display_path(events_path)} scenario", f"file not found: {path}")
        return path
    summary = folder / "summary.json"
    try:
        named = json.loads(summary.read_text(encoding="utf-8")).get("scenario")
    except (OSError, ValueError):
        named = None
    if not named or not Path(named).exists():
        raise InputError.one(
            f"{display_path(events_path)}",
            "say which scenario the roster was solved from (scenario: path/to/scenario.yaml)",
        )
    return Path(named)


def load_for_replan(
    events_path: Path, folder: Path
) -> tuple[Prepared, EventsFile, list[ShiftAssignment]]:
    """Events, the scenario prepared for the re-plan, and the published roster."""
    events = load_events(events_path)
    scenario = scenario_path(events_path, events, folder)
    prepared = build(load_scenario(scenario))
    published = published_roster(folder, prepared)
    where = display_path(events_path)
    return replan_prepared(prepared, events, published, where), events, published
