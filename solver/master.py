"""The master model: how many shifts of each family each group works each day.

A *family* is a shift type with one length; its start time is left to the day models. The
master holds every rule that spans days, summed over a group (availability per day, days off and
paid hours per week, consecutive days, rest between days with each family's extreme times,
requested leave, a fairness bound), and approximates coverage per channel in half-hour bands with
each family's average availability profile (breaks spread over their windows). Floors and role
cover are required in every band with one extra agent where breaks must be covered. It is small
(groups x days x families), so CP-SAT solves it to a small gap quickly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver.model import solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import ChannelKind, LeaveStatus
from solver.units import batches, work_units
from solver.variables import ELASTIC_WEIGHT, Expr, Vars

__all__ = ["Families", "MasterPlan", "MasterUnknown", "families", "solve_master"]


@dataclass
class Families:
    """Shift families and, per family and day, its options and average profiles."""

    keys: list[tuple[int, int]]
    """(type index, length) per family."""
    of_option: dict[int, int]
    options: dict[tuple[int, int], list[int]]
    """(family, day) -> options."""
    avail: dict[tuple[int, int], dict[int, float]]
    """(family, day) -> slot -> expected availability for contacts of one shift (0..1)."""
    on: dict[tuple[int, int], dict[int, float]]
    """(family, day) -> slot -> share of its starts on shift (0..1)."""
    extremes: dict[tuple[int, int], tuple[int, int, int, int]]
    """(family, day) -> (earliest start, latest start, earliest end, latest end) in minutes."""
    paid: dict[int, int]


def families(inst: Instance) -> Families:
    keys: list[tuple[int, int]] = []
    index: dict[tuple[int, int], int] = {}
    of_option: dict[int, int] = {}
    options: dict[tuple[int, int], list[int]] = defaultdict(list)
    paid: dict[int, int] = {}
    for o in inst.options:
        key = (o.type_index, o.length)
        if key not in index:
            index[key] = len(keys)
            keys.append(key)
        f = index[key]
        of_option[o.index] = f
        options[(f, o.day)].append(o.index)
        paid[f] = o.paid_minutes
    avail: dict[tuple[int, int], dict[int, float]] = {}
    on: dict[tuple[int, int], dict[int, float]] = {}
    extremes: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for fd, opts in options.items():
        a: dict[int, float] = defaultdict(float)
        s: dict[int, float] = defaultdict(float)
        share = 1.0 / len(opts)
        for oi in opts:
            o = inst.options[oi]
            for i, t in enumerate(o.slots):
                s[t] += share
                if i >= o.briefing_slots:
                    a[t] += share
            for first, last, dur in o.break_windows:
                positions = last - first + 1
                for t0 in range(first, last + 1):
                    for t in range(t0, t0 + dur):
                        a[t] -= share / positions
        avail[fd] = {t: max(0.0, x) for t, x in a.items()}
        on[fd] = dict(s)
        starts = [inst.options[oi].start for oi in opts]
        ends = [inst.options[oi].end for oi in opts]
        extremes[fd] = (min(starts), max(starts), min(ends), max(ends))
    return Families(
        keys=keys,
        of_option=of_option,
        options=dict(options),
        avail=avail,
        on=on,
        extremes=extremes,
        paid=paid,
    )


class MasterUnknown(Exception):
    """The master found no plan in its time (not proven impossible)."""


@dataclass
class MasterPlan:
    counts: dict[tuple[int, int, int], int] = field(default_factory=dict)
    """(group, day, family) -> shifts worked by the group's ordinary agent-days."""
    special: dict[tuple[int, int], int] = field(default_factory=dict)
    """(agent, day) -> family worked on a special agent-day (absent: off)."""
    grants: dict[int, bool] = field(default_factory=dict)
    objective: float | None = None
    bound: float | None = None


def _band_minutes(slot_minutes: int) -> int:
    return max(30, slot_minutes)


