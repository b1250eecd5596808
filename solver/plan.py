"""The integer plan: the aggregate LP's shift counts rounded within the group rules.

The aggregate's LP relaxation (``solver.bound``) says how many agents of each group work each
shift option, fractionally. ``rounded_plan`` holds every group count between the floor and the
ceiling of its LP value (a relaxation-induced neighbourhood, as in RINS) and lets CP-SAT choose
the roundings that keep the group rules (days off, hours, rest, consecutive days, requests)
with agents on shift per class and slot as close to the LP's as they allow. It is a small model
(no breaks, no channels); the day models then place breaks and channels for exactly those
shifts.

Deferred channels (messages, e-mail) are then staffed to the LP's own staffing per slot
(``deferred_plan``) rather than to their level-loaded requirement: on the 60-agent independent
week the LP does the message work with 895 agent-slots where the level-loaded plan asks 1,716,
using the overnight deadline. (The full aggregate searched by CP-SAT with the backlog model
left the work undone at every time limit tried; the running backlog sums are an easy LP but a
hard search. Refinement and the validator keep the exact backlog model.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model_helper

from solver import budget
from solver.bound import AggregateBound
from solver.model import build_aggregate, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import ChannelKind
from solver.shifts import ShiftOption
from solver.units import scaled_weight

__all__ = ["IntegerPlan", "deferred_plan", "rounded_plan"]


@dataclass
class IntegerPlan:
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    """(group, option) -> shifts worked by the group's ordinary agent-days."""
    special: dict[int, list[int]] = field(default_factory=dict)
    """agent -> options worked on its special agent-days."""
    grants: dict[int, bool] = field(default_factory=dict)
    objective: float | None = None


def _value(x: Any, expr: Any) -> float:
    """An expression of the LP's model evaluated at the LP solution."""
    if isinstance(expr, int | float):
        return float(expr)
    flat = cp_model_helper.FlatIntExpr(expr)
    return float(sum(c * x[var.index] for var, c in zip(flat.vars, flat.coeffs, strict=True))) + (
        flat.offset
    )


def _lp_staffing(inst: Instance, agg: AggregateBound) -> dict[int, list[float]]:
    """Deferred channel -> agents on it per slot in the LP optimum."""
    p = inst.problem
    return {
        c: [max(0.0, _value(agg.lp, agg.model.coverage(c, t))) for t in range(p.n_slots)]
        for c, ch in enumerate(p.channels)
        if ch.kind is ChannelKind.deferred
    }


def deferred_plan(inst: Instance, agg: AggregateBound) -> dict[int, list[int]]:
    """Agents per slot on each deferred channel in the LP optimum, rounded so that the
    running total never falls behind the LP's (work done late in one slot stays late)."""
    out: dict[int, list[int]] = {}
    for c, staffing in _lp_staffing(inst, agg).items():
        plan, total, given = [], 0.0, 0
        for x in staffing:
            total += x
            n = max(0, math.ceil(total - 1e-6) - given)
            plan.append(n)
            given += n
        out[c] = plan
    return out


def rounded_plan(
    inst: Instance, agg: AggregateBound, options: SolveOptions, time_limit: float
) -> IntegerPlan | None:
    """Group counts near the LP optimum that keep every group rule: each count between the
    floor and the ceiling of its LP value, agents on shift per class and slot as close to the
    LP's as the roundings allow (priced as cover), the group rules' own costs (requests,
    fairness) as in the roster. A small model (no breaks, no channels): the day models place
    those next. None when CP-SAT finds no rounding in time.

    When those boxes leave the room for breaks under the cap, or for floors and role cover,
    short (a hard rule the days cannot then keep), the counts of the classes it turns on are
    rounded again, free of their boxes, from the first rounding, with every room kept whole,
    for as long again (no such rounding in time: the first one stands): the LP
    keeps the cap with fractions (the independent week 7501's three office chat agents, who
    each work four of five weekdays with a lunch forced to 12:00-13:00, need every other chat
    agent on shift at noon on the two days all three work, and their rounded counts left four
    slots over the cap; the weekly masters, the other way, kept it but planned 30 shifts too
    few at the weekend)."""
    t0 = budget.now()  # the solver's clock: deterministic work in a deterministic solve
    first = _round(inst, agg, options, time_limit, frozenset(), None)
    if first is None:
        return None
    plan, short, solution = first
    queue = _deferred_staffing(inst, agg)
    rounds = 2.0
    if queue:
        # deferred work: the queue priced from the first rounding on (a whole start; the queue
        # from scratch found no first rounding in the time seed 17's first did), for half as
        # long (as long again cost seed 26, 28 days, 72 s of its 120 before the days began)
        rounds = 2.5
        queued = _round(inst, agg, options, time_limit / 2, frozenset(), solution, queue)
        if queued is not None:
            plan, short, solution = queued
    left = rounds * time_limit - (budget.now() - t0)
    if not short or left < 1.0:
        return plan
    again = _round(inst, agg, options, min(time_limit, left), frozenset(short), solution, queue)
    if again is None or (again[0].objective or 0.0) >= (plan.objective or 0.0):
        return plan
    return again[0]


