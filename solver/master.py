"""The weekly master: which family of shift each agent works each day.

A *family* is a shift type with one length, one start bucket (starts within two hours) and the
same night, late and weekend flags; its exact start is left to the day models. The master has a
boolean per agent, day and family, and every agent-layer rule of the exact model applies to it
unchanged (one shift a day, rest, consecutive days, days off and paid hours, leave, requests,
preferences, fairness and the pattern rules), on one representative shift per family and day
that starts at the family's earliest start and ends at its latest end. Rest is therefore judged
conservatively, and any start the day models pick within the family keeps every agent rule: the
weekly plan is assigned to named agents by construction.

Coverage is approximated per channel in half-hour bands with each family's average availability
profile (breaks spread over their windows). Floors and role cover are required in every band,
role cover with one extra agent where breaks must be covered. Per group and day the family counts
(sums of the agents' booleans) are what the day models receive.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ortools.sat.python import cp_model

from solver.budget import now as clock_now
from solver.constraints import AGENT
from solver.model import solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import DAY, ChannelKind
from solver.shifts import ShiftOption
from solver.units import batches, work_units
from solver.variables import ELASTIC_WEIGHT, Expr, Vars

__all__ = [
    "Families",
    "MasterPlan",
    "MasterUnknown",
    "add_family_supply",
    "families",
    "solve_master",
]


class Extremes(NamedTuple):
    """A family's earliest and latest start and end on a day, in minutes."""

    first_start: int
    last_start: int
    first_end: int
    last_end: int


@dataclass
class Families:
    """Shift families and, per family and day, its options and average profiles."""

    keys: list[tuple[int, ...]]
    """(type index, length, night, late, weekend, start bucket) per family."""
    of_option: dict[int, int]
    options: dict[tuple[int, int], list[int]]
    """(family, day) -> options."""
    avail: dict[tuple[int, int], dict[int, float]]
    """(family, day) -> slot -> expected availability for contacts of one shift (0..1)."""
    duty: dict[tuple[int, int], dict[int, float]]
    """(family, day) -> slot -> the most that one of its starts is on duty then, its breaks
    spread over their windows: role cover in the master asks for a second role holder
    wherever a break may fall (so breaks can be covered), whichever start the day model picks."""
    duty_any: dict[tuple[int, int], dict[int, float]]
    """(family, day) -> slot -> 1 when one of its starts may be on duty (on shift and not on a
    break wherever placed): the relaxation, used when covering every break window is too much."""
    reach: dict[tuple[int, int], set[int]]
    """(family, day) -> slots when one of its starts may be available for contacts (the same
    relaxation, for the channel floors)."""
    extremes: dict[tuple[int, int], Extremes]
    """(family, day) -> its earliest and latest start and end."""
    paid: dict[int, int]
    on: dict[tuple[int, int], dict[int, float]] = field(default_factory=dict)
    """(family, day) -> slot -> share of its starts on shift (0..1)."""
    resting: dict[tuple[int, int], dict[int, float]] = field(default_factory=dict)
    """(family, day) -> slot -> expected breaks of one of its starts, spread over their
    windows (for the cap on the share of a channel's staff on break)."""


BUCKET_MINUTES = 120
"""Starts of one family lie within this span of the type's earliest start (rest is judged on a
family's earliest start and latest end, so wide families would forbid too much)."""


