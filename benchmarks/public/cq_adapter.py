"""Curtois-Qu instances as ``RosterProblem``s, and solver rosters back as benchmark grids.

The mapping (docs/public-benchmarks.md):

* days -> the horizon (starting on a Monday, so day 0 is a Monday as in the benchmark);
* shift types -> ``ShiftType`` with the benchmark's length and a nominal 08:00 start (the
  benchmark has no clock times; no shift crosses midnight), ``forbidden_next`` from the
  successions; rest between shifts is carried by the successions alone (``min_rest_minutes=0``);
* staff -> agents, one ``Contract`` per distinct set of limits: allowed types (max > 0),
  ``max_shifts_per_type``, ``horizon_minutes_min/max``, ``max_consecutive_days``,
  ``min_consecutive_days``, ``min_consecutive_days_off``, ``max_working_weekends``;
* days off -> approved whole-day leave (``day_off_request``, not credited);
* on/off requests -> ``ShiftRequest`` (weight x ``weights.shift_request`` = 1);
* cover -> ``ShiftCover`` per day and type with its under/over weights;
* no channels: every other soft rule is switched off, so the objective is the benchmark's.
"""

from __future__ import annotations

from datetime import date

from benchmarks.public.curtois_qu import CQInstance, Grid
from common.enums import LeaveKind, LeaveStatus
from solver.rule_ids import SOFT_RULES
from solver.schema import (
    DAY,
    Agent,
    Contract,
    Leave,
    RequestKind,
    RosterProblem,
    Rules,
    ShiftAssignment,
    ShiftCover,
    ShiftRequest,
    ShiftType,
    Weights,
)

__all__ = ["START", "to_grid", "to_problem"]

START = date(2024, 1, 1)  # a Monday
NOMINAL_START = 8 * 60
BENCHMARK_RULES = ("request.shift_on", "request.shift_off", "shift_cover.under", "shift_cover.over")


def _slot(inst: CQInstance) -> int:
    for s in (60, 30, 20, 15, 10, 5):
        if all(length % s == 0 for length in inst.lengths.values()) and NOMINAL_START % s == 0:
            return s
    raise ValueError(f"{inst.name}: shift lengths are not on a 5-minute grid")


def to_problem(inst: CQInstance) -> RosterProblem:
    """The instance in the solver's own model (see the module docstring)."""
    slot = _slot(inst)
    types = tuple(
        ShiftType(
            id=t,
            start_earliest=NOMINAL_START,
            start_latest=NOMINAL_START,
            start_step=slot,
            length_min=length,
            length_max=length,
            length_step=slot,
            forbidden_next=inst.forbidden.get(t, ()),
        )
        for t, length in inst.lengths.items()
    )
    contracts: dict[tuple[object, ...], Contract] = {}
    agents = []
    for st in inst.staff:
        allowed = tuple(t for t in inst.lengths if st.max_shifts.get(t, inst.days) > 0)
        limits = {t: n for t, n in st.max_shifts.items() if 0 < n < inst.days}
        key = (
            allowed,
            tuple(sorted(limits.items())),
            st.min_minutes,
            st.max_minutes,
            st.max_consecutive,
            st.min_consecutive,
            st.min_days_off,
            st.max_weekends,
        )
        if key not in contracts:
            contracts[key] = Contract(
                id=f"c{len(contracts) + 1}",
                shift_types=allowed,
                max_shifts_per_type=limits,
                horizon_minutes_min=st.min_minutes,
                horizon_minutes_max=st.max_minutes,
                max_consecutive_days=st.max_consecutive,
                min_consecutive_days=st.min_consecutive,
                min_consecutive_days_off=st.min_days_off,
                max_working_weekends=st.max_weekends,
                min_rest_minutes=0,
            )
        agents.append(Agent(id=st.id, contract=contracts[key].id, skills=()))
    leave = tuple(
        Leave(
            agent_id=emp,
            kind=LeaveKind.day_off_request,
            status=LeaveStatus.approved,
            start=d * DAY,
            end=(d + 1) * DAY,
        )
        for emp, days in inst.days_off.items()
        for d in days
    )
    requests = tuple(
        ShiftRequest(agent_id=r.employee, day=r.day, shift_type=r.shift, kind=kind, weight=r.weight)
        for kind, rows in ((RequestKind.on, inst.on_requests), (RequestKind.off, inst.off_requests))
        for r in rows
    )
    cover = tuple(
        ShiftCover(
            day=c.day,
            shift_type=c.shift,
            required=c.requirement,
            under_weight=c.weight_under,
            over_weight=c.weight_over,
        )
        for c in inst.cover
    )
    return RosterProblem(
        name=inst.name,
        horizon_start=START,
        days=inst.days,
        slot_minutes=slot,
        channels=(),
        shift_types=types,
        contracts=tuple(contracts.values()),
        agents=tuple(agents),
        leave=leave,
        rules=Rules(min_rest_minutes=0, max_consecutive_days=inst.days),
        weights=Weights(fairness=0, preference=0, consecutive_days_off=0, shift_request=1.0),
        disabled_rules=tuple(r for r in SOFT_RULES if r not in BENCHMARK_RULES),
        shift_requests=requests,
        shift_cover=cover,
    )


def to_grid(
    inst: CQInstance, assignments: tuple[ShiftAssignment, ...] | list[ShiftAssignment]
) -> Grid:
    """A solver roster as the benchmark's grid (employee -> type per day, None = off)."""
    grid: Grid = {st.id: [None] * inst.days for st in inst.staff}
    for a in assignments:
        grid[a.agent_id][a.day] = a.shift_type
    return grid
