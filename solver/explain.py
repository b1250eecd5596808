"""Explain infeasibility in plain words: small sets of conflicting hard rules, and a relaxation.

1. Each agent alone: the agent-layer rules of one agent (pinned shifts, training days, leave,
   rest, days off, paid hours) with one assumption literal per rule instance; a conflict is a
   minimal subset of literals that cannot hold together (CP-SAT's sufficient assumptions,
   shrunk by deletion).
2. Each role alone: its holders with their own rules, and the role's count on shift in every
   slot it is needed (breaks left out, so a shortfall is a proof); the fewest slots that must
   stay short are named.
3. Together: the exact model (small problems) or the aggregate model (large ones) with literals
   on staffing floors, role cover and the break cap. For floors and role cover, the relaxation
   is found by a model that lets those requirements fall short at least cost.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ortools.sat.python import cp_model

from solver.model import build_aggregate, build_exact, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import Conflict
from solver.shifts import clock, slot_range_name, slot_runs
from solver.variables import Vars

__all__ = ["explain"]

_PER_CALL = 5.0


def _infeasible_with(
    v: Vars, lits: Sequence[Any], options: SolveOptions, limit: float
) -> bool | None:
    out = solve_cp(v, options, limit, assumptions=lits)
    if out.status == cp_model.INFEASIBLE:
        return True
    if out.has_solution:
        return False
    return None  # unknown in time


def _core(v: Vars, options: SolveOptions, deadline: float, shrink: bool = True) -> list[int] | None:
    """Indices into v.assumptions of a small conflicting set, or None when none is found
    (feasible, or unknown in time)."""
    lits = [lit for lit, _, _ in v.assumptions]
    out = solve_cp(
        v, options, max(0.5, min(_PER_CALL * 4, deadline - time.perf_counter())), assumptions=lits
    )
    if out.status != cp_model.INFEASIBLE:
        return None
    index = {lit.index: i for i, (lit, _, _) in enumerate(v.assumptions)}
    core = [index[i] for i in out.solver.sufficient_assumptions_for_infeasibility() if i in index]
    if not core or not shrink:
        return core
    # deletion: drop each literal in turn; keep the drop when the rest stay infeasible
    i = 0
    while i < len(core) and time.perf_counter() < deadline and len(core) > 1:
        trial = core[:i] + core[i + 1 :]
        res = _infeasible_with(
            v,
            [v.assumptions[j][0] for j in trial],
            options,
            max(0.2, min(_PER_CALL, deadline - time.perf_counter())),
        )
        if res:
            core = trial
        else:
            i += 1
    return core


def _agent_conflicts(inst: Instance, options: SolveOptions, deadline: float) -> list[Conflict]:
    # one model with every agent's own rules: when it is feasible no agent conflicts alone
    everyone = build_exact(inst, core=False)
    out = solve_cp(everyone, options, max(0.5, min(_PER_CALL * 2, deadline - time.perf_counter())))
    if out.has_solution:
        return []
    conflicts = []
    for prep in inst.agents:
        if time.perf_counter() > deadline:
            break
        v = build_exact(inst, free={prep.index}, fixed={}, track=True, core=False)
        if not v.assumptions:
            continue
        core = _core(v, options, deadline)
        if core is None:
            continue
        if not core:
            conflicts.append(
                Conflict(
                    message=f"{prep.id} has no shift option that fits their contract, leave and "
                    "availability on a day they must work",
                    rules=("must_work",),
                    relaxation="check the pinned shift or training time against the shift types",
                )
            )
            continue
        words = [v.assumptions[i][2] for i in core]
        rules = tuple(sorted({v.assumptions[i][1] for i in core}))
        conflicts.append(
            Conflict(
                message=f"{prep.id}: " + "; ".join(words) + " - these cannot all hold",
                rules=rules,
                relaxation=_agent_relaxation(inst, prep.index, v, core, options),
            )
        )
    return conflicts


def _agent_relaxation(
    inst: Instance, a: int, v: Vars, core: list[int], options: SolveOptions
) -> str:
    """For a paid-hours minimum in the conflict: the most hours reachable without it."""
    for i in core:
        _, rule, _ = v.assumptions[i]
        if rule != "hours_min":
            continue
        block = int(v.assumptions[i][2].rsplit("week ", 1)[1]) - 1
        others = [x for j, (x, _, _) in enumerate(v.assumptions) if j != i]
        days = inst.agents[a].blocks[block].days
        paid = sum(
            v.option(o).paid_minutes * v.x(a, o) for d in days for o in v.agent_options(a, d)
        )
        v.model.maximize(paid)
        out = solve_cp(v, options, _PER_CALL, assumptions=others)
        if out.has_solution:
            best = out.solver.value(paid) / 60.0
            return (
                f"lower {inst.agents[a].id}'s minimum paid hours in week {block + 1} to "
                f"{best:g} h (the most their leave, rest and days off allow)"
            )
    names = ", ".join(sorted({v.assumptions[i][1] for i in core}))
    return f"relax one of: {names}"


def _supply(inst: Instance, channel: str | None, role: str | None, t: int) -> int:
    """How many agents could be at work in slot t: on shift, past the briefing (for a channel)."""
    n = 0
    for prep in inst.agents:
        if channel is not None and channel not in prep.agent.skills:
            continue
        if role is not None and role not in prep.agent.roles:
            continue
        for opts in prep.options_by_day.values():
            if any(
                t in inst.options[o].slots
                and (
                    role is not None
                    or t - inst.options[o].first_slot >= inst.options[o].briefing_slots
                )
                for o in opts
            ):
                n += 1
                break
    return n


def _tightest(
    inst: Instance, channel: str | None, role: str | None, first: int, need: list[int]
) -> tuple[int, int]:
    """The slot of a run where the fewest agents could be at work, and that number."""
    best = (first, 10**9)
    for i, want in enumerate(need):
        if want <= 0:
            continue
        n = _supply(inst, channel, role, first + i)
        if n - want < best[1] - (need[best[0] - first] if best[1] < 10**9 else 0):
            best = (first + i, n)
    return best


def _global_conflicts(inst: Instance, options: SolveOptions, deadline: float) -> list[Conflict]:
    small = len(inst.agents) <= options.exact_max_agents
    v = build_exact(inst, track=True) if small else build_aggregate(inst, track=True)
    core = _core(v, options, deadline, shrink=len(inst.agents) <= 200)
    if core is None:
        return []
    p = inst.problem
    out = []
    words = []
    for i in core:
        _, rule, text = v.assumptions[i]
        subject = v.assumptions[i][0].name
        detail = text
        if rule in ("min_staff", "role_coverage"):
            first = int(subject.rsplit(":", 1)[1].rstrip("]"))
            name = subject.split("[", 1)[1].split(":")[1]
            per_day = 1440 // p.slot_minutes
            last = min(p.n_slots - 1, (first // per_day + 1) * per_day - 1)
            if rule == "min_staff":
                ch = p.channels[inst.channel_index[name]]
                need = list(ch.min_staff[first : last + 1])
                t, n = _tightest(inst, name, None, first, need)
                detail = (
                    f"{text}, but at {clock(t * p.slot_minutes)} only {n} agents skilled "
                    f"for {name} can be at work (on shift and past their briefing)"
                )
            else:
                req = next(r for r in p.roles if r.role == name)
                need = [req.count if f else 0 for f in req.slots[first : last + 1]]
                t, n = _tightest(inst, None, name, first, need)
                detail = (
                    f"{text}, but at {clock(t * p.slot_minutes)} only {n} agents with "
                    f"role {name} can be on shift"
                )
        words.append(detail)
    rules = tuple(sorted({v.assumptions[i][1] for i in core}))
    relax = _relax_counts(inst, v, core, options, deadline)
    out.append(
        Conflict(
            message="; ".join(words) if words else "the hard rules cannot all hold together",
            rules=rules,
            relaxation=relax,
        )
    )
    return out


def _relax_counts(
    inst: Instance, v: Vars, core: list[int], options: SolveOptions, deadline: float
) -> str:
    """Drop the conflicting literals and say which rule to relax (the smallest change found)."""
    keep = [lit for j, (lit, _, _) in enumerate(v.assumptions) if j not in set(core)]
    for i in core:
        _, _, text = v.assumptions[i]
        trial = keep + [v.assumptions[j][0] for j in core if j != i]
        res = _infeasible_with(
            v, trial, options, max(0.2, min(_PER_CALL, deadline - time.perf_counter()))
        )
        if res is False:
            return f"dropping this rule makes the roster feasible: {text}"
    return "relax the rules listed together"


def _role_conflicts(inst: Instance, options: SolveOptions, deadline: float) -> list[Conflict]:
    """Each role on its own: can its holders, each with their own rules (contract, leave, days
    off, rest), be on shift ``count`` at a time wherever the role is needed? Breaks are left
    out, so a shortfall found here holds for every roster. The fewest slots short are named."""
    p = inst.problem
    conflicts = []
    for req in p.roles:
        wanted = [t for t, on in enumerate(req.slots) if on]
        holders = {prep.index for prep in inst.agents if req.role in prep.agent.roles}
        left = deadline - time.perf_counter()
        if not wanted or left <= 0.5:
            continue
        others: dict[int, list[int]] = {
            prep.index: [] for prep in inst.agents if prep.index not in holders
        }
        v = build_exact(inst, free=holders, fixed=others, core=False)
        covering: dict[int, list[Any]] = defaultdict(list)
        for (a, o), var in v.x_.items():
            if a in holders and not isinstance(var, int):
                for t in inst.options[o].slots:
                    tt = p.slot_index(t)
                    if tt is not None:
                        covering[tt].append(var)
        short = {}
        for t in wanted:
            gap = v.model.new_int_var(0, req.count, f"short[{req.role},{t}]")
            v.model.add(sum(covering.get(t, [])) + gap >= req.count)
            short[t] = gap
        v.model.minimize(sum(short.values()))
        out = solve_cp(v, options, max(0.5, min(_PER_CALL * 2, left)))
        if not out.has_solution or not out.bound or out.bound <= 0:
            continue  # coverable (or not proven short in time): nothing to say
        missing = [t for t, gap in short.items() if out.solver.value(gap) > 0]
        runs = slot_runs(sorted(missing))
        names = [slot_range_name(p.horizon_start, a, b, p.slot_minutes) for a, b in runs[:4]]
        more = f" and {len(runs) - 4} more" if len(runs) > 4 else ""
        where = f" ({req.label})" if req.label else ""
        if out.optimal:
            count = f"at best {len(missing)} slots stay short"
        else:
            least = math.ceil(out.solver.best_objective_bound - 1e-6)
            count = f"at least {least} slots stay short (the best found leaves {len(missing)})"
        conflicts.append(
            Conflict(
                message=(
                    f"role_coverage {req.role}{where}: {req.count} on duty is needed, but the "
                    f"{len(holders)} agents with role {req.role} cannot be on shift then on "
                    f"{', '.join(names)}{more} (their contracts, leave, days off and rest "
                    "allow no more)"
                ),
                rules=("role_coverage", "contract", "leave", "rest"),
                relaxation=(
                    f"give role {req.role} to more agents who may work those hours, or lower "
                    f"its count there: {count} with the current holders"
                ),
            )
        )
    return conflicts


def explain(inst: Instance, options: SolveOptions, time_limit_s: float) -> list[Conflict]:
    """Conflicting hard rules in plain words (empty when none is found in time)."""
    deadline = time.perf_counter() + time_limit_s
    conflicts = _agent_conflicts(inst, options, deadline)
    if conflicts:
        return conflicts
    conflicts = _role_conflicts(inst, options, deadline)
    if conflicts:
        return conflicts
    return _global_conflicts(inst, options, deadline)