def _round(
    inst: Instance,
    agg: AggregateBound,
    options: SolveOptions,
    time_limit: float,
    free: frozenset[int],
    start: list[int] | None,
    queue: dict[int, list[int]] | None = None,
) -> tuple[IntegerPlan, set[int], list[int]] | None:
    """One rounding (``rounded_plan``): the counts of classes in ``free`` unboxed and, when
    any are, every room kept whole; ``start`` a whole solution of the same model (or of it
    without the queue) to start from; ``queue``: the deferred channels' LP staffing the
    rounded shifts are held to (``_deferred_queue``). Returns the plan, the classes that a
    room left short turns on, and the solution."""
    p = inst.problem
    v = build_aggregate(inst, elastic=False, core=False)
    hint: dict[Any, int] = {}
    on: dict[tuple[int, int], list[Any]] = {}
    lp_on: dict[tuple[int, int], float] = {}
    # PDLP's approximate point: a count within a twentieth of an integer is taken as it
    eps = 1e-6 if agg.exact else 0.05
    for var, k, o, val in _counts(inst, v, agg):
        lo = max(0, math.floor(val + eps))
        hi = max(lo, math.ceil(val - eps))
        if k not in free:
            v.model.add(var >= lo)
            v.model.add(var <= hi)
        hint[var] = min(hi, max(lo, math.floor(val + 0.5)))
        for t in inst.options[o].slots:
            tt = p.slot_index(t)
            if tt is not None:
                on.setdefault((k, tt), []).append(var)
                lp_on[(k, tt)] = lp_on.get((k, tt), 0.0) + val
    terms = [scaled_weight(pen.weight) * pen.var for pen in v.penalties]
    w = scaled_weight(p.weights.under_cover / 100)  # per hundredth of an agent-slot
    for key, variables in on.items():
        target = round(100 * lp_on[key])
        dev = v.model.new_int_var(0, 100 * len(inst.agents), f"dev[{key}]")
        v.model.add(dev >= 100 * sum(variables) - target)
        v.model.add(dev >= target - 100 * sum(variables))
        terms.append(w * dev)
    rooms: list[tuple[Any, set[int]]] = _break_room(inst, v) + _cover_room(inst, v)
    weight = scaled_weight(100 * p.weights.under_cover)
    terms += [weight * short for short, _ in rooms]
    if free:
        # the second rounding keeps the rooms whole: priced, CP-SAT stayed with the first
        # rounding's shortfall (7501: 21 hundredths over the cap on four slots, 297,000, in
        # 10 s free of every box) where kept whole it found 9,686 at once
        for short, _ in rooms:
            v.model.add(short == 0)
    # the queue's variables come last: a start without them still names every other one
    value_of = (lambda var: start[var.index]) if start is not None else (lambda var: hint[var])
    queued = _deferred_queue(inst, v, queue or {}, on, value_of)
    terms += [term for term, _, _ in queued]
    v.model.minimize(sum(terms))
    n_vars = len(v.model.Proto().variables)
    if start is not None:
        hint = {
            v.model.get_int_var_from_proto_index(i): value for i, value in enumerate(start[:n_vars])
        }
    if start is None or len(start) < n_vars:
        hint.update({var: value for _, var, value in queued})
    # from a whole start, the queue's rounding skips presolve: on seed 17 it took 2.6 of the
    # pass's 3 s (the first rounding's 1.5), where the start is taken at once without it
    params: dict[str, Any] = {"cp_model_presolve": False} if start is not None and queue else {}
    out = solve_cp(v, options, time_limit, hint=hint, **params)
    if not out.has_solution:
        return None
    sol = out.solver
    short = {k for slack, classes in rooms if sol.value(slack) > 0 for k in classes}
    solution = [int(x) for x in sol.response_proto.solution]
    return _read(v, sol, out.objective), short, solution


