"""A solved roster -> its outcome: the solver run, coverage and projected service per slot and
channel, deferred work done on time, the KPIs and the validator's verdict."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from api.errors import InputError
from api.pipeline.prepare import ChannelDemand, Prepared
from api.scenario.models import Scenario
from api.scenario.yamlsrc import display_path
from common.enums import ChannelKind, LeaveStatus
from forecast.deferred import deferred_due, on_time_share
from forecast.staffing import project_arrays, weighted
from solver.errors import ProblemError
from solver.options import SolveOptions
from solver.schema import RosterResult, ShiftAssignment
from solver.solve import Progress, solve
from solver.validate import validate

__all__ = [
    "ChannelOutcome",
    "Outcome",
    "evaluate",
    "on_time",
    "options_for",
    "service_levels",
    "solve_prepared",
]


# --------------------------------------------------------------------------- solving
def options_for(
    s: Scenario, time_limit_s: float | None = None, workers: int | None = None
) -> SolveOptions:
    return SolveOptions(
        time_limit_s=time_limit_s if time_limit_s is not None else s.solver.time_limit_seconds,
        workers=workers if workers is not None else s.solver.workers,
        seed=s.solver.seed,
        relative_gap=s.solver.relative_gap,
        deterministic=s.solver.deterministic,
        rolling=s.solver.week_at_a_time,
    )


def solve_prepared(
    prepared: Prepared,
    options: SolveOptions,
    progress: Callable[[Progress], None] | None = None,
    start: Sequence[ShiftAssignment] | None = None,
) -> RosterResult:
    """Run the solver (``start``: from a published roster, a re-plan); a problem it rejects as
    unsolvable-as-given becomes an InputError."""
    try:
        return solve(prepared.problem, options, progress, start)
    except ProblemError as exc:
        raise InputError.one(display_path(prepared.loaded.path), str(exc)) from None


# --------------------------------------------------------------------------- outcome
@dataclass(frozen=True)
class ChannelOutcome:
    """Per-channel results of a roster: scheduled agents and projected performance per slot."""

    channel: str
    kind: str
    required: np.ndarray
    scheduled: np.ndarray
    under: np.ndarray
    over: np.ndarray
    service_level: np.ndarray
    target: float | None
    overall_service_level: float | None
    volume: float


@dataclass(frozen=True)
class Outcome:
    """A solved (or failed) scenario with its KPIs, ready for reports."""

    prepared: Prepared
    result: RosterResult
    channels: dict[str, ChannelOutcome]
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: tuple[str, ...] = ()
    """Hard rules the roster breaks, found by the solver's independent validator (should be
    empty for an optimal or feasible status; reported, never hidden). Without a valid roster:
    those of the best roster found, which no table holds."""

    @property
    def solved(self) -> bool:
        """Whether there is a roster to publish (optimal or feasible): every table holds it;
        otherwise every roster table holds its header only."""
        return self.result.status.value in ("optimal", "feasible")


def evaluate(prepared: Prepared, result: RosterResult) -> Outcome:
    """Coverage per channel and slot, projected service level, and the KPIs of the summary."""
    s = prepared.scenario
    n = s.n_slots
    slot_h = s.horizon.interval_minutes / 60.0
    rows: dict[str, dict[int, Any]] = {c.id: {} for c in s.channels}
    for r in result.coverage:
        rows.setdefault(r.channel, {})[r.slot] = r
    channels: dict[str, ChannelOutcome] = {}
    for ch in s.channels:
        d = prepared.demand[ch.id]
        req = np.zeros(n)
        sched = np.zeros(n)
        under = np.zeros(n)
        over = np.zeros(n)
        for t, r in rows[ch.id].items():
            if 0 <= t < n:
                req[t], sched[t], under[t], over[t] = r.required, r.scheduled, r.under, r.over
        if not rows[ch.id]:
            req = np.asarray(d.plan.agents_required, dtype=float)
        staffed = (
            [bool(w and r) for w, r in zip(d.work_mask, prepared.rosterable, strict=True)]
            if ch.kind is ChannelKind.deferred
            else None
        )
        if staffed is None:
            sl = project_arrays(
                d.volume,
                d.aht_seconds,
                s.horizon.interval_minutes * 60.0,
                sched,
                d.targets,
                apply_shrinkage=True,
            ).service_level
        else:
            sl = on_time(d, sched, staffed, s.horizon.interval_minutes * 60.0)
        channels[ch.id] = ChannelOutcome(
            channel=ch.id,
            kind=ch.kind.value,
            required=req,
            scheduled=sched,
            under=under,
            over=over,
            service_level=sl,
            target=d.targets.service_level,
            overall_service_level=weighted(sl, d.volume) if result.coverage else None,
            volume=d.total_volume,
        )
    solved = result.status.value in ("optimal", "feasible")
    kpis = _kpis(prepared, result, channels, slot_h) if solved else _plan_kpis(prepared, slot_h)
    violations: tuple[str, ...] = ()
    if result.assignments:
        # a solved roster's, or the best roster found when none was valid (then it is named in
        # the summary and the report, and no table holds it)
        check = validate(prepared.problem, list(result.assignments))
        violations = tuple(str(v) for v in check.violations)
    return Outcome(
        prepared=prepared, result=result, channels=channels, kpis=kpis, violations=violations
    )


def on_time(
    d: ChannelDemand, scheduled: np.ndarray, staffed: Sequence[bool], slot_s: float
) -> np.ndarray:
    """Deferred work: share of each interval's items done by their deadline when the scheduled
    agents (times (1 - shrinkage) x max occupancy, as in the solver's work units) work them
    earliest deadline first."""
    t = d.targets
    assert t.deadline_minutes is not None
    night = None
    if t.overnight_deadline is not None:
        night = t.overnight_deadline.hour * 3600.0 + t.overnight_deadline.minute * 60.0
    due = deferred_due(
        scheduled.size, slot_s, t.deadline_minutes * 60.0, np.asarray(staffed), night, 0.0
    )
    productive = scheduled * (1.0 - t.shrinkage) * t.max_occupancy
    aht = np.where(d.aht_seconds > 0, d.aht_seconds, 1.0)
    return on_time_share(d.volume, aht, slot_s, productive, due)


def _plan_kpis(prepared: Prepared, slot_h: float) -> dict[str, Any]:
    """What is known without a roster: the requirement and the people."""
    req = sum(
        float(np.sum(c.required)) for c in prepared.problem.channels if c.kind.value != "deferred"
    )
    requested = [lv for lv in prepared.problem.leave if lv.status is LeaveStatus.requested]
    return {
        "required_agent_hours": round(req * slot_h, 2),
        "agents_total": len(prepared.scenario.agents),
        "agents_scheduled": 0,
        "leave_requested": len(requested),
        "leave_granted": 0,
    }


def _kpis(
    prepared: Prepared, result: RosterResult, channels: dict[str, ChannelOutcome], slot_h: float
) -> dict[str, Any]:
    s = prepared.scenario
    live = [c for c in channels.values() if c.kind != "deferred"]
    paid_h = sum(a.paid_minutes for a in result.assignments) / 60.0
    requested = [d for d in result.leave_decisions]
    return {
        "under_cover_agent_hours": round(float(sum(c.under.sum() for c in live)) * slot_h, 2),
        "over_cover_agent_hours": round(float(sum(c.over.sum() for c in live)) * slot_h, 2),
        "required_agent_hours": round(float(sum(c.required.sum() for c in live)) * slot_h, 2),
        "scheduled_agent_hours": round(
            float(sum(c.scheduled.sum() for c in channels.values())) * slot_h, 2
        ),
        "paid_hours": round(paid_h, 2),
        "shifts": len(result.assignments),
        "agents_scheduled": len({a.agent_id for a in result.assignments}),
        "agents_total": len(s.agents),
        "leave_requested": len(requested),
        "leave_granted": sum(1 for d in requested if d.granted),
    }


def service_levels(outcome: Outcome) -> dict[str, float | None]:
    return {
        k: None
        if c.overall_service_level is None or math.isnan(c.overall_service_level)
        else round(c.overall_service_level, 4)
        for k, c in outcome.channels.items()
    }