def families(inst: Instance) -> Families:
    keys: list[tuple[int, ...]] = []
    index: dict[tuple[int, ...], int] = {}
    of_option: dict[int, int] = {}
    options: dict[tuple[int, int], list[int]] = defaultdict(list)
    paid: dict[int, int] = {}
    types = inst.problem.shift_types
    for o in inst.options:
        offset = (o.start - o.day * DAY) - types[o.type_index].start_earliest
        key = (
            o.type_index,
            o.length,
            int(o.night),
            int(o.late),
            int(o.weekend),
            offset // BUCKET_MINUTES,
        )
        if key not in index:
            index[key] = len(keys)
            keys.append(key)
        f = index[key]
        of_option[o.index] = f
        options[(f, o.day)].append(o.index)
        paid[f] = o.paid_minutes
    avail: dict[tuple[int, int], dict[int, float]] = {}
    duty: dict[tuple[int, int], dict[int, float]] = {}
    duty_any: dict[tuple[int, int], dict[int, float]] = {}
    reach: dict[tuple[int, int], set[int]] = {}
    extremes: dict[tuple[int, int], Extremes] = {}
    on: dict[tuple[int, int], dict[int, float]] = {}
    resting: dict[tuple[int, int], dict[int, float]] = {}
    for fd, opts in options.items():
        a: dict[int, float] = defaultdict(float)
        s_on: dict[int, float] = defaultdict(float)
        s_rest: dict[int, float] = defaultdict(float)
        on_duty: dict[int, float] = {}
        can_duty: set[int] = set()
        ready: set[int] = set()
        share = 1.0 / len(opts)
        for oi in opts:
            o = inst.options[oi]
            for i, t in enumerate(o.slots):
                s_on[t] += share
                if i >= o.briefing_slots:
                    a[t] += share
            forced: set[int] = set()
            on_break: dict[int, float] = defaultdict(float)
            for first, last, dur in o.break_windows:
                positions = last - first + 1
                for t0 in range(first, last + 1):
                    for t in range(t0, t0 + dur):
                        a[t] -= share / positions
                        s_rest[t] += share / positions
                        on_break[t] += 1 / positions
                forced.update(range(last, first + dur))  # on break wherever it is placed
            for t in o.slots:
                on_duty[t] = max(on_duty.get(t, 0.0), 1.0 - min(1.0, on_break[t]))
                if t not in forced:
                    can_duty.add(t)
            ready.update(t for t in o.slots[o.briefing_slots :] if t not in forced)
        avail[fd] = {t: max(0.0, x) for t, x in a.items()}
        duty[fd] = on_duty
        duty_any[fd] = {t: 1.0 for t in can_duty}
        reach[fd] = ready
        on[fd] = dict(s_on)
        resting[fd] = dict(s_rest)
        starts = [inst.options[oi].start for oi in opts]
        ends = [inst.options[oi].end for oi in opts]
        extremes[fd] = Extremes(min(starts), max(starts), min(ends), max(ends))
    return Families(
        keys=keys,
        of_option=of_option,
        options=dict(options),
        avail=avail,
        duty=duty,
        duty_any=duty_any,
        reach=reach,
        extremes=extremes,
        paid=paid,
        on=on,
        resting=resting,
    )


class MasterUnknown(Exception):
    """The master found no plan in its time (not proven impossible)."""


@dataclass
class MasterPlan:
    counts: dict[tuple[int, int, int], int] = field(default_factory=dict)
    """(group, day, family) -> shifts worked by the group's ordinary agent-days."""
    special: dict[tuple[int, int], int] = field(default_factory=dict)
    """(agent, day) -> family worked on a special agent-day (absent: off)."""
    assign: dict[tuple[int, int], int] = field(default_factory=dict)
    """(agent, day) -> family worked on an ordinary agent-day (absent: off)."""
    grants: dict[int, bool] = field(default_factory=dict)
    objective: float | None = None
    bound: float | None = None


def band_minutes(slot_minutes: int) -> int:
    return max(30, slot_minutes)


