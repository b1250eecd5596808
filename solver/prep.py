"""Preprocessing shared by the models: per-agent eligibility, contract blocks, classes, groups.

Pure Python (no OR-Tools). Everything here is derived from the problem, once.

* A *class* is a set of agents interchangeable for coverage: same skills (primary first) and
  roles. Breaks and channel assignment are modelled per class, as counts.
* A *group* refines a class by contract, night eligibility and unavailable weekdays: agents the
  aggregate model may treat as identical.
* A *special agent-day* is an agent-day that is modelled individually even in the aggregate:
  pinned shifts, on-shift part-day leave (training, meetings: the agent works but is not available
  in that interval), and restrictions from the shift before the horizon.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from solver.schema import (
    DAY,
    Agent,
    Contract,
    Leave,
    LeaveKind,
    LeaveStatus,
    RosterProblem,
)
from solver.shifts import ShiftOption, enumerate_options

__all__ = ["AgentPrep", "Block", "Instance", "month_days_off", "prepare", "week_bounds"]


@dataclass(frozen=True)
class Block:
    """A stretch of days (a week, or the horizon for per-month days off) with a cap on working
    days and bounds on paid minutes; approved credited leave is already taken off them. A
    granted request of credited leave lowers the minimum by ``credit_min`` and the maximum by
    ``credit_max`` minutes, and the working days by one, per day it covers.
    """

    days: tuple[int, ...]
    max_work_days: int
    min_minutes: int
    max_minutes: int
    credit_min: float
    """Minutes taken off the minimum per credited leave day (granted requests)."""
    credit_max: float
    kind: str = "week"


@dataclass
class AgentPrep:
    index: int
    agent: Agent
    contract: Contract
    options_by_day: dict[int, list[int]]
    """Option indices the agent may work on each day (hard rules already applied)."""
    must_work: set[int] = field(default_factory=set)
    """Days with on-shift leave or a pinned shift: the agent works that day."""
    on_shift_leave: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """Per day: intervals (minutes) in which the agent is on shift but not available."""
    requests: list[int] = field(default_factory=list)
    """Indices (into problem.leave) of this agent's requested leave."""
    leave_days: set[int] = field(default_factory=set)
    """Days of approved whole-day leave (any kind)."""
    blocks: list[Block] = field(default_factory=list)
    min_rest: int = 660
    max_consecutive: int = 6
    night_ok: bool = True
    class_index: int = 0
    group_index: int = 0
    special_days: set[int] = field(default_factory=set)
    """Days modelled individually in the aggregate (pinned, part-day leave, prior shift)."""

    @property
    def id(self) -> str:
        return self.agent.id


class AgentClass(NamedTuple):
    """Agents alike for cover: the same skills (in order: the first is the primary channel)
    and roles."""

    skills: tuple[str, ...]
    roles: tuple[str, ...]


class Group(NamedTuple):
    """Agents alike for the weekly rules too: one class, contract, night eligibility and
    unavailable weekdays."""

    class_index: int
    contract: str
    night_ok: bool
    unavailable_weekdays: tuple[int, ...]


@dataclass
class Instance:
    problem: RosterProblem
    options: list[ShiftOption]
    agents: list[AgentPrep]
    classes: list[AgentClass]
    class_members: list[list[int]]
    groups: list[Group]
    group_members: list[list[int]]
    options_by_day: dict[int, list[int]]
    requests: list[int]
    """Indices of requested leave in problem.leave."""
    channel_index: dict[str, int]

    def agent(self, agent_id: str) -> AgentPrep:
        return self.agents[self._by_id[agent_id]]

    def __post_init__(self) -> None:
        self._by_id = {a.id: a.index for a in self.agents}


