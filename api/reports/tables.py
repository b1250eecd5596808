"""The tables of a solved scenario: roster, activities, coverage, leave decisions, staffing plan,
and the summary. One source for the CSV files, the XLSX workbook, the calendars and the HTML."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from api.pipeline.outcome import Outcome, service_levels
from api.pipeline.plans import fmt
from api.pipeline.prepare import describe_slots
from api.scenario.models import LeaveSpec
from api.scenario.yamlsrc import display_path
from common.enums import LeaveStatus
from solver.schema import DAY, ShiftAssignment

ROSTER_HEADER = ("agent_id", "name", "date", "shift_type", "start", "end", "paid_minutes")
ACTIVITY_HEADER = ("agent_id", "date", "activity", "start", "end", "channel")
COVERAGE_HEADER = (
    "interval_start",
    "channel",
    "required",
    "scheduled",
    "under",
    "over",
    "projected_service_level",
)
LEAVE_HEADER = ("agent_id", "start", "end", "kind", "granted", "reason")
OUTSIDE_HORIZON = "outside the planning horizon: not decided"
STAFFING_HEADER = (
    "interval_start",
    "channel",
    "volume",
    "aht_seconds",
    "traffic_erlangs",
    "agents_erlang",
    "agents_after_occupancy",
    "agents_required",
    "service_level",
    "occupancy",
)

RULE_LABELS = {
    "coverage.under": "Under cover: agent-intervals short of the requirement",
    "coverage.over": "Over cover: agent-intervals above the requirement (and idle time)",
    "deferred.late": "Deferred work overdue",
    "leave.request_denied": "Leave requests refused",
    "preference.shift_type": "Shifts not of a preferred type",
    "days_off.consecutive": "Isolated days off",
    "fairness.weekend": "Uneven weekend work",
    "fairness.night": "Uneven night shifts",
    "fairness.late": "Uneven late shifts",
    "fairness.holiday": "Uneven work on public holidays",
    "replan.change": "Published shifts and days off changed by the re-plan",
}


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="minutes")


@dataclass(frozen=True)
class Activity:
    agent_id: str
    day: date
    activity: str
    start: datetime
    end: datetime
    channel: str = ""

    def row(self) -> list[str]:
        return [
            self.agent_id,
            self.day.isoformat(),
            self.activity,
            iso(self.start),
            iso(self.end),
            self.channel,
        ]


def roster_rows(o: Outcome) -> list[list[str]]:
    """One row per shift of the roster; none without a valid roster (see ``Outcome.solved``)."""
    if not o.solved:
        return []
    s = o.prepared.scenario
    names = {a.id: a.name for a in s.agents}
    out = []
    for a in sorted(o.result.assignments, key=lambda x: (x.agent_id, x.start)):
        out.append(
            [
                a.agent_id,
                names.get(a.agent_id, ""),
                (s.horizon.start + timedelta(days=a.day)).isoformat(),
                a.shift_type,
                iso(s.minute_time(a.start)),
                iso(s.minute_time(a.end)),
                str(a.paid_minutes),
            ]
        )
    return out


def _merged_work(a: ShiftAssignment) -> list[tuple[int, int, str | None]]:
    out: list[tuple[int, int, str | None]] = []
    for seg in sorted(a.work, key=lambda w: w.start):
        if out and out[-1][1] == seg.start and out[-1][2] == seg.channel:
            out[-1] = (out[-1][0], seg.end, seg.channel)
        else:
            out.append((seg.start, seg.end, seg.channel))
    return out


def shift_activities(o: Outcome, a: ShiftAssignment) -> list[Activity]:
    """Briefing, work per channel, breaks, training and meetings of one shift, in time order."""
    s = o.prepared.scenario
    p = o.prepared.problem
    day = s.horizon.start + timedelta(days=a.day)
    out: list[Activity] = []

    def add(kind: str, lo: int, hi: int, channel: str = "") -> None:
        if hi > lo:
            out.append(
                Activity(a.agent_id, day, kind, s.minute_time(lo), s.minute_time(hi), channel)
            )

    if a.briefing_minutes:
        add("briefing", a.start, a.start + a.briefing_minutes)
    for b in a.breaks:
        add("lunch" if b.lunch else "break", b.start, b.start + b.minutes)
    for lo, hi, ch in _merged_work(a):
        add("work", lo, hi, ch or "")
    for lv in p.leave:
        if (
            lv.agent_id == a.agent_id
            and not lv.whole_days
            and lv.on_shift
            and lv.status is LeaveStatus.approved
            and a.start <= lv.start < a.end
        ):
            add(lv.kind.value, lv.start, min(lv.end, a.end))
    return sorted(out, key=lambda x: (x.start, x.end))


def leave_activities(o: Outcome) -> list[Activity]:
    """Approved leave and granted requests (not training or meetings, which are on shift)."""
    s = o.prepared.scenario
    p = o.prepared.problem
    granted = {d.leave_index for d in o.result.leave_decisions if d.granted}
    out = []
    for i, lv in enumerate(p.leave):
        if lv.on_shift and not lv.whole_days:
            continue
        if lv.status is LeaveStatus.requested and i not in granted:
            continue
        if lv.whole_days:
            for d in lv.days():
                if 0 <= d < p.days:
                    out.append(
                        Activity(
                            lv.agent_id,
                            s.horizon.start + timedelta(days=d),
                            "leave",
                            s.minute_time(d * DAY),
                            s.minute_time((d + 1) * DAY),
                        )
                    )
        else:
            out.append(
                Activity(
                    lv.agent_id,
                    s.horizon.start + timedelta(days=lv.start // DAY),
                    "leave",
                    s.minute_time(lv.start),
                    s.minute_time(lv.end),
                )
            )
    return out


def activities(o: Outcome) -> list[Activity]:
    acts: list[Activity] = []
    for a in o.result.assignments:
        acts += shift_activities(o, a)
    acts += leave_activities(o)
    return sorted(acts, key=lambda x: (x.agent_id, x.start, x.end))


def coverage_rows(o: Outcome) -> list[list[str]]:
    s = o.prepared.scenario
    out = []
    for t in range(s.n_slots):
        start = iso(s.slot_time(t))
        for ch in s.channels:
            c = o.channels[ch.id]
            sl = float(c.service_level[t])
            out.append(
                [
                    start,
                    ch.id,
                    fmt(float(c.required[t]), 2),
                    fmt(int(c.scheduled[t])),
                    fmt(float(c.under[t]), 2),
                    fmt(float(c.over[t]), 2),
                    "" if not math.isfinite(sl) else f"{sl:.4f}",
                ]
            )
    return out


def _leave_text(value: date | datetime) -> str:
    return iso(value) if isinstance(value, datetime) else value.isoformat()


def leave_rows(o: Outcome) -> list[list[str]]:
    """Every requested leave of the scenario, decided or outside the horizon."""
    s = o.prepared.scenario
    decided: dict[int, tuple[bool, str]] = {}
    for d in o.result.leave_decisions if o.solved else ():
        decided[o.prepared.leave_index[d.leave_index]] = (d.granted, d.reason)
    in_horizon = set(o.prepared.leave_index)
    out = []
    for i, lv in enumerate(s.leave):
        if lv.status.value != "requested":
            continue
        if i in decided:
            granted, reason = decided[i]
            g = "true" if granted else "false"
        elif i not in in_horizon:
            g, reason = "", OUTSIDE_HORIZON
        else:
            g, reason = "", f"not decided: the solve ended {o.result.status.value}"
        out.append(
            [lv.agent_id, _leave_text(lv.start), _leave_text(lv.end), lv.kind.value, g, reason]
        )
    return out


def leave_counts(o: Outcome) -> dict[str, int]:
    """The requested leave as ``leave_decisions.csv`` states it: ``requested`` inside the
    horizon, of which ``granted``, ``refused`` and ``not_decided`` (the solve ended without a
    valid roster); ``outside_horizon``: requests the scenario holds beyond the horizon."""
    out = {"requested": 0, "granted": 0, "refused": 0, "not_decided": 0, "outside_horizon": 0}
    for row in leave_rows(o):
        granted, reason = row[4], row[5]
        if reason == OUTSIDE_HORIZON:
            out["outside_horizon"] += 1
            continue
        out["requested"] += 1
        out[{"true": "granted", "false": "refused"}.get(granted, "not_decided")] += 1
    return out


def staffing_rows(o: Outcome) -> list[list[str]]:
    s = o.prepared.scenario
    out = []
    for ch in s.channels:
        d = o.prepared.demand[ch.id]
        p = d.plan
        for t in range(s.n_slots):
            out.append(
                [
                    iso(s.slot_time(t)),
                    ch.id,
                    fmt(float(d.volume[t])),
                    fmt(float(d.aht_seconds[t])),
                    fmt(float(p.traffic_erlangs[t])),
                    fmt(int(p.agents_erlang[t])),
                    fmt(int(p.agents_after_occupancy[t])),
                    fmt(int(p.agents_required[t])),
                    fmt(float(p.service_level[t])),
                    fmt(float(p.occupancy[t])),
                ]
            )
    return out


def penalties_by_rule(o: Outcome) -> dict[str, dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for p in o.result.penalties:
        g = groups.setdefault(p.rule_id, {"count": 0, "cost": 0.0})
        g["count"] += 1
        g["cost"] += p.cost
    return {
        k: {"count": v["count"], "cost": round(v["cost"], 4)}
        for k, v in sorted(groups.items(), key=lambda kv: -kv[1]["cost"])
    }


def penalty_examples(o: Outcome, per_rule: int = 3) -> dict[str, list[str]]:
    """The costliest subjects of each rule, in words."""
    by_rule: dict[str, list[Any]] = defaultdict(list)
    for p in o.result.penalties:
        by_rule[p.rule_id].append(p)
    s = o.prepared.scenario
    out = {}
    for rule, items in by_rule.items():
        items.sort(key=lambda p: -p.cost)
        texts = []
        for p in items[:per_rule]:
            words = _subject_words(p.subject, s)
            if rule == "leave.request_denied":
                words = _leave_words(o, p.subject)
            texts.append(words + (f" ({p.detail})" if p.detail else ""))
        out[rule] = texts
    return out


def _subject_words(subject: str, s: Any) -> str:
    head, _, tail = subject.rpartition(":")
    if head and tail.isdigit():
        t = int(tail)
        if head in {c.id for c in s.channels} or head == "idle":
            return f"{head} {s.slot_time(t):%a %d %b %H:%M}"
    return subject


def _leave_words(o: Outcome, subject: str) -> str:
    """'A05:1' (agent and leave number) -> 'A05 2026-12-08..2026-12-08'."""
    _, _, tail = subject.rpartition(":")
    if not tail.isdigit() or int(tail) >= len(o.prepared.leave_index):
        return subject
    lv = leave_of(o, int(tail))
    return f"{lv.agent_id} {_leave_text(lv.start)}..{_leave_text(lv.end)}"


def explanation(o: Outcome) -> list[dict[str, Any]]:
    return [
        {"message": c.message, "rules": list(c.rules), "relaxation": c.relaxation}
        for c in o.result.explanation
    ]


def summary(o: Outcome, scenario_file: str, time_limit_s: float) -> dict[str, Any]:
    """summary.json: the contract's keys first, then more detail."""
    r = o.result
    s = o.prepared.scenario
    k = o.kpis
    solved = r.status.value in ("optimal", "feasible")
    out: dict[str, Any] = {
        "status": r.status.value,
        "objective": r.objective,
        "best_bound": r.best_bound,
        "gap": r.gap,
        "wall_time_s": r.wall_time_s,
        "under_cover_agent_hours": k.get("under_cover_agent_hours") if solved else None,
        "over_cover_agent_hours": k.get("over_cover_agent_hours") if solved else None,
        "service_level": service_levels(o) if solved else {},
        "penalties": penalties_by_rule(o),
        "agents_scheduled": k.get("agents_scheduled", 0),
        "solver_version": r.solver_version,
        "reproducible": r.reproducible,
        "scenario_sha256": o.prepared.sha256,
    }
    if r.status.value in ("infeasible", "timeout_no_solution"):
        out["explanation"] = explanation(o)
    # always present (empty when none); without a valid roster they are the best roster's,
    # which no table holds
    out["hard_rule_violations"] = {
        "count": len(o.violations),
        "first": list(o.violations[:20]),
        "roster_written": o.solved,
    }
    out["scenario"] = {
        "name": s.name,
        "description": s.description,
        "file": scenario_file,
        "horizon": {
            "start": s.horizon.start.isoformat(),
            "days": s.horizon.days,
            "interval_minutes": s.horizon.interval_minutes,
            "timezone": s.horizon.timezone,
        },
    }
    out["service_level_target"] = {
        ch.id: o.prepared.demand[ch.id].targets.service_level for ch in s.channels
    }
    out["volume"] = {ch.id: round(o.prepared.demand[ch.id].total_volume, 1) for ch in s.channels}
    for key in (
        "required_agent_hours",
        "scheduled_agent_hours",
        "paid_hours",
        "shifts",
        "agents_total",
    ):
        out[key] = k.get(key)
    out["leave"] = leave_counts(o)
    out["message"] = r.message
    out["notes"] = list(o.prepared.notes)
    out["time_limit_s"] = time_limit_s
    out["problem_sha256"] = r.problem_sha256
    out["phases"] = dict(r.phases)
    return out


def leave_of(o: Outcome, leave_index: int) -> LeaveSpec:
    return o.prepared.scenario.leave[o.prepared.leave_index[leave_index]]


def unrostered_text(o: Outcome) -> str:
    s = o.prepared.scenario
    return describe_slots(s, [not r for r in o.prepared.rosterable])


def scenario_label(o: Outcome) -> str:
    return f"{o.prepared.scenario.name} ({display_path(o.prepared.loaded.path)})"
