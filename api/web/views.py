"""What the roster and coverage pages show, built once per finished solve from the service's own
outcome (``api.service.impact.load_outcome``: the stored revision and result, evaluated again)
and the report's grid (``api.reports.html.roster_grid``), and kept in a small cache on the app
(a finished solve never changes)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session
from starlette.requests import Request

from api.errors import ConflictError
from api.pipeline.outcome import Outcome
from api.reports import tables
from api.reports.html import ACTIVITY_COLOURS, channel_colours, roster_grid
from api.service.impact import load_outcome
from api.settings import Settings
from api.store.db import JobRow, RevisionRow
from api.store.models import JobKind, JobStatus
from common.enums import ChannelKind
from forecast.deferred import backlog, deferred_due
from solver.shifts import FAIRNESS_CATEGORIES, fairness_flags

__all__ = ["AgentRow", "ChannelSeries", "RosterView", "roster_view"]

CACHE_SIZE = 6


@dataclass(frozen=True)
class AgentRow:
    """One agent's line of the grid with the totals beside it."""

    id: str
    name: str
    team: str
    contract: str
    skills: tuple[str, ...]
    roles: tuple[str, ...]
    cells: list[dict[str, Any]]
    paid_h: float
    contract_min_h: float
    contract_max_h: float
    counts: dict[str, int]

    @property
    def outside_contract(self) -> bool:
        return not (self.contract_min_h - 1e-6 <= self.paid_h <= self.contract_max_h + 1e-6)


@dataclass(frozen=True)
class TimelineItem:
    activity: str
    start: datetime
    end: datetime
    channel: str
    colour: str


@dataclass(frozen=True)
class ChannelSeries:
    """One channel's coverage per interval for the charts and the under-target list."""

    id: str
    kind: str
    colour: str
    target: float | None
    overall: float | None
    required: list[float]
    scheduled: list[int]
    under: list[float]
    service_level: list[float | None]
    backlog_items: list[float] | None = None

    @property
    def deferred(self) -> bool:
        return self.kind == ChannelKind.deferred.value


@dataclass
class RosterView:
    """A finished solve as the pages show it."""

    job_id: str
    scenario_id: int
    revision: int
    scenario_name: str
    status: str
    solved: bool
    objective: float | None
    bound: float | None
    gap: float | None
    days: list[date]
    rows: list[AgentRow]
    shift_colours: dict[str, str]
    violations: tuple[str, ...]
    penalties: list[dict[str, Any]]
    explanation: list[dict[str, Any]]
    channels: list[ChannelSeries]
    slot_starts: list[datetime]
    interval_minutes: int
    timelines: dict[tuple[str, int], list[TimelineItem]] = field(default_factory=dict)
    leave_notes: dict[tuple[str, int], str] = field(default_factory=dict)

    def options(self, attr: str) -> list[str]:
        """The distinct values of an agent attribute (team, contract, skills, roles)."""
        values: set[str] = set()
        for r in self.rows:
            v = getattr(r, attr)
            values.update(v if isinstance(v, tuple) else (v,))
        return sorted(x for x in values if x)

    def under_target(self) -> list[dict[str, Any]]:
        """Intervals under target: service level below the channel's target (or short of the
        requirement), on-time share below 100 % for deferred work."""
        out = []
        for ch in self.channels:
            for t, start in enumerate(self.slot_starts):
                sl = ch.service_level[t]
                if ch.deferred:
                    bad = sl is not None and sl < 1.0 - 1e-6
                else:
                    short = ch.under[t] > 1e-6
                    low = ch.target is not None and sl is not None and sl < ch.target - 1e-9
                    bad = (short or low) and ch.required[t] > 0
                if bad:
                    out.append(
                        {
                            "start": start,
                            "channel": ch.id,
                            "kind": ch.kind,
                            "required": ch.required[t],
                            "scheduled": ch.scheduled[t],
                            "under": ch.under[t],
                            "service_level": sl,
                            "target": 1.0 if ch.deferred else ch.target,
                            "backlog": ch.backlog_items[t] if ch.backlog_items else None,
                        }
                    )
        return sorted(out, key=lambda r: (r["start"], r["channel"]))


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _backlog(o: Outcome, channel: str) -> list[float]:
    """Items waiting at the end of each interval when the scheduled agents work the deferred
    channel earliest deadline first (as ``api.pipeline.outcome.on_time`` projects it)."""
    d = o.prepared.demand[channel]
    c = o.channels[channel]
    slot_s = o.prepared.scenario.horizon.interval_minutes * 60.0
    t = d.targets
    assert t.deadline_minutes is not None
    night = None
    if t.overnight_deadline is not None:
        night = t.overnight_deadline.hour * 3600.0 + t.overnight_deadline.minute * 60.0
    staffed = [bool(w and r) for w, r in zip(d.work_mask, o.prepared.rosterable, strict=True)]
    due = deferred_due(
        c.scheduled.size, slot_s, t.deadline_minutes * 60.0, np.asarray(staffed), night, 0.0
    )
    productive = c.scheduled * (1.0 - t.shrinkage) * t.max_occupancy
    aht = np.where(d.aht_seconds > 0, d.aht_seconds, 1.0)
    _, items = backlog(d.volume, aht, slot_s, productive, due)
    return [round(float(x), 2) for x in items]