def week_bounds(
    contract: Contract, span_days: int, credited_days: int, sick_days: int = 0
) -> tuple[int, int, int, float, float]:
    """(max working days, min paid minutes, max paid minutes, credit per leave day min, max)
    for a week block of ``span_days`` days with ``credited_days`` of credited leave.

    A full week uses the contract as written. A partial week (the end of a horizon that is not
    a whole number of weeks) is prorated with one contract day of tolerance either way, since
    whole shifts rarely add up to a prorated number of hours. Each day of credited leave takes
    one contract day (hours / working days per week) off the minimum. The maximum bounds the
    hours worked and is not lowered by leave: an office agent (32-40 h, 8.5 h shifts) with two
    leave days in a week still works three days (25.5 h), which a maximum lowered by two
    contract days (24 h) would forbid although the minimum (19.2 h) asks for it.
    """
    wd = contract.working_days_per_week()
    hmin, hmax = contract.hours_min * 60.0, contract.hours_max * 60.0
    per_min = hmin / wd if wd > 0 else 0.0
    per_max = hmax / wd if wd > 0 else 0.0
    frac = span_days / 7.0
    off = 0
    if contract.days_off_per_week is not None:
        off = math.floor(contract.days_off_per_week * frac + 1e-9)
    lo, hi = hmin * frac, hmax * frac
    if span_days < 7:
        lo, hi = lo - per_min, hi + per_max
    # days off fall on days the agent works not and is not on leave, except sick days (of the
    # credited ones), which count as days off too: an agent who worked two days and then fell
    # ill for five has had their rest (a re-plan's absence made that week infeasible)
    return (
        max(0, span_days - max(0, off - sick_days) - credited_days),
        max(0, math.floor(lo - credited_days * per_min + 1e-6)),
        max(0, math.ceil(hi - 1e-6)),
        per_min,
        0.0,
    )


def month_days_off(contract: Contract, days: int) -> int:
    """Days off a per-month contract needs in a horizon of ``days`` days (prorated, down)."""
    assert contract.days_off_per_month is not None
    return math.floor(contract.days_off_per_month * days / 30.0 + 1e-9)


def _blocks(
    problem: RosterProblem, contract: Contract, credited: set[int], sick: set[int] | None = None
) -> list[Block]:
    days = problem.days
    sick = sick or set()
    blocks: list[Block] = []
    for first in range(0, days, 7):
        span = tuple(range(first, min(first + 7, days)))
        k = sum(1 for d in span if d in credited)
        ill = sum(1 for d in span if d in sick)
        work_days, lo, hi, per_min, per_max = week_bounds(contract, len(span), k, ill)
        blocks.append(
            Block(
                days=span,
                max_work_days=work_days,
                min_minutes=lo,
                max_minutes=hi,
                credit_min=per_min,
                credit_max=per_max,
            )
        )
    if contract.days_off_per_month is not None:
        span = tuple(range(days))
        k = sum(1 for d in span if d in credited)
        blocks.append(
            Block(
                days=span,
                max_work_days=max(0, days - max(0, month_days_off(contract, days) - len(sick)) - k),
                min_minutes=0,
                max_minutes=10**9,
                credit_min=0.0,
                credit_max=0.0,
                kind="horizon",
            )
        )
    return blocks


def _leave_by_agent(problem: RosterProblem) -> dict[str, list[tuple[int, Leave]]]:
    out: dict[str, list[tuple[int, Leave]]] = defaultdict(list)
    for i, lv in enumerate(problem.leave):
        out[lv.agent_id].append((i, lv))
    return out


