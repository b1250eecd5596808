"""The group master: how many shifts of each family each group works each day.

It holds every rule that spans days summed over a group (availability per day, days off and paid
hours per week, consecutive days, rest between days on each family's extreme times, requested
leave) and the band coverage of the weekly master. It is small (groups x days x families), so
CP-SAT solves it to a small gap quickly; the per-agent master then realises its counts as the
closest week that keeps every agent rule (a guide: per-agent search alone converges slowly).
Role cover of the groups it plans (all of them when the role holders' weeks were not planned per
agent) is elastic, with breaks spread and on the relaxation; floors are elastic, on the
families' reach and on their expected availability with breaks spread over their windows (so
there is staff to cover the breaks).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from solver.master import (
    Families,
    MasterPlan,
    MasterUnknown,
    add_band_cover,
    add_family_duty,
    add_family_supply,
    at_least,
    band_minutes,
)
from solver.model import solve_lp_guided
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import LeaveStatus
from solver.variables import ELASTIC_WEIGHT, Expr, Vars

__all__ = ["solve_group_master"]


def solve_group_master(
    inst: Instance,
    fam: Families,
    options: SolveOptions,
    time_limit: float,
    fixed: MasterPlan | None = None,
    strict_floors: bool = False,
) -> MasterPlan | None:
    """Family counts per group and day (see the module docstring); ``fixed``: a plan of some
    agents' weeks (``assign`` and ``special``) that their groups keep; ``strict_floors``: the
    floors (on the families' reach and on expected availability) hard instead of elastic.
    None when the group rules (and strict floors) cannot hold, MasterUnknown when no plan was
    found in time."""
    p = inst.problem
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst)
    per_band = band_minutes(p.slot_minutes) // p.slot_minutes
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

    fixed_groups: set[int] = set()
    if fixed is not None:
        named = {a for a, _ in fixed.assign} | {a for a, _ in fixed.special}
        fixed_groups = {inst.agents[a].group_index for a in named}
        for (g, d, f), var in m.items():
            if g in fixed_groups:
                model.add(var == fixed.counts.get((g, d, f), 0))
        for (a, d, f), var in special.items():
            if inst.agents[a].group_index in fixed_groups:
                model.add(var == int(fixed.special.get((a, d)) == f))
        for li, granted in fixed.grants.items():
            # their requests as their weeks decided them (a week that took the leave works
            # a shift less, which the group's hours allow only with the leave's credit)
            if li in v.grant_ and inst.agent(p.leave[li].agent_id).group_index in fixed_groups:
                model.add(v.grant_[li] == int(granted))

    def group_day(g: int, d: int) -> list[tuple[int, Expr]]:
        """(family, count) terms of group g on day d, special agent-days included."""
        out = [(f, m[(g, d, f)]) for f in group_day_fams.get((g, d), [])]
        for a in inst.group_members[g]:
            if d in inst.agents[a].special_days:
                out += [(f, var) for (aa, dd, f), var in special.items() if aa == a and dd == d]
        return out

    # ------------------------------------------------------------------ weekly group rules
    for g, members in enumerate(inst.group_members):
        if g in fixed_groups:
            # weeks planned per agent keep every rule already; summed here on the families'
            # extremes they may not (the holders' exact weeks turn from a late shift to an
            # early one that the families' latest end and earliest start forbid)
            continue
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
            for s in sorted({fam.extremes[(f, d + 1)].first_start for f, _ in tomorrow}):
                late = [c for f, c in today if fam.extremes[(f, d)].last_end + rest > s]
                early = [c for f, c in tomorrow if fam.extremes[(f, d + 1)].first_start <= s]
                if late and early:
                    model.add(sum(late) + sum(early) <= len(members))
    # ------------------------------------------------------------------ coverage by band
    supply: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, band)
    ready: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, slot)
    expect: dict[tuple[int, int], list[Expr]] = defaultdict(list)  # (channel, slot), x 100
    floored = {c for c, ch in enumerate(p.channels) if any(ch.min_staff or ())}
    # staff on shift and on break per primary channel and slot, x 100 (the break-share cap)
    capped = p.rules.max_on_break_share < 1
    on_shift: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    on_break: dict[tuple[int, int], list[Expr]] = defaultdict(list)
    # role cover of the groups planned here (holders' groups are fixed when their weeks were
    # planned per agent): x 100 with breaks spread (a second holder where a break may fall),
    # and on the relaxation (one holder who may be on duty)
    duty: dict[tuple[str, int], list[Expr]] = defaultdict(list)
    duty_any: dict[tuple[str, int], list[Expr]] = defaultdict(list)
    for g in range(len(inst.group_members)):
        k = inst.groups[g].class_index
        skills = [inst.channel_index[c] for c in inst.classes[k].skills]
        roles = inst.classes[k].roles
        for d in range(p.days):
            for f, c_var in group_day(g, d):
                if g not in fixed_groups:
                    add_family_duty(inst, fam, (f, d), c_var, roles, duty, duty_any)
                if capped and skills:
                    for t, val in fam.on[(f, d)].items():
                        tt = p.slot_index(t)
                        if tt is not None:
                            on_shift[(skills[0], tt)].append(round(100 * val) * c_var)
                    for t, val in fam.resting[(f, d)].items():
                        tt = p.slot_index(t)
                        if tt is not None:
                            on_break[(skills[0], tt)].append(round(100 * val) * c_var)
                split = add_family_supply(
                    model, inst, fam, (g, d, f), c_var, skills, per_band, supply, ready
                )
                for t, val in fam.avail[(f, d)].items():
                    tt = p.slot_index(t)
                    if tt is not None:
                        for c, q in split:
                            if c in floored:
                                expect[(c, tt)].append(round(100 * val) * q)
    obj: list[Any] = []
    add_band_cover(model, inst, supply, per_band, obj)
    for c, ch in enumerate(p.channels):
        for t, floor in enumerate(ch.min_staff or ()):
            if floor > 0:
                have = sum(ready.get((c, t), []))
                at_least(model, obj, have, floor, strict_floors, f"ms[{c},{t}]")
                # and with breaks spread over their windows: an agent more wherever breaks
                # may fall, so the day models can place every break and keep the floor
                name = f"mb[{c},{t}]"
                have = sum(expect.get((c, t), []))
                at_least(model, obj, have, 100 * floor, strict_floors, name, 0.01)
    for req_role in p.roles:
        for t, wanted in enumerate(req_role.slots):
            if wanted and duty_any.get((req_role.role, t)):
                name = f"mr[{req_role.role},{t}]"
                have = sum(duty[(req_role.role, t)])
                at_least(model, obj, have, 100 * req_role.count, False, name, 0.01)
                have = sum(duty_any[(req_role.role, t)])
                at_least(model, obj, have, req_role.count, False, name + "'")
    # breaks spread over their windows within share x on shift (the cap, ceil(share x on
    # shift), less its rounding: placed breaks peak above their average), elastic: so the day
    # models can place them, e.g. enough staff on shift around a long lunch window
    num = round(100 * p.rules.max_on_break_share)
    for (c, t), breaks in on_break.items():
        room = num * sum(on_shift.get((c, t), [])) - 100 * sum(breaks)
        short = model.new_int_var(0, 10_000 * len(inst.agents), f"bs[{c},{t}]")
        model.add(room + short >= 0)
        obj.append((short, ELASTIC_WEIGHT / 10_000))
    # ------------------------------------------------------------------ requests, fairness
    for li in inst.requests:
        lv = p.leave[li]
        if lv.status is not LeaveStatus.requested:
            continue
        days = max(1, len([d for d in lv.days() if 0 <= d < p.days])) if lv.whole_days else 1
        obj.append((1 - v.grant(li), p.weights.leave_request_denied * lv.weight * days))
    model.minimize(sum(round(100 * w) * var for var, w in obj))
    # from the LP's counts: CP-SAT's own search found the example week's first plan at 21 s
    decisions = [*m.values(), *special.values(), *v.grant_.values()]
    # (floors hard: an infeasible LP is proof enough, the elastic attempt follows)
    out = solve_lp_guided(v, options, time_limit, decisions, lp_proof=strict_floors)
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