def _deferred_staffing(inst: Instance, agg: AggregateBound) -> dict[int, list[int]]:
    """Deferred channel -> the LP's agents on it per slot, in hundredths (channels the LP
    staffs at all)."""
    out = {c: [round(100 * x) for x in staffing] for c, staffing in _lp_staffing(inst, agg).items()}
    return {c: per_slot for c, per_slot in out.items() if any(per_slot)}


def _deferred_queue(
    inst: Instance,
    v: Any,
    staffing: dict[int, list[int]],
    on: dict[tuple[int, int], list[Any]],
    value_of: Callable[[Any], int],
) -> list[tuple[Any, Any, int]]:
    """The deferred work the rounded shifts leave undone, as far as counts can say it: per
    deferred channel and slot, agents skilled for it on shift (summed over their classes) must
    reach the LP's own staffing of it (``staffing``, hundredths); what they fall short of waits
    in a queue, in hundredths of an agent-slot, costing as overdue work for each slot it waits.
    Each class rounded to its nearest count can sum to less than the LP staffed: robustness
    seed 17's LP had 1.5 message agents each evening slot from three classes (0.16 + 1.32 +
    0.38); rounded, one was left, and the evening's message work waited through the night
    (4,605 overdue after the day models against the LP's whole bound of 418; 121 with the
    queue). Zero at the LP's own point. Returns (cost term, queue variable, its value at the
    counts ``value_of`` gives) per slot."""
    p = inst.problem
    out: list[tuple[Any, Any, int]] = []
    w = scaled_weight(p.weights.deferred_late / 100)
    for c, need in staffing.items():
        skilled = [k for k, (skills, _) in enumerate(inst.classes) if p.channels[c].id in skills]
        queue: Any = 0
        most = hinted = 0
        for t in range(p.n_slots):
            most += need[t]
            if most == 0:
                continue
            pool = [var for k in skilled for var in on.get((k, t), [])]
            behind = v.model.new_int_var(0, most, f"queue[{c},{t}]")
            v.model.add(behind >= queue + need[t] - 100 * sum(pool))
            hinted = max(0, hinted + need[t] - 100 * sum(value_of(var) for var in pool))
            out.append((w * behind, behind, hinted))
            queue = behind
    return out


