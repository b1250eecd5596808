"""Long horizons a week at a time: the problem cut into weeks, each solved with the weeks before
it fixed, and the weeks' rosters put back together on the whole horizon.

One aggregate LP over 14 or 28 days of 15-minute slots is too large to solve exactly in the time
(the example fortnight's: 149,937 columns, 91 s for HiGHS on 2 cores), and PDLP's approximate
point rounds poorly (the fortnight's rounded plan cost 82,000-166,000 against an LP of 2,448 and
left 95 floor slots the refinement could not close in 150 s). A week's LP solves in seconds
and its plan rounds well, so a long horizon is solved as a run of weeks (``spans``), each a
``RosterProblem`` of its own (``piece``) that carries what the weeks before it decided:

- each agent's last shift end (rest) and working days in a row (``Agent.prior_*``);
- the cover given by shifts reaching over midnight into the week: taken off its requirements,
  floors and role cover; deferred work less what the weeks before did of it (earliest
  deadline first, as the validator counts it), so work left undone is still to do;
- days off per month per agent: what the horizon asks less what the weeks before gave,
  shared over the agent's days to come that are not on leave (a contract variant per share);
- the horizon's other rules shared out over the weeks: paid minutes and shifts per type over
  the horizon, working weekends (each week's share is the rule's total prorated,
  cumulatively, so the shares add up to the total);
- leave, requests, pins and shift covers cut to the week (a request cut in two is granted only
  when every part is).

The week blocks of hours and days off start on the horizon's first day (``solver.prep``), so
the cuts fall on block boundaries and a week's blocks are the horizon's. What a cut cannot carry
(rules over runs that cross it, fairness over the horizon, the break cap beside shifts of the
week before) the refinement of the whole horizon repairs and improves afterwards
(``solver.solve``); the roster is validated on the whole horizon, and the bound is the whole
horizon's aggregate bound, never a sum over weeks.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import timedelta

from solver.prep import AgentPrep, Block, Instance, month_days_off
from solver.schema import (
    DAY,
    Agent,
    Channel,
    ChannelKind,
    Contract,
    DeferredWork,
    Leave,
    LeaveKind,
    LeaveStatus,
    RoleRequirement,
    RosterProblem,
)
from solver.units import WORK_UNITS, deferred_done

Cover = dict[tuple[int, int], int]
"""Agents per (channel, slot)."""

__all__ = ["MIN_DAYS", "WEEK", "Lifted", "Piece", "lift", "piece", "repeated", "spans"]

WEEK = 7
MIN_DAYS = 14
"""Horizons from two weeks on are solved a week at a time; a shorter one's LP solves whole."""


def spans(problem: RosterProblem) -> list[tuple[int, int]]:
    """The weeks a horizon is cut into, as (first day, end day): whole weeks from the first day,
    the last taking any remainder (so a cut never splits a week block). One span (the whole
    horizon) below ``MIN_DAYS`` or on a cyclic horizon (which wraps into itself)."""
    days = problem.days
    if days < MIN_DAYS or problem.cyclic:
        return [(0, days)]
    n = days // WEEK
    out = [(i * WEEK, (i + 1) * WEEK) for i in range(n)]
    out[-1] = (out[-1][0], days)
    return out


@dataclass
class Lifted:
    """The whole horizon's roster so far, in the whole instance's indices."""

    chosen: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    breaks: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    channels: dict[tuple[int, int, int], int] = field(default_factory=lambda: defaultdict(int))
    grants: dict[int, bool] = field(default_factory=dict)
    missing: int = 0
    """Shifts of a week with no counterpart among the whole horizon's options (none expected)."""


@dataclass(frozen=True)
class Piece:
    """One week as a problem of its own."""

    problem: RosterProblem
    first: int
    """The week's first day in the whole horizon."""
    leave: tuple[int, ...]
    """For each leave of ``problem``, its index in the whole problem's leave."""


def _share(total: int, first: int, end: int, days: int, up: bool = False) -> int:
    """A span's part of a horizon total, prorated cumulatively so that the parts add up to it
    (rounded down, or up for a maximum)."""
    if up:
        return math.ceil(total * end / days - 1e-9) - math.ceil(total * first / days - 1e-9)
    return math.floor(total * end / days + 1e-9) - math.floor(total * first / days + 1e-9)


