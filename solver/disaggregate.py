"""Turn the aggregate's group counts into named agents' weeks, one small model per group.

Each group model has the group's agents free on their ordinary days (special agent-days and
request decisions are given), every agent-layer rule of the exact model, and soft targets: the
count of agents working each option should equal the target count; a missing shift costs its
slots at the under-cover weight, an extra one at the over-cover weight.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from solver.budget import now as clock_now
from solver.constraints import AGENT
from solver.extract import int_value
from solver.model import set_objective, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.variables import Vars

__all__ = ["GroupInfeasibleError", "disaggregate"]


class GroupInfeasibleError(Exception):
    """Some member of the group cannot satisfy its own rules (the problem is infeasible)."""

    def __init__(self, group: int) -> None:
        super().__init__(f"group {group} cannot be rostered")
        self.group = group


def disaggregate(
    inst: Instance,
    target: dict[tuple[int, int], int],
    special: dict[int, list[int]],
    grants: dict[int, bool],
    options: SolveOptions,
    budget: float,
    skip: set[int] | None = None,
    named: dict[int, list[int]] | None = None,
) -> dict[int, list[int]]:
    """Options worked per agent: each group's counts ``target[(group, option)]`` spread over its
    members (``special``: options already decided for special agent-days; ``grants``: request
    decisions; ``skip``: groups whose members are named already, ``named`` their options).
    Raises GroupInfeasibleError when a member's own rules cannot hold."""
    chosen: dict[int, list[int]] = {}
    skip = skip or set()
    planned, own = _planned(inst, target, special, named or {})
    needs = {
        g: _floor_needs(inst, g, planned, own.get(g, {}))
        for g in range(len(inst.group_members))
        if g not in skip
    }
    # groups that a floor depends on first and with five times the time per member: short of
    # time a group misses targets, and there a missing shift leaves the floor short
    weight = {g: len(inst.group_members[g]) * (5 if needs[g] else 1) for g in needs}
    left = max(1, sum(weight.values()))
    end = clock_now() + budget
    for g in sorted(weight, key=lambda g: (-weight[g] // len(inst.group_members[g]), g)):
        members = inst.group_members[g]
        # a share of the time still left: a group solved early leaves its time to the others
        share = max(0.5, (end - clock_now()) * weight[g] / left)
        left -= weight[g]
        chosen.update(
            _in_parts(inst, g, members, target, grants, special, options, share, needs[g], PART)
        )
    return chosen


PART = 12
"""Members per group model: a larger group is given its counts a part at a time. The
independent week 7503's groups of 27 and 53 agents had 12 s: 42 of 934 shifts went unassigned
(about 13,000 of under-cover), all but 5 assigned in 43 s; models of a dozen agents solve in a
second or two."""


def _role_keys(inst: Instance) -> dict[str, int]:
    """Roles share the (channel, slot) keys of floors: role i is channel -1 - i."""
    return {role: -1 - i for i, role in enumerate(sorted({r.role for r in inst.problem.roles}))}


Counts = dict[tuple[int, int], int]


def _planned(
    inst: Instance,
    target: dict[tuple[int, int], int],
    special: dict[int, list[int]],
    named: dict[int, list[int]],
) -> tuple[Counts, dict[int, Counts]]:
    """Planned shifts on shift per (floored channel or role, slot), every shift of a skilled
    agent or role holder counted (breaks aside): in all, and per group (the named agents'
    count in all only)."""
    p = inst.problem
    floored = {c for c, ch in enumerate(p.channels) if any(ch.min_staff or ())}
    role_keys = _role_keys(inst)
    total: Counts = defaultdict(int)
    by_group: dict[int, Counts] = defaultdict(lambda: defaultdict(int))

    def add(k: int, o: int, n: int, group: int | None) -> None:
        skills, held = inst.classes[k]
        keys = [inst.channel_index[c] for c in skills if inst.channel_index[c] in floored]
        keys += [role_keys[r] for r in held if r in role_keys]
        for key in keys:
            for t in inst.options[o].slots:
                if t < p.n_slots:
                    total[(key, t)] += n
                    if group is not None:
                        by_group[group][(key, t)] += n

    for (g, o), n in target.items():
        add(inst.groups[g].class_index, o, n, g)
    for a, opts in special.items():
        for o in opts:
            add(inst.agents[a].class_index, o, 1, inst.agents[a].group_index)
    for a, opts in named.items():
        for o in opts:
            add(inst.agents[a].class_index, o, 1, None)
    return total, by_group


def _floor_needs(inst: Instance, g: int, planned: Counts, own: Counts) -> Counts:
    """(channel or role, slot) -> agents group g must have on shift there: the floor or role
    count plus one (to cover a break) less what the other groups' planned shifts bring; only
    where that is above 0."""
    p = inst.problem
    skills, held = inst.classes[inst.groups[g].class_index]
    wanted: dict[tuple[int, int], int] = {}
    for c in skills:
        ci = inst.channel_index[c]
        for t, floor in enumerate(p.channels[ci].min_staff or ()):
            if floor > 0:
                wanted[(ci, t)] = floor
    role_keys = _role_keys(inst)
    for r in p.roles:
        if r.role in held:
            rk = role_keys[r.role]
            for t, on in enumerate(r.slots):
                if on:
                    wanted[(rk, t)] = max(wanted.get((rk, t), 0), r.count)
    out: dict[tuple[int, int], int] = {}
    for key, count in wanted.items():
        need = count + 1 - (planned.get(key, 0) - own.get(key, 0))
        if need > 0:
            out[key] = need
    return out


def _in_parts(
    inst: Instance,
    g: int,
    members: list[int],
    target: dict[tuple[int, int], int],
    grants: dict[int, bool],
    special: dict[int, list[int]],
    options: SolveOptions,
    time_limit: float,
    needs: dict[tuple[int, int], int],
    size: int,
) -> dict[int, list[int]]:
    """The group's members in parts of ``size`` to ``2 x size - 1``, each taking its share of
    the counts still wanted and of the time still left; a part whose model finds nothing in
    time goes one member at a time (small models, always quick).

    The counts are dealt out to the parts up front in proportion to their sizes (``_deal``),
    so each part's members get about the group's shifts per member: rounding each part's share
    up instead gave the first parts of the 200-agent robustness week 0 five shifts each where
    the plan gave four (min hours 4 x 480), and the last parts too few, which they made up with
    shifts the plan did not have (762 planned, 832 given, 1,100 of over-cover). A part's share
    is what is still wanted less what the later parts are dealt, so what a part leaves goes
    on to the next and what it takes beyond its share comes off the next."""
    n_parts = len(members) // size
    if n_parts <= 1:
        out = _group(inst, g, members, target, grants, special, options, time_limit, needs)
        if out is not None:
            return out
        if len(members) == 1:
            raise GroupInfeasibleError(g)
        size, n_parts = 1, len(members)
    left = {key: n for key, n in target.items() if key[0] == g}
    needs = dict(needs)
    result: dict[int, list[int]] = {}
    end = clock_now() + time_limit
    cuts = [len(members) * i // n_parts for i in range(n_parts + 1)]
    dealt = _deal(inst, left, [j - i for i, j in itertools.pairwise(cuts)])
    later = dict(left)  # what the parts after this one are dealt
    for k, (i, j) in enumerate(itertools.pairwise(cuts)):
        part = members[i:j]
        rest = len(members) - i
        for key, n in dealt[k].items():
            later[key] -= n
        share = {key: max(0, n - later[key]) for key, n in left.items()}
        limit = max(0.5, (end - clock_now()) * len(part) / rest)
        got = _in_parts(inst, g, part, share, grants, special, options, limit, needs, size)
        result.update(got)
        for opts in got.values():
            for o in opts:
                if left.get((g, o), 0) > 0:
                    left[(g, o)] -= 1
                covered = inst.options[o].slots  # what this part covers, the next need not
                for key in needs:
                    if key[1] in covered:
                        needs[key] -= 1
        needs = {key: n for key, n in needs.items() if n > 0}
    return result


def _deal(
    inst: Instance, counts: dict[tuple[int, int], int], sizes: list[int]
) -> list[dict[tuple[int, int], int]]:
    """``counts`` dealt out to parts of the given sizes: shift by shift in the order of their
    starts, each to the part with the fewest dealt per member so far (the lowest index on a
    tie), so every part's total and every day's shifts stay within one of its share."""
    out: list[dict[tuple[int, int], int]] = [defaultdict(int) for _ in sizes]
    total = [0] * len(sizes)
    for key in sorted(counts, key=lambda k: (inst.options[k[1]].start, k[1])):
        for _ in range(counts[key]):
            k = min(range(len(sizes)), key=lambda i: ((total[i] + 1) / sizes[i], i))
            out[k][key] += 1
            total[k] += 1
    return [dict(d) for d in out]


def _group(
    inst: Instance,
    g: int,
    members: list[int],
    target: dict[tuple[int, int], int],
    grants: dict[int, bool],
    special: dict[int, list[int]],
    options: SolveOptions,
    time_limit: float,
    needs: dict[tuple[int, int], int],
    fix_special: bool = True,
) -> dict[int, list[int]] | None:
    """The members' weeks nearest the counts wanted (None: no solution in time)."""
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst)
    v.free_agents = set(members)
    for a in members:
        prep = inst.agents[a]
        for d, opts in prep.options_by_day.items():
            if d in prep.special_days and fix_special:
                for o in special.get(a, []):
                    if inst.options[o].day == d:
                        v.x_[(a, o)] = 1
                continue
            for o in opts:
                v.x_[(a, o)] = model.new_bool_var(f"x[{a},{o}]")
        for li in prep.requests:
            v.grant_[li] = int(grants.get(li, False))
    whole = len(members) == len(inst.group_members[g])
    for rule in AGENT:
        # fairness is a spread over every agent of a contract: over a part of a group it is
        # not the roster's, and it bought shifts the plan did not have (a part's second agent
        # on a weekend, 5 less spread, for 9 slots of over-cover), while the parts' dealt
        # shares already spread the weekends, nights and lates over the group
        if whole or rule.id != "fairness":
            rule.add(v)
    w = inst.problem.weights
    by_option: dict[int, list[Any]] = defaultdict(list)
    for (_a, o), var in v.x_.items():
        if not isinstance(var, int):
            by_option[o].append(var)
    keys = set(by_option) | {o for (gg, o) in target if gg == g}
    for o in sorted(keys):
        want = target.get((g, o), 0)
        have = sum(by_option.get(o, []))
        if isinstance(have, int):
            continue
        slots = inst.options[o].n_slots
        short = v.int_var(0, max(want, 0), f"short[{o}]")
        extra = v.int_var(0, len(members), f"extra[{o}]")
        model.add(have + short - extra == want)
        v.penalize("disaggregate.short", str(o), short, w.under_cover * slots)
        v.penalize("disaggregate.extra", str(o), extra, max(w.over_cover, 0.01) * slots)
    # the floors and role cover the other groups' plans leave to this one (with an agent for
    # the breaks): a shift missing there is far worse than one missing where others are on
    covering: dict[int, list[Any]] = defaultdict(list)
    for (_a, o), var in v.x_.items():
        for t in inst.options[o].slots:
            covering[t].append(var)
    for (c, t), need in sorted(needs.items()):
        have = sum(covering.get(t, []))
        lack = v.int_var(0, need, f"lack[{c},{t}]")
        model.add(have + lack >= need)
        v.penalize("disaggregate.floor", f"{c}:{t}", lack, w.under_cover * 100)
    set_objective(v)
    out = solve_cp(v, options, time_limit)
    if not out.has_solution:
        if out.status == cp_model.INFEASIBLE:
            if fix_special and any(inst.agents[a].special_days for a in members):
                # the aggregate's choice on a special day may clash with a member's other rules
                return _group(
                    inst,
                    g,
                    members,
                    target,
                    grants,
                    special,
                    options,
                    time_limit,
                    needs,
                    fix_special=False,
                )
            raise GroupInfeasibleError(g)
        return None
    result: dict[int, list[int]] = defaultdict(list)
    for (a, o), var in v.x_.items():
        if int_value(out.solver, var):
            result[a].append(o)
    for a in members:
        result[a].sort(key=lambda o: inst.options[o].start)
    return dict(result)
