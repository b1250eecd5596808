"""Day models: start times, breaks, channels, floors and role cover, one day at a time.

A day model takes the master's family counts for one day as given and chooses which starts
they use, where breaks go and how multi-skilled agents split over channels, on the exact slot
grid. Its window runs from the day's midnight to the end of its latest shift; shifts of
neighbouring days that reach into the window enter as constants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from ortools.sat.python import cp_model

from solver.constraints import CORE
from solver.extract import int_value
from solver.master import Families, MasterPlan
from solver.model import set_objective, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.schema import DAY, ChannelKind
from solver.variables import FixedShift, Vars

__all__ = ["DayResult", "behind_plan", "day_window", "done_before", "slots_per_day", "solve_day"]


def slots_per_day(inst: Instance) -> int:
    return DAY // inst.problem.slot_minutes


def day_window(inst: Instance, d: int) -> tuple[int, int]:
    spd = slots_per_day(inst)
    ends = [o.first_slot + o.n_slots for o in inst.options if o.day == d]
    return d * spd, min(inst.problem.n_slots, max(ends, default=(d + 1) * spd))


@dataclass
class DayResult:
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    """(group, option) -> shifts."""
    special: dict[int, int] = field(default_factory=dict)
    """agent -> option, for special agent-days."""
    shifts: list[FixedShift] = field(default_factory=list)
    """Every shift of the day with its break starts (for the neighbours' windows)."""
    deferred: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    """(channel, work class) -> slot -> units done."""
    staffed: dict[int, dict[int, int]] = field(default_factory=dict)
    """Deferred channel -> slot of the day -> agents on it (staffed to a plan)."""
    objective: float | None = None
    short: list[str] = field(default_factory=list)
    """Hard rules the day's plan leaves short (floors, role cover, the break cap: elastic in
    the day model), as ``rule: subject``."""


def _group_options(inst: Instance, g: int, d: int) -> list[int]:
    opts: set[int] = set()
    for a in inst.group_members[g]:
        prep = inst.agents[a]
        if d not in prep.special_days:
            opts.update(prep.options_by_day.get(d, []))
    return sorted(opts)


def _spread_hint(
    v: Vars,
    family_counts: list[tuple[int, int, list[int]]],
    exact: dict[tuple[int, int], int] | None = None,
) -> dict[Any, int]:
    """A starting point: each (group, count, options) family count spread evenly over its
    starts (or as ``exact`` gives them), special agent-days on their first option, breaks
    spread evenly over their windows."""
    hint: dict[Any, int] = {var: 0 for var in v.y_.values()}
    n_hint: dict[tuple[int, int], int] = defaultdict(int)
    for g, count, opts in family_counts:
        if exact is not None:
            per = [(o, exact.get((g, o), 0)) for o in opts]
        else:
            per = [(opts[i * len(opts) // count], 1) for i in range(count)]
        for o, n in per:
            hint[v.y_[(g, o)]] += n
            n_hint[(v.inst.groups[g].class_index, o)] += n
    first_of: dict[int, int] = {}
    for (a, o), var in v.x_.items():
        if isinstance(var, int):
            continue
        first = a not in first_of
        hint[var] = int(first)
        if first:
            first_of[a] = o
            if v.inst.options[o].day not in v.inst.agents[a].on_shift_leave:
                n_hint[(v.inst.agents[a].class_index, o)] += 1
    for (k, o), n in v.n_.items():
        if isinstance(n, int):
            n_hint[(k, o)] = n
    for (k, o, _b), br in v.br_.items():
        slots = sorted(br)
        for t in slots:
            hint[br[t]] = 0
        count = n_hint.get((k, o), 0)
        for i in range(count):
            hint[br[slots[i * len(slots) // count]]] += 1
    for specials in v.special_.values():
        for sp in specials:
            on = sp.var if isinstance(sp.var, int) else hint.get(sp.var, 0)
            for starts in sp.breaks:
                for j, (_, var) in enumerate(sorted(starts.items())):
                    hint[var] = int(bool(on) and j == 0)
    return hint


def _held_hint(
    v: Vars,
    held: Mapping[int, int],
    held_breaks: Mapping[tuple[int, int], Sequence[int]],
    hint: dict[Any, int],
) -> None:
    """The decided shifts' breaks as their own model placed them, as the hint (it kept their
    role cover); their classes hold no one else, so the counts are theirs alone."""
    counts: dict[tuple[int, int, int, int], int] = defaultdict(int)
    for a, o in held.items():
        for b, t in enumerate(held_breaks.get((a, o), ())):
            counts[(v.inst.agents[a].class_index, o, b, t)] += 1
    keys = {(k, o) for k, o, _b, _t in counts}
    for (k, o, b), br in v.br_.items():
        if (k, o) in keys:
            for t, var in br.items():
                hint[var] = counts.get((k, o, b, t), 0)


def _complete_hint(v: Vars, hint: dict[Any, int], options: SolveOptions, time_limit: float) -> Any:
    """When the search found nothing in time: fix the decisions to the hint and let CP-SAT fill
    in the rest (channel split, coverage), which is immediate."""
    fixed = v.model.clone()
    for var, val in hint.items():
        fixed.add(fixed.get_int_var_from_proto_index(var.index) == val)
    out = solve_cp(SimpleNamespace(model=fixed), options, max(2.0, time_limit))  # type: ignore[arg-type]
    return out if out.has_solution else None


def _run_core(v: Vars) -> None:
    for rule in CORE:
        rule.add(v)
    set_objective(v)


def _shifts_of(v: Vars, solver: cp_model.CpSolver) -> list[FixedShift]:
    """Shifts of a solved window model with their break starts (counts become units)."""
    out: list[FixedShift] = []
    starts: dict[tuple[int, int], list[list[int]]] = {}
    for (k, o), n in v.n_.items():
        count = int_value(solver, n)
        if count:
            starts[(k, o)] = [[] for _ in v.inst.options[o].break_windows]
    for (k, o, b), br in v.br_.items():
        if (k, o) in starts:
            starts[(k, o)][b] = [
                t for t, var in sorted(br.items()) for _ in range(int_value(solver, var))
            ]
    for (k, o), per_break in starts.items():
        count = int_value(solver, v.n_[(k, o)])
        for i in range(count):
            out.append(FixedShift(klass=k, option=o, breaks=tuple(b[i] for b in per_break)))
    for k, specials in v.special_.items():
        for sp in specials:
            if int_value(solver, sp.var):
                brk = tuple(
                    next(t for t, var in s.items() if int_value(solver, var)) for s in sp.breaks
                )
                out.append(
                    FixedShift(
                        klass=k, option=sp.option, breaks=brk, unavailable=frozenset(sp.unavailable)
                    )
                )
    return out


def _deferred_done(v: Vars, solver: cp_model.CpSolver) -> dict[tuple[int, int], dict[int, int]]:
    out: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    for (c, k, t), u in v.deferred_u_.items():
        val = int_value(solver, u)
        if val:
            out[(c, k)][t] = val
    return dict(out)


def done_before(results: dict[int, Any], inst: Instance, lo: int) -> dict[tuple[int, int], int]:
    """Deferred units done in slots before ``lo`` (each slot counted once, by its own day)."""
    spd = slots_per_day(inst)
    out: dict[tuple[int, int], int] = defaultdict(int)
    for d, res in results.items():
        for key, per_slot in res.deferred.items():
            for t, units in per_slot.items():
                if t < lo and t // spd == d:
                    out[key] += units
    return dict(out)


def behind_plan(
    results: Mapping[int, DayResult], plan: Mapping[int, Sequence[int]], lo: int, spd: int
) -> dict[int, int]:
    """Agent-slots of each deferred channel's plan not worked before slot ``lo``: a queue that
    each slot's plan adds to and its staffing (by the day that slot belongs to) works off."""
    out: dict[int, int] = {}
    for c, wanted in plan.items():
        queue = 0
        for t in range(lo):
            res = results.get(t // spd)
            got = res.staffed.get(c, {}).get(t, 0) if res is not None else 0
            queue = max(0, queue + wanted[t] - got)
        out[c] = queue
    return out


def solve_day(
    inst: Instance,
    fam: Families,
    plan: MasterPlan,
    d: int,
    neighbours: list[FixedShift],
    deferred_done: dict[tuple[int, int], int],
    options: SolveOptions,
    time_limit: float,
    exact: dict[tuple[int, int], int] | None = None,
    deferred_plan: dict[int, list[int]] | None = None,
    held: Mapping[int, int] | None = None,
    held_breaks: Mapping[tuple[int, int], Sequence[int]] | None = None,
    behind: Mapping[int, int] | None = None,
) -> DayResult | None:
    """Choose starts, breaks and channels for day d with the master's family counts
    (``exact``: the starts too, per (group, option); ``deferred_plan``: agents per slot that
    deferred channels are staffed to, default their level-loaded requirement). ``held``:
    agent -> option worked on the day, decided (the role holders' weeks, left out of the
    plan's counts), their breaks placed here, from ``held_breaks`` as a start. ``behind``:
    agent-slots of each deferred plan not worked before the day (``behind_plan``)."""
    model = cp_model.CpModel()
    v = Vars(
        model=model,
        inst=inst,
        aggregate=True,
        window=day_window(inst, d),
        deferred_as_target=True,
        deferred_plan=deferred_plan or {},
        deferred_behind=dict(behind or {}),
    )
    family_counts: list[tuple[int, int, list[int]]] = []
    for (g, dd, f), count in plan.counts.items():
        if dd != d:
            continue
        allowed = set(_group_options(inst, g, d))
        opts = [o for o in fam.options.get((f, d), []) if o in allowed]
        for o in opts:
            v.y_[(g, o)] = model.new_int_var(0, count, f"y[{g},{o}]")
            if exact is not None:
                model.add(v.y_[(g, o)] == exact.get((g, o), 0))
        model.add(sum(v.y_[(g, o)] for o in opts) == count)
        family_counts.append((g, count, opts))
    for (a, dd), f in plan.special.items():
        if dd != d:
            continue
        opts = [o for o in inst.agents[a].options_by_day.get(d, []) if fam.of_option[o] == f]
        for o in opts:
            v.x_[(a, o)] = model.new_bool_var(f"x[{a},{o}]")
        model.add_exactly_one(v.x_[(a, o)] for o in opts)
    for a, o in (held or {}).items():
        v.x_[(a, o)] = 1
    v.fixed_shifts = neighbours
    v.deferred_done = deferred_done
    _run_core(v)
    hint = _spread_hint(v, family_counts, exact)
    if held and held_breaks:
        _held_hint(v, held, held_breaks, hint)
    out = solve_cp(v, options, time_limit, hint=hint)
    if not out.has_solution:
        out = _complete_hint(v, hint, options, time_limit)
        if out is None:
            return None
    res = DayResult(objective=out.objective)
    res.short = [
        f"{pen.rule_id.removeprefix('hard.')}: {pen.subject}"
        for pen in v.penalties
        if pen.rule_id.startswith("hard.") and int_value(out.solver, pen.var)
    ]
    for key, var in v.y_.items():
        val = int_value(out.solver, var)
        if val:
            res.counts[key] = val
    for (a, o), var in v.x_.items():
        if not isinstance(var, int) and int_value(out.solver, var):
            res.special[a] = o
    res.shifts = _shifts_of(v, out.solver)
    res.deferred = _deferred_done(v, out.solver)
    spd = slots_per_day(inst)
    for c, ch in enumerate(inst.problem.channels):
        if ch.kind is not ChannelKind.deferred or not any(v.required(c)):
            continue
        res.staffed[c] = {
            t: int_value(out.solver, v.coverage(c, t)) for t in v.slots() if t // spd == d
        }
    return res