def solve_master(
    inst: Instance, fam: Families, options: SolveOptions, time_limit: float
) -> MasterPlan | None:
    p = inst.problem
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst)
    per_band = _band_minutes(p.slot_minutes) // p.slot_minutes
    n_bands = -(-p.n_slots // per_band)
    # ------------------------------------------------------------------ variables
    m: dict[tuple[int, int, int], Any] = {}
    group_day_fams: dict[tuple[int, int], list[int]] = defaultdict(list)
    for g, members in enumerate(inst.group_members):
        for d in range(p.days):
            ordinary = [
                a
                for a in members
                if d not in inst.agents[a].special_days and inst.agents[a].options_by_day.get(d)
            ]
            if not ordinary:
                continue
            allowed = {
                fam.of_option[o] for a in ordinary for o in inst.agents[a].options_by_day.get(d, [])
            }
            for f in sorted(allowed):
                m[(g, d, f)] = model.new_int_var(0, len(ordinary), f"m[{g},{d},{f}]")
                group_day_fams[(g, d)].append(f)
    for li in inst.requests:
        v.grant_[li] = model.new_bool_var(f"grant[{li}]")
    for g, members in enumerate(inst.group_members):
        for d in range(p.days):
            fams = group_day_fams.get((g, d), [])
            ordinary = [
                a
                for a in members
                if d not in inst.agents[a].special_days and inst.agents[a].options_by_day.get(d)
            ]
            if not fams:
                continue
            req = [
                v.grant(li)
                for a in ordinary
                for li in inst.agents[a].requests
                if p.leave[li].whole_days and d in p.leave[li].days()
            ]
            model.add(sum(m[(g, d, f)] for f in fams) + sum(req) <= len(ordinary))
    special: dict[tuple[int, int, int], Any] = {}
    for prep in inst.agents:
        for d in sorted(prep.special_days):
            fams = sorted({fam.of_option[o] for o in prep.options_by_day.get(d, [])})
            for f in fams:
                special[(prep.index, d, f)] = model.new_bool_var(f"s[{prep.index},{d},{f}]")
            terms = [special[(prep.index, d, f)] for f in fams]
            if d in prep.must_work:
                if terms:
                    model.add(sum(terms) == 1)
                else:
                    v.add_false([])
            elif terms:
                model.add_at_most_one(terms)
            for li in prep.requests:
                lv = p.leave[li]
                if lv.whole_days and d in lv.days():
                    for t in terms:
                        model.add_implication(v.grant(li), t.negated())

    def group_day(g: int, d: int) -> list[tuple[int, Expr]]:
        """(family, count) terms of group g on day d, special agent-days included."""
        out = [(f, m[(g, d, f)]) for f in group_day_fams.get((g, d), [])]
        for a in inst.group_members[g]:
            if d in inst.agents[a].special_days:
                out += [(f, var) for (aa, dd, f), var in special.items() if aa == a and dd == d]
        return out

    # ------------------------------------------------------------------ weekly group rules
    for g, members in enumerate(inst.group_members):
        blocks = inst.agents[members[0]].blocks
        for bi, block in enumerate(blocks):
            terms = [(f, c) for d in block.days for f, c in group_day(g, d)]
            cap = sum(inst.agents[a].blocks[bi].max_work_days for a in members)
            credits_days, credits_min, credits_max = [], [], []
            for a in members:
                blk = inst.agents[a].blocks[bi]
                for li in inst.agents[a].requests:
                    lv = p.leave[li]
                    if lv.whole_days and lv.credited:
                        k = len([d for d in lv.days() if d in block.days])
                        if k:
                            credits_days.append(k * v.grant(li))
                            credits_min.append(round(blk.credit_min * k) * v.grant(li))
                            credits_max.append(round(blk.credit_max * k) * v.grant(li))
            model.add(sum(c for _, c in terms) + sum(credits_days) <= cap)
            if block.kind != "week":
                continue
            paid = sum(fam.paid[f] * c for f, c in terms)
            lo = sum(inst.agents[a].blocks[bi].min_minutes for a in members)
            hi = sum(inst.agents[a].blocks[bi].max_minutes for a in members)
            model.add(paid + sum(credits_min) >= lo)
            model.add(paid + sum(credits_max) <= hi)
        mc = inst.agents[members[0]].max_consecutive
        if p.days > mc:
            for first in range(p.days - mc):
                model.add(
                    sum(c for d in range(first, first + mc + 1) for _, c in group_day(g, d))
                    <= len(members) * mc
                )
        rest = inst.agents[members[0]].min_rest
        for d in range(p.days - 1):
            today = group_day(g, d)
            tomorrow = group_day(g, d + 1)
            if not today or not tomorrow:
                continue
            for s in sorted({fam.extremes[(f, d + 1)][0] for f, _ in tomorrow}):
                late = [c for f, c in today if fam.extremes[(f, d)][3] + rest > s]
                early = [c for f, c in tomorrow if fam.extremes[(f, d + 1)][0] <= s]
                if late and early:
                    model.add(sum(late) + sum(early) <= len(members))
    # ------------------------------------------------------------------ coverage by band
    wu, wo = p.weights.under_cover, p.weights.over_cover
    supply: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, band)
    duty: dict[tuple[str, int], list[Expr]] = defaultdict(list)  # (role, band)
    for g in range(len(inst.group_members)):
        k = inst.groups[g][0]
        skills = [inst.channel_index[c] for c in inst.classes[k][0]]
        roles = inst.classes[k][1]
        for d in range(p.days):
            for f, c_var in group_day(g, d):
                prof = fam.avail[(f, d)]
                on = fam.on[(f, d)]
                split = _split(model, c_var, skills, f"q[{g},{d},{f}]")
                band_avail: dict[int, float] = defaultdict(float)
                band_on: dict[int, float] = defaultdict(float)
                for t, val in prof.items():
                    if t < p.n_slots:
                        band_avail[t // per_band] += val
                for t, val in on.items():
                    if t < p.n_slots:
                        band_on[t // per_band] += val / per_band
                for b, val in band_avail.items():
                    for c, q in split:
                        supply[(c, b)].append(round(100 * val) * q)
                for b, val in band_on.items():
                    for r in roles:
                        duty[(r, b)].append(round(100 * val) * c_var)
    obj: list[Any] = []
    for c, ch in enumerate(p.channels):
        need = _need(inst, c)
        # a deferred shortfall leaves work waiting: price it as an hour of overdue work
        w_short = (
            wu
            if ch.kind is not ChannelKind.deferred
            else max(wu, p.weights.deferred_late * 60 / p.slot_minutes)
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
            obj.append((over, wo / 100))
            if ch.min_staff:
                floor = max(ch.min_staff[t] for t in slots)
                if floor > 0:
                    short = model.new_int_var(0, 100 * floor * per_band, f"ms[{c},{b}]")
                    model.add(have + short >= 100 * floor * len(slots))
                    obj.append((short, ELASTIC_WEIGHT / 100))
    has_breaks = any(t.breaks for t in p.shift_types)
    for req_role in p.roles:
        for b in range(n_bands):
            slots = range(b * per_band, min(p.n_slots, (b + 1) * per_band))
            if not any(req_role.slots[t] for t in slots):
                continue
            want = 100 * (req_role.count + (1 if has_breaks else 0))
            have = sum(duty.get((req_role.role, b), []))
            short = model.new_int_var(0, want, f"mr[{req_role.role},{b}]")
            model.add(have + short >= want)
            obj.append((short, ELASTIC_WEIGHT / 100))
    # ------------------------------------------------------------------ requests, fairness
    for li in inst.requests:
        lv = p.leave[li]
        if lv.status is not LeaveStatus.requested:
            continue
        days = max(1, len([d for d in lv.days() if 0 <= d < p.days])) if lv.whole_days else 1
        obj.append((1 - v.grant(li), p.weights.leave_request_denied * lv.weight * days))
    model.minimize(sum(round(100 * w) * var for var, w in obj))
    out = solve_cp(v, options, time_limit)
    if not out.has_solution:
        if out.status == cp_model.INFEASIBLE:
            return None
        raise MasterUnknown
    sol = out.solver
    plan = MasterPlan(objective=out.objective, bound=out.bound)
    for key, var in m.items():
        val = int(sol.value(var))
        if val:
            plan.counts[key] = val
    for (a, d, f), var in special.items():
        if sol.value(var):
            plan.special[(a, d)] = f
    plan.grants = {li: bool(sol.value(g)) for li, g in v.grant_.items()}
    return plan


def _split(
    model: cp_model.CpModel, count: Expr, channels: list[int], name: str
) -> list[tuple[int, Expr]]:
    """Shifts of a multi-skilled group split over its channels (one channel per shift here)."""
    if len(channels) == 1:
        return [(channels[0], count)]
    hi = 10_000
    parts = [model.new_int_var(0, hi, f"{name}[{c}]") for c in channels]
    model.add(sum(parts) == count)
    return list(zip(channels, parts, strict=True))


def _need(inst: Instance, c: int) -> list[float]:
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