def prepare(problem: RosterProblem) -> Instance:
    """Derive options, per-agent eligibility, blocks, classes and groups."""
    options = enumerate_options(problem)
    by_day: dict[int, list[int]] = defaultdict(list)
    for o in options:
        by_day[o.day].append(o.index)
    contracts = {c.id: c for c in problem.contracts}
    types_index = {t.id: i for i, t in enumerate(problem.shift_types)}
    leave_of = _leave_by_agent(problem)
    rules = problem.rules
    agents: list[AgentPrep] = []
    class_keys: dict[AgentClass, int] = {}
    class_members: list[list[int]] = []
    group_keys: dict[Group, int] = {}
    group_members: list[list[int]] = []
    pinned_of: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(problem.pinned):
        pinned_of[p.agent_id].append(i)

    for ai, agent in enumerate(problem.agents):
        contract = contracts[agent.contract]
        allowed_types = set(contract.shift_types) if contract.shift_types else set(types_index)
        night_ok = contract.night_shifts if agent.night_shifts is None else agent.night_shifts
        rest = (
            contract.min_rest_minutes
            if contract.min_rest_minutes is not None
            else rules.min_rest_minutes
        )
        max_consec = contract.max_consecutive_days or rules.max_consecutive_days
        prep = AgentPrep(
            index=ai,
            agent=agent,
            contract=contract,
            options_by_day={},
            min_rest=rest,
            max_consecutive=max_consec,
            night_ok=night_ok,
        )
        credited: set[int] = set()
        sick: set[int] = set()  # credited days that count as days off too
        blocked: list[tuple[int, int]] = []  # part-day intervals in which the agent cannot work
        for li, lv in leave_of.get(agent.id, []):
            if lv.status is LeaveStatus.requested:
                prep.requests.append(li)
                continue
            if lv.whole_days:
                for d in lv.days():
                    if 0 <= d < problem.days:
                        prep.leave_days.add(d)
                        if lv.credited:
                            credited.add(d)
                            if lv.kind is LeaveKind.sick:
                                sick.add(d)
            elif lv.on_shift:
                d = lv.start // DAY
                prep.on_shift_leave.setdefault(d, []).append((lv.start, lv.end))
                prep.must_work.add(d)
            else:
                blocked.append((lv.start, lv.end))
                # shifts of the day before may reach into the interval too
                prep.special_days.update(range(lv.start // DAY - 1, (lv.end - 1) // DAY + 1))
        frozen: dict[int, list[int]] = defaultdict(list)  # options only a pin may use
        for d in range(problem.days):
            allowed: list[int] = []
            if d in prep.leave_days or problem.weekday(d) in agent.unavailable_weekdays:
                prep.options_by_day[d] = allowed
                continue
            for oi in by_day.get(d, []):
                o = options[oi]
                if o.type_id not in allowed_types or (o.night and not night_ok):
                    continue
                if any(o.overlaps(s, e) for s, e in blocked):
                    continue
                if any(not o.covers(s, e) for s, e in prep.on_shift_leave.get(d, [])):
                    continue
                if agent.prior_shift_end is not None and o.start < agent.prior_shift_end + rest:
                    continue
                if problem.frozen_until is not None and o.start < problem.frozen_until:
                    frozen[d].append(oi)  # a re-plan: the past, and the frozen time, stay
                    continue
                allowed.append(oi)
            prep.options_by_day[d] = allowed
        for pi in pinned_of.get(agent.id, []):
            p = problem.pinned[pi]
            prep.must_work.add(p.day)
            prep.options_by_day[p.day] = [
                oi
                for oi in prep.options_by_day.get(p.day, []) + frozen.get(p.day, [])
                if options[oi].type_id == p.shift_type
                and (p.start is None or options[oi].start == p.day * DAY + p.start)
                and (p.length is None or options[oi].length == p.length)
            ]
        prep.blocks = _blocks(problem, contract, credited, sick)
        prep.special_days |= prep.must_work
        prep.special_days = {d for d in prep.special_days if 0 <= d < problem.days}
        if agent.prior_shift_end is not None:
            prep.special_days.add(0)
        ckey = AgentClass(tuple(agent.skills), tuple(sorted(agent.roles)))
        if ckey not in class_keys:
            class_keys[ckey] = len(class_members)
            class_members.append([])
        prep.class_index = class_keys[ckey]
        class_members[prep.class_index].append(ai)
        gkey = Group(
            prep.class_index, contract.id, night_ok, tuple(sorted(agent.unavailable_weekdays))
        )
        if gkey not in group_keys:
            group_keys[gkey] = len(group_members)
            group_members.append([])
        prep.group_index = group_keys[gkey]
        group_members[prep.group_index].append(ai)
        agents.append(prep)

    return Instance(
        problem=problem,
        options=options,
        agents=agents,
        classes=list(class_keys),
        class_members=class_members,
        groups=list(group_keys),
        group_members=group_members,
        options_by_day=dict(by_day),
        requests=[i for i, lv in enumerate(problem.leave) if lv.status is LeaveStatus.requested],
        channel_index={c.id: i for i, c in enumerate(problem.channels)},
    )
