"""Building the CP-SAT models (exact per-agent, aggregate) and solving one of them.

* ``build_exact``: per-agent shift variables for the free agents (all of them for the exact
  model; a neighbourhood during refinement, the others fixed as constants) plus the coverage core.
* ``build_aggregate``: group counts (agents of one group are interchangeable) with the valid
  inequalities of ``constraints.aggregate`` plus the same coverage core: a relaxation whose
  bound is a bound for the whole problem.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from ortools.sat.python import cp_model

from solver import budget
from solver.constraints import AGENT, AGGREGATE, CORE, Rule
from solver.lp import lp_bound
from solver.options import SolveOptions, apply_options
from solver.prep import Instance
from solver.units import OBJECTIVE_SCALE, scaled_weight
from solver.variables import Vars

__all__ = ["CpOutcome", "build_aggregate", "build_exact", "solve_cp", "solve_lp_guided"]


def _run(v: Vars, rules: Iterable[Rule]) -> None:
    for rule in rules:
        rule.add(v)


def build_exact(
    inst: Instance,
    free: Iterable[int] | None = None,
    fixed: Mapping[int, Iterable[int]] | None = None,
    fixed_grants: Mapping[int, bool] | None = None,
    track: bool = False,
    core: bool = True,
) -> Vars:
    """Per-agent model. ``free`` agents get variables (default: all); every other agent must be
    in ``fixed`` (agent -> options it works) and counts as constants, as do its requests in
    ``fixed_grants``."""
    model = cp_model.CpModel()
    v = Vars(model=model, inst=inst, track_assumptions=track)
    free_set = set(range(len(inst.agents))) if free is None else set(free)
    v.free_agents = free_set
    fixed = fixed or {}
    fixed_grants = fixed_grants or {}
    for prep in inst.agents:
        a = prep.index
        if a in free_set:
            for opts in prep.options_by_day.values():
                for o in opts:
                    v.x_[(a, o)] = model.new_bool_var(f"x[{a},{o}]")
            for li in prep.requests:
                v.grant_[li] = model.new_bool_var(f"grant[{li}]")
        else:
            for o in fixed.get(a, ()):
                v.x_[(a, o)] = 1
            for li in prep.requests:
                v.grant_[li] = int(bool(fixed_grants.get(li, False)))
    _run(v, AGENT)
    if core:
        _run(v, CORE)
    set_objective(v)
    return v


def build_aggregate(
    inst: Instance,
    track: bool = False,
    elastic: bool = True,
    chain: bool = False,
    core: bool = True,
) -> Vars:
    """Group-count model (a relaxation): special agent-days individually, the rest as counts
    (``chain``: agents on shift counted from the slot before, see ``Vars.chain_pools``;
    ``core``: with the coverage core, else the group rules only)."""
    model = cp_model.CpModel()
    v = Vars(
        model=model,
        inst=inst,
        aggregate=True,
        track_assumptions=track,
        elastic=elastic,
        chain_pools=chain,
    )
    for prep in inst.agents:
        for d in prep.special_days:
            for o in prep.options_by_day.get(d, []):
                v.x_[(prep.index, o)] = model.new_bool_var(f"x[{prep.index},{o}]")
    for li in inst.requests:
        v.grant_[li] = model.new_bool_var(f"grant[{li}]")
    _run(v, AGGREGATE)
    if core:
        _run(v, CORE)
    set_objective(v)
    return v


def set_objective(v: Vars) -> None:
    terms = []
    for pen in v.penalties:
        coef = scaled_weight(pen.weight)
        if coef:
            terms.append(coef * pen.var)
    v.model.minimize(sum(terms))


@dataclass
class CpOutcome:
    status: Any
    solver: cp_model.CpSolver
    objective: float | None
    bound: float | None
    wall_s: float

    @property
    def has_solution(self) -> bool:
        return bool(self.status in (cp_model.OPTIMAL, cp_model.FEASIBLE))

    @property
    def optimal(self) -> bool:
        return bool(self.status == cp_model.OPTIMAL)


class _Improvements(cp_model.CpSolverSolutionCallback):
    """Calls ``report(objective, bound)`` at every improving solution."""

    def __init__(self, report: Callable[[float, float], None]) -> None:
        super().__init__()
        self.report = report

    def on_solution_callback(self) -> None:
        self.report(
            self.objective_value / OBJECTIVE_SCALE, self.best_objective_bound / OBJECTIVE_SCALE
        )


def solve_cp(
    v: Vars,
    options: SolveOptions,
    time_limit_s: float,
    hint: Mapping[Any, int] | None = None,
    assumptions: Iterable[Any] = (),
    on_solution: Callable[[float, float], None] | None = None,
    **params: Any,
) -> CpOutcome:
    """Solve a built model within a time limit (parameters applied in one place);
    ``on_solution(objective, bound)`` is called at each improvement."""
    if hint:
        v.model.clear_hints()  # type: ignore[no-untyped-call]
        for var, value in hint.items():
            v.model.add_hint(var, value)
    assumptions = list(assumptions)
    v.model.clear_assumptions()
    if assumptions:
        v.model.add_assumptions(assumptions)
    solver = cp_model.CpSolver()
    meter = budget.current()
    if meter is not None:
        # deterministic: the limit in CP-SAT's deterministic time, the wall clock only a cap
        params = {
            **params,
            "max_deterministic_time": max(0.01, time_limit_s * budget.WORK_PER_SECOND),
            "interleave_search": True,
        }
        apply_options(solver.parameters, options, max(0.05, meter.wall_left), **params)
    else:
        apply_options(solver.parameters, options, time_limit_s, **params)
    t0 = time.perf_counter()
    status = solver.solve(v.model, _Improvements(on_solution) if on_solution else None)
    wall = time.perf_counter() - t0
    budget.charge(solver.deterministic_time)
    has = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return CpOutcome(
        status=status,
        solver=solver,
        objective=solver.objective_value / OBJECTIVE_SCALE if has else None,
        bound=solver.best_objective_bound / OBJECTIVE_SCALE
        if has or status == cp_model.UNKNOWN
        else None,
        wall_s=wall,
    )


LP_GUIDE_LP = 0.75
"""The most of an LP-guided solve's limit (``solve_lp_guided``) its LP may take: without the
LP's point the search has no guide (the example week's group master, 2.4 s for its LP of
8,187 columns, found no plan in 3.6 s with 1.8 s for the LP, three times in a row)."""

LP_GUIDE_BOXED = 0.5
"""The most of what is left after the LP that the boxed model may take."""


def solve_lp_guided(
    v: Vars,
    options: SolveOptions,
    time_limit_s: float,
    decisions: Iterable[Any],
    lp_proof: bool = False,
) -> CpOutcome:
    """``solve_cp`` started from the LP relaxation (a relaxation-induced neighbourhood, as in
    RINS): HiGHS solves the model's LP (``solver.lp``), every decision variable is boxed
    between the floor and the ceiling of its LP value, CP-SAT searches that smaller model, and
    its best solution is the hint of the whole model's search for the time left. CP-SAT's own
    search can take long to a first solution on a model whose every solution is a balance of
    many sums (the weekly group master of the example week, 2 workers: its first at 21 s,
    from the boxed model at 4 s: its LP in 3 s). Without an LP optimum in its share, or
    without a boxed solution, the whole model is searched as ``solve_cp`` would; the result
    is always the whole model's (its status, bound and proof), except that with ``lp_proof``
    an infeasible LP (a relaxation: ``solver.lp``) is taken as the proof that the model is
    infeasible, without a search (for a stricter attempt that has a looser one after it)."""
    t0 = budget.now()
    decisions = list(decisions)
    lp = lp_bound(v.model, LP_GUIDE_LP * time_limit_s, crossover=True)
    if lp_proof and lp.status == "infeasible":
        return CpOutcome(cp_model.INFEASIBLE, cp_model.CpSolver(), None, None, lp.wall_s)
    hint: dict[Any, int] = {}
    left = time_limit_s - (budget.now() - t0)
    if lp.x is not None and decisions and left > 0.2:
        boxed = v.model.clone()
        for var in decisions:
            x = float(lp.x[var.index])
            copy = boxed.get_int_var_from_proto_index(var.index)
            boxed.add(copy >= math.floor(x + 1e-6))
            boxed.add(copy <= math.ceil(x - 1e-6))
        inner = solve_cp(SimpleNamespace(model=boxed), options, LP_GUIDE_BOXED * left)  # type: ignore[arg-type]
        if inner.has_solution:
            proto = v.model.Proto()
            hint = {
                v.model.get_int_var_from_proto_index(i): int(
                    inner.solver.value(boxed.get_int_var_from_proto_index(i))
                )
                for i in range(len(proto.variables))
            }
    left = max(0.5, time_limit_s - (budget.now() - t0))
    return solve_cp(v, options, left, hint=hint or None)