def family_instance(inst: Instance, fam: Families) -> tuple[Instance, dict[int, tuple[int, int]]]:
    """The instance seen by the master: one representative option per family and day (earliest
    start to latest end), each agent's options mapped to them. Returns it with rep -> (family,
    day)."""
    reps: list[ShiftOption] = []
    rep_of: dict[tuple[int, int], int] = {}
    key_of: dict[int, tuple[int, int]] = {}
    for (f, d), opts in sorted(fam.options.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first = inst.options[opts[0]]
        ext = fam.extremes[(f, d)]
        lo, hi = ext.first_start, ext.last_end
        r = len(reps)
        reps.append(replace(first, index=r, start=lo, length=hi - lo))
        rep_of[(f, d)] = r
        key_of[r] = (f, d)
    agents = []
    for prep in inst.agents:
        by_day = {
            d: sorted({rep_of[(fam.of_option[o], d)] for o in opts})
            for d, opts in prep.options_by_day.items()
        }
        agents.append(replace(prep, options_by_day=by_day))
    by_day_all: dict[int, list[int]] = defaultdict(list)
    for r, (_f, d) in key_of.items():
        by_day_all[d].append(r)
    shadow = replace(inst, options=reps, agents=agents, options_by_day=dict(by_day_all))
    return shadow, key_of


def solve_master(
    inst: Instance,
    fam: Families,
    options: SolveOptions,
    time_limit: float,
    strict: bool = False,
    agents: set[int] | None = None,
    floors: bool = True,
    cover_breaks: bool = True,
    **params: Any,
) -> MasterPlan | None:
    """The weekly plan; ``strict`` makes floors and role cover hard (no shortfall allowed).
    ``agents`` limits the plan to those agents (the others are not modelled; ``floors=False``
    leaves the channel floors out, as a subset cannot meet them alone). ``cover_breaks``: role
    cover counts breaks spread over their windows (so every break can be covered); False: only
    breaks that cannot move are hard, the spread ones are covered as far as possible.
    None when the agent rules cannot hold; raises MasterUnknown when no plan was found in time."""
    p = inst.problem
    shadow, key_of = family_instance(inst, fam)
    model = cp_model.CpModel()
    v = Vars(model=model, inst=shadow)
    v.free_agents = set(range(len(inst.agents))) if agents is None else set(agents)
    per_band = band_minutes(p.slot_minutes) // p.slot_minutes
    # ------------------------------------------------------------------ agent layer
    for prep in shadow.agents:
        if prep.index not in v.free_agents:
            continue
        for reps in prep.options_by_day.values():
            for r in reps:
                v.x_[(prep.index, r)] = model.new_bool_var(f"x[{prep.index},{r}]")
        for li in prep.requests:
            v.grant_[li] = model.new_bool_var(f"grant[{li}]")
    for rule in AGENT:
        rule.add(v)
    # ------------------------------------------------------------------ family counts
    counts: dict[tuple[int, int, int], list[Any]] = defaultdict(list)
    for (a, r), var in v.x_.items():
        f, d = key_of[r]
        counts[(inst.agents[a].group_index, d, f)].append(var)
    m = {key: sum(terms) for key, terms in counts.items()}
    # ------------------------------------------------------------------ coverage by band
    supply: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, band)
    # floors and role cover per slot on the families' reach (relaxations, see Families)
    ready: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, slot)
    duty: dict[tuple[str, int], list[Expr]] = defaultdict(list)  # (role, slot), x 100
    duty_any: dict[tuple[str, int], list[Expr]] = defaultdict(list)  # (role, slot)
    for (g, d, f), c_var in m.items():
        k = inst.groups[g].class_index
        skills = [inst.channel_index[c] for c in inst.classes[k].skills]
        roles = inst.classes[k].roles
        add_family_supply(model, inst, fam, (g, d, f), c_var, skills, per_band, supply, ready)
        add_family_duty(inst, fam, (f, d), c_var, roles, duty, duty_any)
    obj: list[tuple[Any, float]] = []
    for c, ch in enumerate(p.channels):
        if floors and ch.min_staff:
            for t, floor in enumerate(ch.min_staff):
                if floor > 0:
                    have = sum(ready.get((c, t), []))
                    at_least(model, obj, have, floor, strict, f"ms[{c},{t}]")
    for req_role in p.roles:
        for t, wanted in enumerate(req_role.slots):
            if wanted:
                have = sum(duty.get((req_role.role, t), []))
                want = 100 * req_role.count
                name = f"mr[{req_role.role},{t}]"
                at_least(model, obj, have, want, strict and cover_breaks, name, 0.01)
                if not cover_breaks:  # the relaxation hard, break cover as far as it goes
                    have = sum(duty_any.get((req_role.role, t), []))
                    at_least(model, obj, have, req_role.count, strict, name + "'")
    # the rules and floors alone are quick to satisfy, the whole model's first solution is
    # not (the cover objective leaves the search no guide): start from such a week
    t_end = clock_now() + time_limit
    hint = _agent_hint(v, obj, options, max(0.5, 0.5 * time_limit))
    if hint is None:
        return None
    add_band_cover(model, inst, supply, per_band, obj)
    obj.extend((pen.var, pen.weight) for pen in v.penalties)
    model.minimize(sum(round(100 * w) * var for var, w in obj))
    hint = _complete_hint(v, hint, options, max(0.5, 0.1 * time_limit))
    out = solve_cp(v, options, max(0.5, t_end - clock_now()), hint=hint, **params)
    if not out.has_solution:
        if out.status == cp_model.INFEASIBLE:
            return None
        raise MasterUnknown
    sol = out.solver
    plan = MasterPlan(objective=out.objective, bound=out.bound)
    for (a, r), var in v.x_.items():
        if isinstance(var, int) or not sol.value(var):
            continue
        f, d = key_of[r]
        if d in inst.agents[a].special_days:
            plan.special[(a, d)] = f
        else:
            plan.assign[(a, d)] = f
            key = (inst.agents[a].group_index, d, f)
            plan.counts[key] = plan.counts.get(key, 0) + 1
    plan.grants = {
        li: bool(g if isinstance(g, int) else sol.value(g)) for li, g in v.grant_.items()
    }
    return plan


