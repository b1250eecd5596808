"""What granting leave would do to a roster, before anyone approves it.

The roster is a finished solve: its scenario is rebuilt from the stored revision and the job's
own inputs, and its result re-evaluated (``api.pipeline.evaluate``), so the "before" numbers are
the solve's own. For each request the agent's work inside the leave (the whole shift for a
whole-day leave on the shift's day) is taken off the scheduled agents per channel and interval,
and the service level is projected again with ``forecast.staffing.project_arrays`` (on-time
share for deferred work, as the roster's report computes it). Hard floors and role cover that
would no longer hold are listed.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ConflictError, InputError, Problem
from api.pipeline.outcome import Outcome, evaluate, on_time
from api.pipeline.prepare import describe_slots, prepare_scenario
from api.service.schemas import (
    ChannelImpact,
    IntervalChange,
    LeaveImpactRequest,
    LeaveImpactResponse,
    RequestImpact,
)
from api.store.db import ArtifactRow, JobRow, RevisionRow
from api.store.jobs import get_job
from api.store.leave import get_leave, spec_of, text_of
from api.store.models import JobKind, JobStatus
from api.store.scenarios import materialize, scratch
from api.store.worker import scenario_entry
from common.enums import ChannelKind, LeaveKind, LeaveStatus
from forecast.staffing import project_arrays, weighted
from solver.schema import DAY, RosterResult
from solver.solve import problem_hash

__all__ = ["leave_impact", "load_outcome"]

log = logging.getLogger("wfm.impact")
SOLVED = ("optimal", "feasible")


@dataclass(frozen=True)
class _Request:
    agent_id: str
    start: date | datetime
    end: date | datetime
    kind: LeaveKind
    leave_id: int | None = None
    notes: tuple[str, ...] = ()


@dataclass
class _Removal:
    """Work and duty taken away: (agent, channel, slot) and (agent, slot)."""

    work: set[tuple[str, str, int]] = field(default_factory=set)
    duty: set[tuple[str, int]] = field(default_factory=set)
    shifts: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- roster
def load_outcome(session: Session, job: JobRow, data_dir: Path) -> Outcome:
    """The finished solve's scenario and result, evaluated again."""
    revision = session.get(RevisionRow, job.revision_id)
    assert revision is not None
    artifacts = {
        a.name: a.content
        for a in session.scalars(
            select(ArtifactRow).where(
                ArtifactRow.job_id == job.id,
                (ArtifactRow.name == "result.json") | ArtifactRow.name.startswith("inputs/"),
            )
        )
    }
    if "result.json" not in artifacts:
        raise ConflictError(f"solve {job.id} has no stored result")
    with scratch(data_dir) as folder:
        materialize(revision, folder)
        for name, content in artifacts.items():
            if name.startswith("inputs/"):
                (folder / name.removeprefix("inputs/")).write_bytes(content)
        entry = scenario_entry(list(artifacts), revision.main_file)
        try:
            prepared = prepare_scenario(folder / entry)
        except InputError as exc:
            raise ConflictError(
                f"the scenario of solve {job.id} cannot be rebuilt: {exc.problems[0]}"
            ) from None
    result = RosterResult.model_validate_json(artifacts["result.json"])
    if result.problem_sha256 and problem_hash(prepared.problem) != result.problem_sha256:
        log.warning("solve %s: the rebuilt problem differs from the solved one", job.id)
    return evaluate(prepared, result)


def _pick_solve(session: Session, solve_id: str | None, requests: Sequence[_Request]) -> JobRow:
    if solve_id is not None:
        job = get_job(session, solve_id)
        if job.kind != JobKind.solve:
            raise ConflictError(f"{solve_id} is a comparison; give one of its variants")
        if job.status != JobStatus.finished or job.result_status not in SOLVED:
            raise ConflictError(
                f"solve {solve_id} has no roster ({job.status}"
                + (f", {job.result_status}" if job.result_status else "")
                + ")"
            )
        return job
    agents = {r.agent_id for r in requests}
    first = min(_day(r.start) for r in requests)
    jobs = session.scalars(
        select(JobRow)
        .where(
            JobRow.kind == JobKind.solve.value,
            JobRow.status == JobStatus.finished.value,
            JobRow.result_status.in_(SOLVED),
            JobRow.variant.is_(None),
        )
        .order_by(JobRow.finished_at.desc())
        .limit(200)
    )
    for job in jobs:
        revision = session.get(RevisionRow, job.revision_id)
        if revision is None:
            continue
        ov = revision.overview
        start = date.fromisoformat(ov["horizon"]["start"])
        end = start + timedelta(days=int(ov["horizon"]["days"]))
        if agents <= set(ov["agents"]) and start <= first < end:
            return job
    raise ConflictError(
        "no finished roster has these agents and covers "
        f"{first.isoformat()}; solve the scenario first or give solve_id"
    )


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