def _per_month(need: int, span: int) -> int:
    """The smallest per-month figure that prorates to ``need`` days off over ``span`` days."""
    for x in range(32):
        if math.floor(x * span / 30.0 + 1e-9) >= need:
            return x
    return 31


def _contract(c: Contract, first: int, end: int, days: int) -> Contract:
    """The contract's horizon rules shared out to days ``first`` to ``end`` (days off per month
    are shared per agent: ``_days_off``)."""
    update: dict[str, object] = {}
    if c.horizon_minutes_min is not None:
        update["horizon_minutes_min"] = _share(c.horizon_minutes_min, first, end, days)
    if c.horizon_minutes_max is not None:
        update["horizon_minutes_max"] = _share(c.horizon_minutes_max, first, end, days, up=True)
    if c.max_shifts_per_type:
        update["max_shifts_per_type"] = {
            t: _share(n, first, end, days, up=True) for t, n in c.max_shifts_per_type.items()
        }
    if c.max_working_weekends is not None:
        update["max_working_weekends"] = _share(c.max_working_weekends, first, end, days, up=True)
    return c.model_copy(update=update) if update else c


def _credited(inst: Instance, a: int, grants: dict[int, bool]) -> set[int]:
    """Days of the agent's credited whole-day leave: approved, or requested and granted."""
    p = inst.problem
    agent_id = inst.agents[a].agent.id
    days: set[int] = set()
    for li, lv in enumerate(p.leave):
        if lv.agent_id != agent_id or not lv.whole_days or not lv.credited:
            continue
        if lv.status is LeaveStatus.approved or grants.get(li, False):
            days.update(d for d in lv.days() if 0 <= d < p.days)
    return days


def _days_off(inst: Instance, lifted: Lifted, first: int, end: int) -> dict[int, int]:
    """Per agent with days off per month: the days off its span must give. What the horizon
    asks, less the days off the spans before it gave, shared over the agent's days still to
    come that are not on leave (a contract-wide share asked two days off of a week in which
    the agent had five days of leave and needed a shift for its hours)."""
    p = inst.problem
    out: dict[int, int] = {}
    for prep in inst.agents:
        c = prep.contract
        if c.days_off_per_month is None:
            continue
        a = prep.index
        credited = _credited(inst, a, lifted.grants)
        worked = {inst.options[o].day for o in lifted.chosen.get(a, ())}
        taken = sum(1 for d in range(first) if d not in worked and d not in credited)
        need = max(0, month_days_off(c, p.days) - taken)
        free = sum(1 for d in range(first, end) if d not in credited)
        later = sum(1 for d in range(first, p.days) if d not in credited)
        share = need if end >= p.days else (round(need * free / later) if later else 0)
        out[a] = min(share, free)
    return out


def _carried(inst: Instance, lifted: Lifted, first: int) -> dict[int, tuple[int | None, int]]:
    """Per agent index: (end of the last shift before day ``first``, minutes from that day's
    start; working days in a row up to the day before)."""
    out: dict[int, tuple[int | None, int]] = {}
    origin = first * DAY
    for prep in inst.agents:
        a = prep.index
        worked = {
            inst.options[o].day for o in lifted.chosen.get(a, ()) if inst.options[o].day < first
        }
        ends = [
            inst.options[o].end for o in lifted.chosen.get(a, ()) if inst.options[o].day < first
        ]
        end = max(ends) - origin if ends else None
        if end is None and prep.agent.prior_shift_end is not None:
            end = prep.agent.prior_shift_end - origin
        run = 0
        d = first - 1
        while d >= 0 and d in worked:
            run += 1
            d -= 1
        if d < 0:
            run += prep.agent.prior_consecutive_days
        out[a] = (end, run)
    return out


def _reaching(
    inst: Instance, lifted: Lifted, lo: int, hi: int
) -> tuple[dict[tuple[int, int], int], dict[tuple[str, int], int]]:
    """Cover of slots ``lo`` to ``hi`` by the shifts already decided: agents per (channel,
    slot), and role holders on duty (on shift, not on break or in the briefing) per (role,
    slot)."""
    by_channel: dict[tuple[int, int], int] = defaultdict(int)
    for (_k, c, t), n in lifted.channels.items():
        if lo <= t < hi:
            by_channel[(c, t)] += n
    by_role: dict[tuple[str, int], int] = defaultdict(int)
    for a, opts in lifted.chosen.items():
        roles = inst.agents[a].agent.roles
        if not roles:
            continue
        for o in opts:
            opt = inst.options[o]
            if opt.first_slot + opt.n_slots <= lo or opt.first_slot >= hi:
                continue
            off = set(opt.slots[: opt.briefing_slots])
            for b, t0 in enumerate(lifted.breaks.get((a, o), ())):
                off.update(range(t0, t0 + opt.break_windows[b][2]))
            for t in opt.slots:
                if lo <= t < hi and t not in off:
                    for r in roles:
                        by_role[(r, t)] += 1
    return by_channel, by_role