def _channels(o: Outcome) -> list[ChannelSeries]:
    colours = channel_colours(o)
    out = []
    for ch in o.prepared.scenario.channels:
        c = o.channels[ch.id]
        deferred = ch.kind is ChannelKind.deferred
        out.append(
            ChannelSeries(
                id=ch.id,
                kind=ch.kind.value,
                colour=colours[ch.id],
                target=c.target,
                overall=c.overall_service_level,
                required=[round(float(x), 2) for x in c.required],
                scheduled=[int(x) for x in c.scheduled],
                under=[round(float(x), 2) for x in c.under],
                service_level=[_finite(float(x)) for x in c.service_level],
                backlog_items=_backlog(o, ch.id) if deferred and o.solved else None,
            )
        )
    return out


def _rows(o: Outcome) -> list[AgentRow]:
    s = o.prepared.scenario
    p = o.prepared.problem
    grid = roster_grid(o)
    contracts = {c.id: c for c in s.contracts}
    holidays = set(p.holidays)
    counts: dict[str, dict[str, int]] = {
        a.id: dict.fromkeys(FAIRNESS_CATEGORIES, 0) for a in s.agents
    }
    for sh in o.result.assignments:
        flags = fairness_flags(
            sh.start, sh.length, sh.day, p.weekday(sh.day), p.rules, sh.day in holidays
        )
        for name, flag in zip(FAIRNESS_CATEGORIES, flags, strict=True):
            counts[sh.agent_id][name] += int(flag)
    weeks = s.horizon.days / 7.0
    rows = []
    for r in grid["rows"]:
        a = r["agent"]
        hours = contracts[a.contract].hours_per_week
        cells = [
            {k: v for k, v in c.items() if k != "segments"}
            | {"training": any(x["kind"] in ("training", "meeting") for x in c.get("segments", []))}
            for c in r["cells"]
        ]
        rows.append(
            AgentRow(
                id=a.id,
                name=a.name,
                team=a.team,
                contract=a.contract,
                skills=tuple(dict.fromkeys(x.split(":")[0] for x in a.skills)),
                roles=tuple(a.roles),
                cells=cells,
                paid_h=float(r["paid"]),
                contract_min_h=round(hours.min * weeks, 2),
                contract_max_h=round(min(hours.max * weeks, 24 * s.horizon.days), 2),
                counts=counts.get(a.id, dict.fromkeys(FAIRNESS_CATEGORIES, 0)),
            )
        )
    return rows


def _timelines(o: Outcome) -> dict[tuple[str, int], list[TimelineItem]]:
    s = o.prepared.scenario
    colours = channel_colours(o)
    out: dict[tuple[str, int], list[TimelineItem]] = {}

    def item(x: tables.Activity) -> TimelineItem:
        colour = (
            colours.get(x.channel, "#bdc3c7")
            if x.activity == "work"
            else ACTIVITY_COLOURS.get(x.activity, "#c8b6e2")
        )
        return TimelineItem(x.activity, x.start, x.end, x.channel, colour)

    for a in o.result.assignments:
        out[(a.agent_id, a.day)] = [item(x) for x in tables.shift_activities(o, a)]
    for x in tables.leave_activities(o):
        d = (x.day - s.horizon.start).days
        out.setdefault((x.agent_id, d), []).append(item(x))
    for items in out.values():
        items.sort(key=lambda i: (i.start, i.end))
    return out