def _break_room(inst: Instance, v: Any) -> list[tuple[Any, set[int]]]:
    """Room for the breaks under the break cap, as far as counts can say it: for every break
    window W of a shift option (per primary channel), the breaks that must fall inside W fit
    under the cap summed over W's slots: 100 x (their slots) <= share% x (agents on shift,
    summed over W) + 99 x |W| (the cap rounds up). Necessary for any placement; the LP keeps
    it through its exact break counts, a rounding can lose it (the independent month's rounded
    counts left ten of 29 on their lunch at noon, two over the cap, on most weekdays). Elastic:
    each hundredth short costs what 100 agent-slots short of cover do (a hard rule).
    Slot by slot too, for the breaks that cover a slot wherever they start. Returns each
    shortfall (in hundredths) with the classes whose counts it turns on (the channel's)."""
    p = inst.problem
    share = p.rules.max_on_break_share
    if share >= 1:
        return []
    num = round(share * 100)
    primary = {
        k: inst.channel_index[skills[0]] for k, (skills, _) in enumerate(inst.classes) if skills
    }
    of_channel: dict[int, set[int]] = {}
    for k, c in primary.items():
        of_channel.setdefault(c, set()).add(k)
    # (variable, primary channel, option, whether its breaks are taken)
    items = [
        (var, primary[k], o, takes) for var, k, o, takes in _shift_items(inst, v) if k in primary
    ]
    by_day: dict[int, list[tuple[Any, int, int, bool]]] = {}
    windows: set[tuple[int, int, int, int]] = set()
    for item in items:
        opt = inst.options[item[2]]
        by_day.setdefault(opt.day, []).append(item)
        for first, last, dur in opt.break_windows:
            windows.add((item[1], opt.day, first, last + dur))
    # per hundredth short (priced by the caller): a hard rule, so 100 agent-slots of cover (a
    # hundredth short is the smallest break of the cap: at par with cover the rounding kept 4
    # of 10 on a forced lunch, one over the cap, rather than add a shift: robustness seed 16)
    terms: list[tuple[Any, set[int]]] = []
    for c, day, lo, hi in sorted(windows):
        inside: list[Any] = []
        on: list[Any] = []
        for d in (day - 1, day):
            for var, cc, o, takes in by_day.get(d, []):
                if cc != c:
                    continue
                opt = inst.options[o]
                overlap = min(hi, opt.first_slot + opt.n_slots) - max(lo, opt.first_slot)
                if overlap <= 0:
                    continue
                on.append(overlap * var)
                if takes and (breaks := _breaks_inside(opt, lo, hi)):
                    inside.append(breaks * var)
        if not inside:
            continue
        short = v.model.new_int_var(0, 100 * len(inst.agents) * (hi - lo), f"room[{c},{lo}]")
        v.model.add(100 * sum(inside) <= num * sum(on) + 99 * (hi - lo) + short)
        terms.append((short, of_channel[c]))
    # and slot by slot, the breaks that cover the slot wherever they start (a break whose
    # window is shorter than twice its length always covers the middle of the window: three
    # 90-minute lunches starting 11:30-12:00 are all at lunch 12:00-13:00)
    forced: dict[tuple[int, int], list[Any]] = {}
    on_slot: dict[tuple[int, int], list[Any]] = {}
    for var, c, o, takes in items:
        opt = inst.options[o]
        for t in opt.slots:
            on_slot.setdefault((c, t), []).append(var)
        if takes:
            for t in _forced_slots(opt):
                forced.setdefault((c, t), []).append(var)
    for (c, t), variables in sorted(forced.items()):
        short = v.model.new_int_var(0, 100 * len(inst.agents), f"forced[{c},{t}]")
        v.model.add(100 * sum(variables) <= num * sum(on_slot[(c, t)]) + 99 + short)
        terms.append((short, of_channel[c]))
    return terms