# --------------------------------------------------------------------------- impact
def _bounds(r: _Request, o: Outcome) -> tuple[int, int, bool]:
    """Minutes from the horizon start [lo, hi), and whether it is whole days."""
    s = o.prepared.scenario
    origin = datetime.combine(s.horizon.start, time())
    if isinstance(r.start, datetime) and isinstance(r.end, datetime):
        lo = int((r.start - origin).total_seconds() // 60)
        hi = int((r.end - origin).total_seconds() // 60)
        return lo, hi, False
    lo = (_day(r.start) - s.horizon.start).days * DAY
    hi = ((_day(r.end) - s.horizon.start).days + 1) * DAY
    return lo, hi, True


def _removal(o: Outcome, requests: Iterable[_Request]) -> _Removal:
    s = o.prepared.scenario
    slot = s.horizon.interval_minutes
    out = _Removal()
    for r in requests:
        lo, hi, whole = _bounds(r, o)
        for a in o.result.assignments:
            if a.agent_id != r.agent_id:
                continue
            all_of_it = whole and lo <= a.day * DAY < hi
            cut_lo, cut_hi = (a.start, a.end) if all_of_it else (max(a.start, lo), min(a.end, hi))
            if cut_hi <= cut_lo:
                continue
            touched = False
            for seg in a.work:
                if seg.channel is None:
                    continue
                x, y = max(seg.start, cut_lo), min(seg.end, cut_hi)
                for t in range(x // slot, -(-y // slot)):
                    out.work.add((a.agent_id, seg.channel, t))
                    touched = True
            breaks = {
                t for b in a.breaks for t in range(b.start // slot, (b.start + b.minutes) // slot)
            }
            for t in range(cut_lo // slot, -(-cut_hi // slot)):
                if t not in breaks:
                    out.duty.add((a.agent_id, t))
            if touched:
                out.shifts.append(
                    f"{s.minute_time(a.start):%a %d %b} {a.shift_type} "
                    f"{s.minute_time(a.start):%H:%M}-{s.minute_time(a.end):%H:%M}"
                    + (
                        ""
                        if all_of_it
                        else f" (from {s.minute_time(cut_lo):%H:%M} to "
                        f"{s.minute_time(cut_hi):%H:%M})"
                    )
                )
    return out


def _projected(o: Outcome, channel: str, scheduled: np.ndarray) -> np.ndarray:
    """Service level per interval (on-time share for deferred work) of ``scheduled`` agents,
    computed as ``api.pipeline.evaluate`` computes the roster's."""
    s = o.prepared.scenario
    d = o.prepared.demand[channel]
    slot_s = s.horizon.interval_minutes * 60.0
    if d.spec.kind.value == "deferred":
        staffed = [bool(w and r) for w, r in zip(d.work_mask, o.prepared.rosterable, strict=True)]
        return on_time(d, scheduled, staffed, slot_s)
    return project_arrays(
        d.volume, d.aht_seconds, slot_s, scheduled, d.targets, apply_shrinkage=True
    ).service_level


def _sl(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def _channels(o: Outcome, removal: _Removal) -> list[ChannelImpact]:
    s = o.prepared.scenario
    n = s.n_slots
    slot_h = s.horizon.interval_minutes / 60.0
    problem = {c.id: c for c in o.prepared.problem.channels}
    out = []
    for ch in s.channels:
        c = o.channels[ch.id]
        d = o.prepared.demand[ch.id]
        removed = np.zeros(n)
        for _, channel, t in removal.work:
            if channel == ch.id and 0 <= t < n:
                removed[t] += 1
        before = c.scheduled
        after = np.maximum(before - removed, 0)
        sl_after = _projected(o, ch.id, after) if removed.any() else c.service_level
        floors = problem[ch.id].min_staff
        broken = (
            [bool(floors and after[t] < floors[t] <= before[t]) for t in range(n)] if floors else []
        )
        changed = np.flatnonzero(removed > 0)
        drops = sorted(
            changed,
            key=lambda t: -(np.nan_to_num(c.service_level[t]) - np.nan_to_num(sl_after[t])),
        )
        out.append(
            ChannelImpact(
                channel=ch.id,
                kind=ChannelKind(ch.kind.value),
                service_level_target=d.targets.service_level,
                service_level_before=_sl(weighted(c.service_level, d.volume)),
                service_level_after=_sl(weighted(sl_after, d.volume)),
                under_cover_agent_hours_before=round(
                    float(np.maximum(c.required - before, 0).sum()) * slot_h, 2
                ),
                under_cover_agent_hours_after=round(
                    float(np.maximum(c.required - after, 0).sum()) * slot_h, 2
                ),
                agent_hours_removed=round(float(removed.sum()) * slot_h, 2),
                intervals_changed=len(changed),
                floors_broken=(
                    [f"at least {max(floors)} on {ch.id}: {describe_slots(s, broken)}"]
                    if any(broken)
                    else []
                ),
                worst_intervals=[
                    IntervalChange(
                        interval_start=s.slot_time(int(t)).isoformat(timespec="minutes"),
                        required=round(float(c.required[t]), 2),
                        scheduled_before=int(before[t]),
                        scheduled_after=int(after[t]),
                        service_level_before=_sl(float(c.service_level[t])),
                        service_level_after=_sl(float(sl_after[t])),
                    )
                    for t in drops[:5]
                ],
            )
        )
    return out


def _duty(o: Outcome) -> dict[str, np.ndarray]:
    """Agents on duty per role and interval: on shift, not on a break or in training."""
    s = o.prepared.scenario
    p = o.prepared.problem
    slot, n = s.horizon.interval_minutes, s.n_slots
    roles = {a.id: a.roles for a in p.agents}
    training: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for lv in p.leave:
        if lv.on_shift and not lv.whole_days and lv.status is LeaveStatus.approved:
            training[lv.agent_id].append((lv.start, lv.end))
    duty: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n))
    for a in o.result.assignments:
        off = {t for b in a.breaks for t in range(b.start // slot, (b.start + b.minutes) // slot)}
        for lo, hi in training.get(a.agent_id, []):
            off |= {
                t
                for t in range(a.start // slot, a.end // slot)
                if t * slot < hi and lo < (t + 1) * slot
            }
        for t in range(a.start // slot, min(n, a.end // slot)):
            if t not in off:
                for r in roles.get(a.agent_id, ()):
                    duty[r][t] += 1
    return duty


def _roles(o: Outcome, removal: _Removal, duty: dict[str, np.ndarray]) -> list[str]:
    s = o.prepared.scenario
    n = s.n_slots
    roles = {a.id: a.roles for a in o.prepared.problem.agents}
    out = []
    for req in o.prepared.problem.roles:
        before = duty.get(req.role, np.zeros(n))
        after = before.copy()
        for agent, t in removal.duty:
            if req.role in roles.get(agent, ()) and 0 <= t < n:
                after[t] -= 1
        broken = [bool(req.slots[t] and after[t] < req.count <= before[t]) for t in range(n)]
        if any(broken):
            out.append(f"{req.count} {req.role} on duty ({req.label}): {describe_slots(s, broken)}")
    return out


def _requests(session: Session, body: LeaveImpactRequest) -> list[_Request]:
    out = [_Request(r.agent_id, r.start, r.end, r.kind) for r in body.requests]
    problems: list[Problem] = []
    for i, r in enumerate(body.requests):
        if isinstance(r.start, datetime) != isinstance(r.end, datetime):
            problems.append(
                Problem(f"requests[{i}].end", "start and end must both be dates or both date-times")
            )
        elif r.end < r.start or (isinstance(r.start, datetime) and r.end == r.start):
            problems.append(Problem(f"requests[{i}].end", "the leave ends before it starts"))
    if problems:
        raise InputError(problems)
    for leave_id in body.leave_ids:
        spec = spec_of(get_leave(session, leave_id))
        notes = ("this leave is already approved",) if spec.status.value == "approved" else ()
        out.append(_Request(spec.agent_id, spec.start, spec.end, spec.kind, leave_id, notes))
    return out


def leave_impact(session: Session, body: LeaveImpactRequest, data_dir: Path) -> LeaveImpactResponse:
    """Coverage and service level before and after granting each request, and all of them."""
    requests = _requests(session, body)
    job = _pick_solve(session, body.solve_id, requests)
    o = load_outcome(session, job, data_dir)
    s = o.prepared.scenario
    known = {a.id for a in s.agents}
    unknown = [
        Problem(f"requests agent_id {r.agent_id}", "not an agent of the roster's scenario")
        for r in requests
        if r.agent_id not in known
    ]
    if unknown:
        raise InputError(unknown)
    duty = _duty(o)
    slot_h = s.horizon.interval_minutes / 60.0
    impacts = []
    for r in requests:
        removal = _removal(o, [r])
        notes = list(r.notes)
        lo, hi, _ = _bounds(r, o)
        if hi <= 0 or lo >= s.horizon.days * DAY:
            notes.append("outside the roster's horizon")
        elif not removal.shifts:
            notes.append("the agent does not work in this time in the roster")
        impacts.append(
            RequestImpact(
                agent_id=r.agent_id,
                start=text_of(r.start),
                end=text_of(r.end),
                kind=r.kind,
                leave_id=r.leave_id,
                shifts_affected=removal.shifts,
                agent_hours_removed=round(len(removal.work) * slot_h, 2),
                channels=_channels(o, removal),
                roles_broken=_roles(o, removal, duty),
                notes=notes,
            )
        )
    combined = _removal(o, requests)
    revision = session.get(RevisionRow, job.revision_id)
    assert revision is not None
    return LeaveImpactResponse(
        solve_id=job.id,
        scenario_id=job.scenario_id,
        revision=revision.number,
        roster_status=o.result.status,
        requests=impacts,
        combined=_channels(o, combined),
        combined_roles_broken=_roles(o, combined, duty),
    )