def _penalties(o: Outcome) -> list[dict[str, Any]]:
    by_rule = tables.penalties_by_rule(o)
    examples = tables.penalty_examples(o)
    total = sum(v["cost"] for v in by_rule.values()) or 1.0
    return [
        {
            "rule": k,
            "label": tables.RULE_LABELS.get(k, k),
            "count": v["count"],
            "cost": v["cost"],
            "share": v["cost"] / total,
            "examples": examples.get(k, []),
        }
        for k, v in by_rule.items()
    ]


def build_view(job: JobRow, revision: int, o: Outcome) -> RosterView:
    s = o.prepared.scenario
    summary = job.summary or {}
    return RosterView(
        job_id=job.id,
        scenario_id=job.scenario_id,
        revision=revision,
        scenario_name=s.name,
        status=o.result.status.value,
        solved=o.solved,
        objective=summary.get("objective"),
        bound=summary.get("best_bound"),
        gap=summary.get("gap"),
        days=[s.horizon.start + timedelta(days=d) for d in range(s.horizon.days)],
        rows=_rows(o) if o.solved else [],
        shift_colours=roster_grid(o)["shift_colour"] if o.solved else {},
        violations=o.violations,
        penalties=_penalties(o),
        explanation=tables.explanation(o),
        channels=_channels(o),
        slot_starts=[s.slot_time(t) for t in range(s.n_slots)],
        interval_minutes=s.horizon.interval_minutes,
        timelines=_timelines(o) if o.solved else {},
    )


@dataclass
class ViewCache:
    """The last few solves' views (finished solves never change)."""

    items: OrderedDict[str, RosterView] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cache(request: Request) -> ViewCache:
    state = request.app.state
    cache: ViewCache | None = getattr(state, "web_views", None)
    if cache is None:
        cache = ViewCache()
        state.web_views = cache
    return cache


def roster_view(request: Request, session: Session, settings: Settings, job: JobRow) -> RosterView:
    """The view of a finished solve (409 while it runs, for a failed one or a comparison)."""
    if job.kind != JobKind.solve:
        raise ConflictError(f"{job.id} is a comparison; open one of its variants to see a roster")
    if job.status != JobStatus.finished:
        raise ConflictError(
            f"solve {job.id} is {job.status}; its roster is there once it has finished"
        )
    cache = _cache(request)
    with cache.lock:
        view = cache.items.get(job.id)
        if view is not None:
            cache.items.move_to_end(job.id)
            return view
    rev = session.get(RevisionRow, job.revision_id)
    view = build_view(
        job, rev.number if rev is not None else 0, load_outcome(session, job, settings.data_dir)
    )
    with cache.lock:
        cache.items[job.id] = view
        while len(cache.items) > CACHE_SIZE:
            cache.items.popitem(last=False)
    return view


def epoch(t: datetime) -> int:
    """A local date-time as seconds since 1970 read as UTC (the charts draw wall-clock time)."""
    return int(t.replace(tzinfo=UTC).timestamp())


VARIANT_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")


def what_if_chart(variants: list[tuple[str, RosterView]]) -> dict[str, Any] | None:
    """The comparison's charts side by side: per channel, each variant's required and scheduled
    agents and its projected service level (on-time share for deferred work) per interval, on
    the first variant's intervals. A variant over other intervals (its overrides changed the
    horizon) is left out of the charts and named."""
    if not variants:
        return None
    x = variants[0][1].slot_starts
    kept = [(name, v) for name, v in variants if v.slot_starts == x]
    left_out = [name for name, v in variants if v.slot_starts != x]
    ids: list[str] = []
    for _, v in kept:
        ids += [c.id for c in v.channels if c.id not in ids]
    channels = []
    for cid in ids:
        series = []
        kind, target = "", None
        for i, (name, v) in enumerate(kept):
            c = next((c for c in v.channels if c.id == cid), None)
            if c is None:
                continue
            kind, target = c.kind, c.target if target is None else target
            series.append(
                {
                    "variant": name,
                    "colour": VARIANT_COLOURS[i % len(VARIANT_COLOURS)],
                    "required": c.required,
                    "scheduled": c.scheduled,
                    "service_level": c.service_level,
                    "overall": c.overall,
                }
            )
        channels.append(
            {
                "id": cid,
                "kind": kind,
                "deferred": kind == ChannelKind.deferred.value,
                "target": target,
                "series": series,
            }
        )
    return {"x": [epoch(t) for t in x], "channels": channels, "left_out": left_out}
