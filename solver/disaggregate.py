"""Turn the aggregate's group counts into named agents' weeks, one small model per group.

Each group model has the group's agents free on their ordinary days (special agent-days and
request decisions are given), every agent-layer rule of the exact model, and soft targets: the
count of agents working each option should equal the target count; a missing shift costs its
slots at the under-cover weight, an extra one at the over-cover weight.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from solver.constraints import AGENT
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


def _val(solver: cp_model.CpSolver, x: Any) -> int:
    return int(x) if isinstance(x, int) else int(solver.value(x))


def disaggregate(
    inst: Instance,
    target: dict[tuple[int, int], int],
    special: dict[int, list[int]],
    grants: dict[int, bool],
    options: SolveOptions,
    budget: float,
    skip: set[int] | None = None,
) -> dict[int, list[int]]:
    """Options worked per agent: each group's counts ``target[(group, option)]`` spread over its
    members (``special``: options already decided for special agent-days; ``grants``: request
    decisions; ``skip``: groups whose members are named already). Raises GroupInfeasibleError
    when a member's own rules cannot hold."""
    chosen: dict[int, list[int]] = {}
    skip = skip or set()
    total = max(1, sum(len(m) for g, m in enumerate(inst.group_members) if g not in skip))
    for g, members in enumerate(inst.group_members):
        if g in skip:
            continue
        share = max(0.5, budget * len(members) / total)
        chosen.update(_group(inst, g, members, target, grants, special, options, share))
    return chosen


def _critical(inst: Instance, g: int, o: int) -> bool:
    """Does a shift of this group and option count toward a role cover or a floor?"""
    k = inst.groups[g][0]
    skills, roles = inst.classes[k]
    p = inst.problem
    slots = [t for t in inst.options[o].slots if t < p.n_slots]
    if any(r.role in roles and any(r.slots[t] for t in slots) for r in p.roles):
        return True
    return any(
        ch.id in skills and ch.min_staff and any(ch.min_staff[t] for t in slots)
        for ch in p.channels
    )


def _one_by_one(
    inst: Instance,
    g: int,
    members: list[int],
    target: dict[tuple[int, int], int],
    grants: dict[int, bool],
    special: dict[int, list[int]],
    options: SolveOptions,
    time_limit: float,
) -> dict[int, list[int]]:
    """No group solution in time: give the members their weeks one at a time, each taking what
    it can of the counts still wanted (small models, always quick)."""
    left = {key: n for key, n in target.items() if key[0] == g}
    out: dict[int, list[int]] = {}
    per_agent = max(0.5, time_limit / len(members))
    for a in members:
        got = _group(inst, g, [a], left, grants, special, options, per_agent)
        out.update(got)
        for o in got.get(a, []):
            if left.get((g, o), 0) > 0:
                left[(g, o)] -= 1
    return out


def _group(
    inst: Instance,
    g: int,
    members: list[int],
    target: dict[tuple[int, int], int],
    grants: dict[int, bool],
    special: dict[int, list[int]],
    options: SolveOptions,
    time_limit: float,
    fix_special: bool = True,
) -> dict[int, list[int]]:
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
    for rule in AGENT:
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
        # a missing shift may leave a floor or a role uncovered: far worse than under-cover
        critical = _critical(inst, g, o)
        v.penalize(
            "disaggregate.short", str(o), short, w.under_cover * slots * (100 if critical else 1)
        )
        v.penalize("disaggregate.extra", str(o), extra, max(w.over_cover, 0.01) * slots)
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
                    fix_special=False,
                )
            raise GroupInfeasibleError(g)
        if len(members) > 1:
            return _one_by_one(inst, g, members, target, grants, special, options, time_limit)
        raise GroupInfeasibleError(g)
    result: dict[int, list[int]] = defaultdict(list)
    for (a, o), var in v.x_.items():
        if _val(out.solver, var):
            result[a].append(o)
    for a in members:
        result[a].sort(key=lambda o: inst.options[o].start)
    return dict(result)