def _deferred(work: DeferredWork, done: list[float], lo: int, hi: int, top: int) -> DeferredWork:
    """The span's part of deferred work: each class less what the roster so far did of it
    (``done``, agent-slots, earliest deadline first), so that work left undone before the cut
    is still to do, and overdue at once where it was due. The look-ahead day (slots ``hi`` to
    ``top``) brings no new work and no deadline."""
    arrived, due = [], []
    for k, (arr, d) in enumerate(zip(work.arrived, work.due, strict=True)):
        arrived.append(tuple(max(0.0, arr[min(t, hi - 1)] - done[k]) for t in range(lo, top)))
        due.append(tuple(max(0.0, d[min(t, hi - 1)] - done[k]) for t in range(lo, top)))
    return DeferredWork(arrived=tuple(arrived), due=tuple(due))


def _part(
    values: tuple[int, ...], c: int, lo: int, top: int, reach: int, cover: Cover
) -> tuple[int, ...]:
    """A requirement's slots ``lo`` to ``top``, less the cover already given; none from
    ``reach`` on (the look-ahead day past the shifts that reach into it)."""
    if not values:
        return ()
    return tuple(
        max(0, values[t] - cover.get((c, t), 0)) if t < reach else 0 for t in range(lo, top)
    )


def _channel(
    ch: Channel, c: int, lo: int, hi: int, top: int, reach: int, cover: Cover, done: list[float]
) -> Channel:
    update: dict[str, object] = {
        "required": _part(ch.required, c, lo, top, reach, cover),
        "min_staff": _part(ch.min_staff, c, lo, top, reach, cover),
        "open": ch.open[lo:top],
    }
    if ch.kind is ChannelKind.deferred and ch.deferred is not None:
        update["required"] = tuple(ch.required[lo:top])
        update["deferred"] = _deferred(ch.deferred, done, lo, hi, top)
    return ch.model_copy(update=update)


def _role(
    req: RoleRequirement, lo: int, top: int, reach: int, on_duty: dict[tuple[str, int], int]
) -> RoleRequirement:
    slots = tuple(
        req.slots[t] and t < reach and on_duty.get((req.role, t), 0) < req.count
        for t in range(lo, top)
    )
    return req.model_copy(update={"slots": slots})


def _cut(lv: Leave, first: int, end: int) -> Leave | None:
    lo, hi = max(lv.start, first * DAY), min(lv.end, end * DAY)
    if hi <= lo:
        return None
    return lv.model_copy(update={"start": lo - first * DAY, "end": hi - first * DAY})