def add_family_supply(
    model: cp_model.CpModel,
    inst: Instance,
    fam: Families,
    key: tuple[int, int, int],
    count: Expr,
    skills: list[int],
    per_band: int,
    supply: dict[tuple[int, int], list[Expr]],
    ready: dict[tuple[int, int], list[Expr]],
) -> list[tuple[int, Expr]]:
    """``count`` shifts of family f on day d for group g (``key`` = (g, d, f)) split over the
    group's channels; each channel's part adds the family's average availability to ``supply``
    per (channel, band), x 100, and counts toward ``ready`` per (channel, slot) of the family's
    reach. Returns the split."""
    p = inst.problem
    g, d, f = key
    split = split_channels(model, count, skills, f"q[{g},{d},{f}]")
    band_avail: dict[int, float] = defaultdict(float)
    for t, val in fam.avail[(f, d)].items():
        tt = p.slot_index(t)
        if tt is not None:
            band_avail[tt // per_band] += val
    for b, val in band_avail.items():
        for c, q in split:
            supply[(c, b)].append(round(100 * val) * q)
    for t in fam.reach[(f, d)]:
        tt = p.slot_index(t)
        if tt is not None:
            for c, q in split:
                ready[(c, tt)].append(q)
    return split


def add_family_duty(
    inst: Instance,
    fam: Families,
    key: tuple[int, int],
    count: Expr,
    roles: Iterable[str],
    duty: dict[tuple[str, int], list[Expr]],
    duty_any: dict[tuple[str, int], list[Expr]],
) -> None:
    """``count`` shifts of family f on day d (``key`` = (f, d)) held by agents with ``roles``:
    their duty with breaks spread (x 100) to ``duty`` and their reach to ``duty_any``, per
    (role, slot)."""
    p = inst.problem
    roles = list(roles)
    if not roles:
        return
    for t, share in fam.duty[key].items():
        tt = p.slot_index(t)
        if tt is not None:
            for role in roles:
                duty[(role, tt)].append(round(100 * share) * count)
    for t in fam.duty_any[key]:
        tt = p.slot_index(t)
        if tt is not None:
            for role in roles:
                duty_any[(role, tt)].append(count)


def add_band_cover(
    model: cp_model.CpModel,
    inst: Instance,
    supply: dict[tuple[int, int], list[Expr]],
    per_band: int,
    obj: list[tuple[Any, float]],
) -> None:
    """Under- and over-cover per channel and band (supply in hundredths of agent-slots); a
    deferred shortfall leaves work waiting, so it is priced as an hour of overdue work."""
    p = inst.problem
    n_bands = -(-p.n_slots // per_band)
    for c, ch in enumerate(p.channels):
        need = need_profile(inst, c)
        cu, co = p.channel_weights(ch)
        w_short = (
            cu
            if ch.kind is not ChannelKind.deferred
            else max(p.weights.under_cover, p.weights.deferred_late * 60 / p.slot_minutes)
        )
        for b in range(n_bands):
            slots = range(b * per_band, min(p.n_slots, (b + 1) * per_band))
            need_b = round(100 * sum(need[t] for t in slots))
            have = sum(supply.get((c, b), []))
            if isinstance(have, int) and need_b == 0:
                continue
            under = model.new_int_var(0, max(0, need_b), f"mu[{c},{b}]")
            over = model.new_int_var(0, 100 * per_band * len(inst.agents), f"mo[{c},{b}]")
            model.add(have + under - over == need_b)
            obj.append((under, w_short / 100))
            obj.append((over, co / 100))


def at_least(
    model: cp_model.CpModel,
    obj: list[tuple[Any, float]],
    have: Expr,
    want: int,
    strict: bool,
    name: str,
    unit: float = 1.0,
) -> None:
    """``have >= want``; elastic (a dominant penalty per ``unit`` short) unless strict."""
    if strict:
        model.add(have >= want)
        return
    short = model.new_int_var(0, want, name)
    model.add(have + short >= want)
    obj.append((short, ELASTIC_WEIGHT * unit))


def _agent_hint(
    v: Vars, obj: list[tuple[Any, float]], options: SolveOptions, time_limit: float
) -> dict[Any, int] | None:
    """A week that keeps every agent rule, floor and role cover (soft rules and shortfalls
    minimised briefly), as a hint; None when the rules cannot hold. Raises MasterUnknown when
    no week was found in time."""
    terms = [*obj, *((pen.var, pen.weight) for pen in v.penalties)]
    v.model.minimize(sum(round(100 * w) * var for var, w in terms))
    out = solve_cp(v, options, time_limit)
    if not out.has_solution:
        if out.status == cp_model.INFEASIBLE:
            return None
        raise MasterUnknown
    values = out.solver.response_proto.solution
    return {v.model.get_int_var_from_proto_index(i): int(x) for i, x in enumerate(values)}


def _complete_hint(
    v: Vars, hint: dict[Any, int], options: SolveOptions, time_limit: float
) -> dict[Any, int]:
    """The hint extended to every variable (cover slacks and splits) by solving a copy of the
    model with the hinted week fixed; CP-SAT starts from a complete hint at once."""
    copy = v.model.clone()
    week = {var.index for var in [*v.x_.values(), *v.grant_.values()] if not isinstance(var, int)}
    for var, value in hint.items():
        if var.index in week:
            copy.add(copy.get_int_var_from_proto_index(var.index) == value)
    shadow = Vars(model=copy, inst=v.inst)
    out = solve_cp(shadow, options, time_limit)
    if not out.has_solution:
        return hint
    values = out.solver.response_proto.solution
    return {v.model.get_int_var_from_proto_index(i): int(x) for i, x in enumerate(values)}


def split_channels(
    model: cp_model.CpModel, count: Expr, channels: list[int], name: str
) -> list[tuple[int, Expr]]:
    """Shifts of a multi-skilled group split over its channels (one channel per shift here)."""
    if len(channels) == 1:
        return [(channels[0], count)]
    hi = 10_000
    parts = [model.new_int_var(0, hi, f"{name}[{c}]") for c in channels]
    model.add(sum(parts) == count)
    return list(zip(channels, parts, strict=True))


def need_profile(inst: Instance, c: int) -> list[float]:
    """Agents needed per slot on a channel: the requirement; for deferred work without one, each
    batch of work spread evenly from its release to its due slot (agent-slots)."""
    ch = inst.problem.channels[c]
    if ch.kind is not ChannelKind.deferred or ch.deferred is None or any(ch.required):
        return [float(x) for x in ch.required]
    n = inst.problem.n_slots
    need = [0.0] * n
    for arr, due in zip(ch.deferred.arrived, ch.deferred.due, strict=True):
        for batch in batches(*work_units(arr, due)):
            if batch.due is None:
                continue
            span = range(batch.release, batch.due + 1)
            for t in span:
                need[t] += batch.units / 10.0 / len(span)
    return need