def _cover_room(inst: Instance, v: Any) -> list[tuple[Any, set[int]]]:
    """Floors and role cover, as far as counts can say it (``_break_room``'s counterpart):
    per channel with a floor (agents skilled for it) and per role requirement (its holders),
    slot by slot, those on shift less those surely off (a break whose window forces it into
    the slot; for a channel, the briefing too: a team lead in briefing is on duty) reach the
    need; and over every break window W of their options, the
    agent-slots on shift beyond the need, summed over W, hold the breaks that must fall inside
    W (two night agents with a floor of two leave it one short while either is on break).
    Necessary for any placement; without them the rounding of a month's approximate LP point
    left 133 floor and 178 team-lead slots with no way to cover them. Elastic, priced as a
    hard rule (100 agent-slots of cover per agent-slot short, by the caller). Returns each
    shortfall with the classes whose counts it turns on (the skilled, or the holders)."""
    p = inst.problem
    # (classes, need per slot, whether a briefing takes them off it: a channel's, not a role's)
    subjects: list[tuple[set[int], list[int], bool]] = []
    for ch in p.channels:
        if any(ch.min_staff):
            skilled = {k for k, (skills, _) in enumerate(inst.classes) if ch.id in skills}
            subjects.append((skilled, list(ch.min_staff), True))
    for req in p.roles:
        holders = {k for k, (_, roles) in enumerate(inst.classes) if req.role in roles}
        subjects.append((holders, [req.count if f else 0 for f in req.slots], False))
    if not subjects:
        return []
    items = _shift_items(inst, v)
    terms: list[tuple[Any, set[int]]] = []
    for n, (classes, need, briefed) in enumerate(subjects):
        mine = [item for item in items if item[1] in classes]
        on: dict[int, list[Any]] = {}
        off: dict[int, list[Any]] = {}
        windows: set[tuple[int, int, int]] = set()  # (day, first slot, end slot)
        by_day: dict[int, list[tuple[Any, int, int, bool]]] = {}
        for var, k, o, takes in mine:
            opt = inst.options[o]
            by_day.setdefault(opt.day, []).append((var, k, o, takes))
            for i, t in enumerate(opt.slots):
                tt = p.slot_index(t)
                if tt is None:
                    continue
                on.setdefault(tt, []).append(var)
                if briefed and i < opt.briefing_slots:
                    off.setdefault(tt, []).append(var)
            if takes:
                for t in _forced_slots(opt):
                    if (tt := p.slot_index(t)) is not None:
                        off.setdefault(tt, []).append(var)
                for first, last, dur in opt.break_windows:
                    windows.add((opt.day, first, last + dur))
        for tt, variables in sorted(on.items()):
            if tt < len(need) and need[tt] > 0:
                short = v.model.new_int_var(0, need[tt], f"floor[{n},{tt}]")
                v.model.add(sum(variables) - sum(off.get(tt, [])) + short >= need[tt])
                terms.append((short, classes))
        for day, lo, hi in sorted(windows):
            slots = [tt for t in range(lo, hi) if (tt := p.slot_index(t)) is not None]
            needed = sum(need[tt] for tt in slots if tt < len(need))
            if not needed:
                continue
            inside = [
                breaks * var
                for d in (day - 1, day)
                for var, _k, o, takes in by_day.get(d, [])
                if takes and (breaks := _breaks_inside(inst.options[o], lo, hi))
            ]
            spare = [var for tt in slots for var in on.get(tt, [])]
            short = v.model.new_int_var(0, needed, f"floor_room[{n},{lo}]")
            v.model.add(sum(spare) - needed + short >= sum(inside))
            terms.append((short, classes))
    return terms


def _shift_items(inst: Instance, v: Any) -> list[tuple[Any, int, int, bool]]:
    """(variable, class, option, whether its breaks are taken) of every group count and
    special agent-day of a rounding model (an agent-day with leave on shift takes none)."""
    items: list[tuple[Any, int, int, bool]] = [
        (var, inst.groups[g].class_index, o, True) for (g, o), var in v.y_.items()
    ]
    for (a, o), var in v.x_.items():
        prep = inst.agents[a]
        items.append((var, prep.class_index, o, inst.options[o].day not in prep.on_shift_leave))
    return items


def _breaks_inside(opt: ShiftOption, lo: int, hi: int) -> int:
    """Slots of the option's breaks whose whole window lies within slots ``lo`` to ``hi``."""
    return sum(dur for first, last, dur in opt.break_windows if first >= lo and last + dur <= hi)


def _forced_slots(opt: ShiftOption) -> Iterator[int]:
    """Slots a break of the option covers wherever in its window it starts."""
    for first, last, dur in opt.break_windows:
        yield from range(last, first + dur)


def _counts(inst: Instance, v: Any, agg: AggregateBound) -> list[tuple[Any, int, int, float]]:
    """(variable, class, option, LP value) of every group count and special agent-day of ``v``
    (built like the LP's model, so its keys are the LP's)."""
    out = []
    for (g, o), var in v.y_.items():
        out.append((var, inst.groups[g].class_index, o, float(agg.lp[agg.model.y_[(g, o)].index])))
    for (a, o), var in v.x_.items():
        out.append((var, inst.agents[a].class_index, o, float(agg.lp[agg.model.x_[(a, o)].index])))
    return out


def _read(v: Any, sol: Any, objective: float | None) -> IntegerPlan:
    plan = IntegerPlan(objective=objective)
    for (g, o), var in v.y_.items():
        if n := int(sol.value(var)):
            plan.counts[(g, o)] = n
    for (a, o), var in v.x_.items():
        if sol.value(var):
            plan.special.setdefault(a, []).append(o)
    plan.grants = {li: bool(sol.value(g)) for li, g in v.grant_.items()}
    return plan