def piece(inst: Instance, first: int, end: int, lifted: Lifted) -> Piece:
    """Days ``first`` to ``end`` of the whole problem as a problem of their own, with what the
    roster so far (``lifted``, days before ``first``) decided carried in.

    Before the horizon's end the span gets a look-ahead day: no shift starts on it (every agent
    is on leave), and its requirements, floors and role cover hold as far as the span's last
    shifts reach into it, so that a night shift crossing the cut keeps its cover and breaks
    where the next span needs them."""
    p = inst.problem
    per_day = DAY // p.slot_minutes
    lo, hi = first * per_day, end * per_day
    ahead = end < p.days
    top = hi + per_day if ahead else hi
    reach = (
        max([o.first_slot + o.n_slots for o in inst.options if o.day == end - 1] + [hi])
        if ahead
        else hi
    )
    cover, on_duty = _reaching(inst, lifted, lo, hi)
    units = deferred_done(p, lifted.channels, lo) if lo > 0 else {}
    done = {
        c: [units.get((c, k), 0) / WORK_UNITS for k in range(len(ch.deferred.arrived))]
        for c, ch in enumerate(p.channels)
        if ch.deferred is not None
    }
    carried = _carried(inst, lifted, first) if first > 0 else {}
    contracts = {c.id: _contract(c, first, end, p.days) for c in p.contracts}
    span = end - first + (1 if ahead else 0)
    agents: list[Agent] = []
    for prep in inst.agents:
        ag = prep.agent
        if prep.index in carried:
            prior_end, run = carried[prep.index]
            ag = ag.model_copy(update={"prior_shift_end": prior_end, "prior_consecutive_days": run})
        agents.append(ag)
    for a, share in _days_off(inst, lifted, first, end).items():
        # the agent's own days off for the span: a variant of its contract per share
        base = contracts[agents[a].contract]
        variant = f"{base.id}~{share}"
        if variant not in contracts:
            contracts[variant] = base.model_copy(
                update={"id": variant, "days_off_per_month": _per_month(share, span)}
            )
        agents[a] = agents[a].model_copy(update={"contract": variant})
    leave: list[Leave] = []
    index: list[int] = []
    for li, lv in enumerate(p.leave):
        cut = _cut(lv, first, end)
        if cut is not None:
            leave.append(cut)
            index.append(li)
    if ahead:
        span = (end - first) * DAY
        leave += [
            Leave(
                agent_id=prep.agent.id,
                kind=LeaveKind.annual,
                status=LeaveStatus.approved,
                start=span,
                end=span + DAY,
            )
            for prep in inst.agents
        ]
    sub = p.model_copy(
        update={
            "horizon_start": p.horizon_start + timedelta(days=first),
            "days": end - first + (1 if ahead else 0),
            "name": f"{p.name} days {first + 1}-{end}".strip(),
            "channels": tuple(
                _channel(ch, c, lo, hi, top, reach, cover, done.get(c, []))
                for c, ch in enumerate(p.channels)
            ),
            "contracts": tuple(contracts.values()),
            "agents": tuple(agents),
            "leave": tuple(leave),
            "pinned": tuple(
                x.model_copy(update={"day": x.day - first})
                for x in p.pinned
                if first <= x.day < end
            ),
            "roles": tuple(_role(r, lo, top, reach, on_duty) for r in p.roles),
            "shift_requests": tuple(
                x.model_copy(update={"day": x.day - first})
                for x in p.shift_requests
                if first <= x.day < end
            ),
            "shift_cover": tuple(
                x.model_copy(update={"day": x.day - first})
                for x in p.shift_cover
                if first <= x.day < end
            ),
            "holidays": tuple(d - first for d in p.holidays if first <= d < end),
        }
    )
    return Piece(
        problem=RosterProblem.model_validate(sub.model_dump()), first=first, leave=tuple(index)
    )


def lift(
    inst: Instance,
    sub: Instance,
    pc: Piece,
    chosen: dict[int, list[int]],
    breaks: dict[tuple[int, int], list[int]],
    channels: dict[tuple[int, int, int], int],
    grants: dict[int, bool],
    into: Lifted,
) -> None:
    """A week's roster (in the week's instance ``sub``) added to the whole horizon's."""
    minutes = pc.first * DAY
    slots = minutes // inst.problem.slot_minutes
    where = {(o.type_id, o.day, o.start, o.length): o.index for o in inst.options}
    for a, opts in chosen.items():
        for o in opts:
            opt = sub.options[o]
            full = where.get((opt.type_id, opt.day + pc.first, opt.start + minutes, opt.length))
            if full is None:
                into.missing += 1
                continue
            into.chosen[a].append(full)
            into.breaks[(a, full)] = [t + slots for t in breaks.get((a, o), [])]
    klass = {
        k: inst.agents[members[0]].class_index
        for k, members in enumerate(sub.class_members)
        if members
    }
    for (k, c, t), n in channels.items():
        if n:
            into.channels[(klass[k], c, t + slots)] += n
    for li, g in grants.items():
        full_li = pc.leave[li]
        into.grants[full_li] = into.grants.get(full_li, True) and g


def repeated(inst: Instance, sub: Instance, pc: Piece, lifted: Lifted) -> dict[int, list[int]]:
    """The weeks before repeated on a span (in the span's instance ``sub``): each day takes the
    shifts of the same weekday in the last week decided before it, for every agent whose options
    on the day (leave, contract, rest as far as one day says) still hold that shift. A start
    that keeps what planners keep (the pattern of last week) for the span's own refinement: a
    week whose own plan fails (the example month's fourth week found no weekly plan in its
    share) is then not left empty, and one whose plan breaks rules is compared with it."""
    if pc.first < WEEK:
        return {}
    first = pc.first
    where = {(o.type_id, o.day, o.start, o.length): o.index for o in sub.options}
    by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, opts in lifted.chosen.items():
        for o in opts:
            by_day[inst.options[o].day].append((a, o))
    out: dict[int, list[int]] = defaultdict(list)
    for d in range(sub.problem.days):
        day = first + d
        if day >= inst.problem.days:
            break  # the look-ahead day: no shift starts on it
        source = day - WEEK * math.ceil((day - first + 1) / WEEK)
        for a, o in by_day.get(source, []):
            opt = inst.options[o]
            key = (opt.type_id, d, opt.start + (day - source - first) * DAY, opt.length)
            so = where.get(key)
            prep = sub.agents[a]
            if so is not None and so in prep.options_by_day.get(d, ()):
                worked = {sub.options[x].day for x in out[a]}
                if _room(prep, worked, d):  # the week's days off may be more than last week's
                    out[a].append(so)
    for prep in sub.agents:
        _top_up(sub, prep, out[prep.index])
    return {a: opts for a, opts in out.items() if opts}


def _full(prep: AgentPrep, worked: Container[int], d: int) -> list[Block]:
    """The blocks through day ``d`` (the week's, the days off per month's) whose cap on
    working days an agent working ``worked`` has reached."""
    return [
        b
        for b in prep.blocks
        if d in b.days and sum(1 for x in b.days if x in worked) >= b.max_work_days
    ]


def _room(prep: AgentPrep, worked: Container[int], d: int) -> bool:
    """Whether a shift on day ``d`` keeps every block's cap on working days for an agent
    working ``worked``."""
    return not _full(prep, worked, d)


def _top_up(sub: Instance, prep: AgentPrep, mine: list[int]) -> None:
    """Shifts added to an agent's repeated week where the copy leaves it short: each day it must
    work (a training, a pin) and, while its paid minutes are under a week's minimum (an agent
    back from leave finds last week's leave days empty), its usual shift on its free days, as
    far as rest, days in a row and the week's cap on working days and minutes allow (the
    example fortnight's repeated week kept six agents short of their hours and a training
    outside any shift, which its refinement did not repair in 16 s)."""
    opts = sub.options
    on: dict[int, int] = {opts[o].day: o for o in mine}
    usual = Counter((opts[o].type_id, opts[o].start % DAY, opts[o].length) for o in mine)
    kinds = Counter(opts[o].type_id for o in mine)

    def run_with(d: int) -> int:
        before = 0
        while d - before - 1 in on:
            before += 1
        after = 0
        while d + after + 1 in on:
            after += 1
        prior = prep.agent.prior_consecutive_days if before == d else 0
        return before + 1 + after + prior

    def fits(o: int) -> bool:
        opt = opts[o]
        prev, nxt = on.get(opt.day - 1), on.get(opt.day + 1)
        if prev is not None and opts[prev].end + prep.min_rest > opt.start:
            return False
        if nxt is not None and opt.end + prep.min_rest > opts[nxt].start:
            return False
        return run_with(opt.day) <= prep.max_consecutive

    def pick(d: int, room: float) -> int | None:
        fit = [
            o for o in prep.options_by_day.get(d, []) if fits(o) and opts[o].paid_minutes <= room
        ]
        if not fit:
            return None
        return max(
            fit,
            key=lambda o: (
                usual[(opts[o].type_id, opts[o].start % DAY, opts[o].length)],
                kinds[opts[o].type_id],
                -o,
            ),
        )

    def add(o: int) -> None:
        mine.append(o)
        on[opts[o].day] = o

    def free(d: int) -> bool:
        return d not in on and _room(prep, on, d)

    for d in sorted(prep.must_work):
        if d in on:
            continue
        full = _full(prep, on, d)
        if full:
            # a must-work day over a cap on working days: the copy's last other day in every
            # full block goes (the example month's A014 kept a training and worked 6 of 5)
            spare = [x for x in on if x not in prep.must_work and all(x in b.days for b in full)]
            if not spare:
                continue
            mine.remove(on.pop(max(spare)))
        if (o := pick(d, math.inf)) is not None:
            add(o)
    for block in prep.blocks:
        if block.kind != "week":
            continue
        paid = sum(opts[on[d]].paid_minutes for d in block.days if d in on)
        for d in block.days:
            if paid >= block.min_minutes:
                break
            if not free(d) or (o := pick(d, block.max_minutes - paid)) is None:
                continue
            add(o)
            paid += opts[o].paid_minutes
