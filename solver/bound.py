"""A lower bound on the objective: the aggregate model's LP relaxation (else CP-SAT's bound).

The aggregate model (group counts, exact break placement as counts, channel split, floors, role
cover, the break cap, every weekly rule summed over groups) is a relaxation of the roster
problem. Its LP relaxation (``solver.lp``) is a valid lower bound on every roster's objective,
found in seconds even where CP-SAT proves nothing in the same time (0 on the 60-agent
independent week in 3 s, where the LP gives 3,318). HiGHS solves it exactly when its size says
it will in the time; a larger LP (14 and 28 days, 15-minute slots) goes to PDLP, whose bound is
the Lagrangian value of its dual (valid at any stop) and whose approximate point the plan
rounds just the same. CP-SAT then searches the same model only when HiGHS has no optimum in
time or calls it infeasible: an infeasible LP is not taken as a proof, CP-SAT's infeasibility
is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from solver import budget
from solver.lp import LpBound, lp_bound, lp_matrix, pdlp_bound
from solver.model import build_aggregate, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
from solver.rolling import MIN_DAYS
from solver.units import OBJECTIVE_SCALE

__all__ = ["AggregateBound", "aggregate_bound", "lp_expected", "lp_time"]

_TOLERANCE = 1e-6
"""Relative slack taken off the LP's optimum (floating-point round-off)."""


@dataclass
class AggregateBound:
    """The bound (None when nothing is known), whether CP-SAT proved the aggregate infeasible,
    and, when the LP solved, its solution and the model it solved (``solver.plan`` rounds it)."""

    value: float | None
    infeasible: bool = False
    lp: Any = None
    """The LP solution, one value per variable of ``model`` (the aggregate it solved)."""
    model: Any = None
    exact: bool = True
    """Whether the LP went to HiGHS (an exact optimum in ``lp``) rather than PDLP (its
    approximate point, or none when too rough to round)."""
    too_large: bool = False
    """No LP was solved: wanted for its point alone (``plan_only``), its size said it would
    give none in the time."""


LP_REF_COLUMNS = 110_438
LP_REF_S = 42.0
LP_GROWTH = 1.5
"""HiGHS's interior point (no crossover, ``solver.lp``) on these LPs, measured on the 2-core
machine (AMD EPYC), grows faster than their size: 27,547 columns (robustness seed 16, a week of
15-minute slots) in 4.0 s, 51,349 (the 50-agent benchmark week) 15.8 s, 109,272 (the 1,000-agent
week) 34.4 s, the 28-day independent month's 110,438 in 39-41 s, 198,128 (robustness seed 5, 28
days of 15-minute slots) in 73-75 s; ``LP_REF_S x (columns / LP_REF_COLUMNS) ** LP_GROWTH``
follows them (with crossover they took about twice as long: 98 s at 1,000 agents, seed 5 not in
150 s)."""


def lp_expected(columns: int) -> float:
    """Seconds HiGHS is expected to take on an aggregate LP of ``columns`` columns."""
    return _power_law(columns, LP_REF_S, LP_GROWTH)


def _power_law(columns: int, ref_s: float, growth: float) -> float:
    """``ref_s`` seconds at ``LP_REF_COLUMNS`` columns, growing as the size to ``growth``."""
    return float(ref_s * (columns / LP_REF_COLUMNS) ** growth)


INTERIOR_ROUNDING = 0.5
"""An interior point (no crossover) is rounded into the plan only when the LP is expected
(``lp_expected``: by its size, so a deterministic solve decides the same way every run) to take
at most this share of its most (``aggregate_bound``'s ``most``, 30 % of the limit): the
1,000-agent benchmark week's (41 s expected, 36 s taken, of 300) rounded to a valid 21,090
(bound 13,472; the weekly masters' roster 42,871); the 50-agent week's (13 s expected, 18.7 s
taken, of 60) left 62 hard-rule slots where the masters' plan was valid."""


def lp_time(columns: int, time_limit: float, most: float) -> tuple[float, bool]:
    """Seconds for HiGHS on an LP of ``columns`` columns, and whether it crosses over to a
    vertex. A vertex rounds far better than the interior point (the 200-agent robustness week
    4: rounded plan 11,025 against 32,852, roster 3,680 against 4,626; 60-agent weeks lost
    25-75 %), so an LP expected to solve with crossover within ``most`` (``lp_expected_vertex``)
    gets it, with all of ``most`` (the expectation under-predicts small LPs 2-3 times: week
    60/1, 24,340 columns, 7.3-9.5 s for 3.3; an LP stops when solved, and one that misses its
    time leaves no bound and no plan: 60/1 then kept 7 hard-rule slots on the masters'
    path, its interior point rounded kept 7 as well); one that is not but is expected to solve
    without crossover within ``most`` gets the interior point, with up to twice its expected
    time (crossover took 1.2-2.9 times as long again); else ``time_limit``, without crossover
    (it would not solve, and the time is the roster's)."""
    vertex = lp_expected_vertex(columns)
    expected = lp_expected(columns)
    # a large LP whose vertex is expected in more than half of ``most`` goes without crossover
    # when its interior point will be rounded: the 1,000-agent week's 109,272 columns took 98 s
    # with crossover (48 expected) and missed its 90 s (no bound, the weekly masters' roster
    # 33,387), 36 s without (its interior point rounded: valid 21,090, bound 13,472)
    if vertex <= most and (vertex <= 0.5 * most or expected > INTERIOR_ROUNDING * most):
        return most, True
    if expected <= most:
        return min(most, max(time_limit, 2.0 * expected)), False
    return time_limit, False


def lp_expected_vertex(columns: int) -> float:
    """Seconds HiGHS is expected to take with crossover (``LP_VERTEX_REF_S``)."""
    return _power_law(columns, LP_VERTEX_REF_S, LP_VERTEX_GROWTH)


LP_VERTEX_REF_S = 50.0
LP_VERTEX_GROWTH = 1.8
"""HiGHS with crossover (the calibration before crossover was made optional): 49,980 columns
(robustness seed 6) in 13.8 s, the independent month's 110,438 in 48 s; it under-predicts
some LPs (the 1,000-agent week's 109,272: 98 s), which then miss their time as before."""


def use_pdlp(columns: int, most: float) -> bool:
    """Whether an LP of ``columns`` columns is too slow for HiGHS, expected to take more than
    ``most`` (robustness seed 0's 72,896 columns: HiGHS expected 24 s with 18 s at most; PDLP
    converged in 9 s). Below that HiGHS is kept, since its exact point rounds better: the
    independent month (110,438 columns, HiGHS 48 s of 90) went to PDLP at a threshold of half
    of ``most`` and its roster kept 42 hard-rule slots against 19."""
    return lp_expected(columns) > most


PDLP_PLAN_VIOLATION = 0.1
"""The most by which PDLP's point may miss a row for the plan to round it (agents)."""

PDLP_ITERATIONS_PER_S = 2.0e8
"""PDLP iterations per second times the matrix's nonzeros on the 2-core machine (robustness
seed 0: 287,170 nonzeros, 6,016 iterations in 10.2 s; the example month: 1,277,734, 13,201 in
80 s), also the rate of its deterministic stop (an iteration limit instead of the clock)."""

PDLP_ITERATIONS = 8_000
"""Iterations PDLP is expected to take to a point the plan can round: robustness seed 0
converged in 6,016; seed 5's 198,128 columns were within 0.005 of every row after 11,088, the
example month's within 0.04-1.0 after 9,353-13,201 (a point missing a row by more than 0.1 is
not rounded). An LP expected to need more time than it may have gets no plan from PDLP (the
time is the roster's; seed 5 kept 17 hard-rule slots after 36 s of an unfinished PDLP), only a
bound from PDLP run for the bound's own share. At 12,000 seed 0
(60 s, 18 s for the LP) lost its bound."""


def pdlp_expected(nonzeros: int) -> float:
    """Seconds PDLP is expected to take to a point the plan can round."""
    return PDLP_ITERATIONS * nonzeros / PDLP_ITERATIONS_PER_S


def aggregate_bound(
    inst: Instance,
    options: SolveOptions,
    time_limit: float,
    most: float | None = None,
    plan_only: bool = False,
) -> AggregateBound:
    """The aggregate's LP bound, else CP-SAT's (see the module docstring). ``most``: the time
    the LP may take beyond ``time_limit`` when its size says it will solve in it (HiGHS), or
    when it is too large for HiGHS (PDLP, which stops when converged). ``plan_only``: the LP
    is wanted for its point alone (a week of a horizon solved a week at a time, whose bound is
    the whole horizon's): when its size says it will give no point to round in the time, no
    LP is solved and the time is the roster's (the example month's weeks spent 5-8 s each on
    PDLP for a bound nobody read)."""
    t0 = time.perf_counter()
    v = build_aggregate(inst, elastic=False)
    proto = v.model.Proto()
    columns = len(proto.variables)
    lp: LpBound
    # from two weeks on (solved whole, not a week at a time: ``SolveOptions.rolling``) PDLP
    # may take up to ``most`` and its point is rounded even unconverged (the weekly masters,
    # the other plan, found none for the example month in 267 s); below, it keeps the
    # bound's share and only a converged point is rounded (the example week's rounding of an
    # unconverged point, after 22 s of PDLP, left 134 hard-rule slots where the masters' plan
    # is valid; so did a week of the example fortnight with its look-ahead day: 37-51 slots
    # against 0-3 from the masters)
    long = inst.problem.days >= MIN_DAYS
    mat = lp_matrix(v.model) if most is not None and use_pdlp(columns, most) else None
    if mat is not None and most is not None:
        share = most if long else time_limit
        # a deterministic solve decides and stops on work, not on the clock: PDLP gets an
        # iteration limit (the wall clock only caps it) and its iterations are charged
        meter = budget.current() if options.deterministic else None
        avail = share if meter is not None else share - (time.perf_counter() - t0)
        plan = pdlp_expected(mat.a.nnz) <= avail
        if not plan and plan_only:
            return AggregateBound(None, exact=False, too_large=True)
        if not plan:
            # too slow to reach a point worth rounding: PDLP for the bound alone, in the
            # bound's own share (HiGHS, slower still, gave nothing there: robustness seed 5's
            # 28 days of 15-minute slots had no bound at all)
            share = time_limit
        seconds = share if meter is not None else share - (time.perf_counter() - t0)
        if seconds < 0.5:
            return AggregateBound(None)
        rate = PDLP_ITERATIONS_PER_S if meter is not None else 0.0
        wall = max(0.5, meter.wall_left) if meter is not None else seconds
        lp = pdlp_bound(mat, wall, OBJECTIVE_SCALE, options.workers, rate, seconds)
        if meter is not None:
            budget.charge(
                lp.iterations * mat.a.nnz / PDLP_ITERATIONS_PER_S * budget.WORK_PER_SECOND
            )
        # a bound at or below 0 says nothing; a point that misses a row by more than a tenth
        # of an agent is no plan to round (PDLP stopped far from converged)
        value = lp.value if lp.value is not None and lp.value > 0 else None
        usable = plan and (long or lp.status == "optimal")
        if usable and lp.x is not None and lp.violation <= PDLP_PLAN_VIOLATION:
            return AggregateBound(value, lp=lp.x, model=v, exact=False)
        return AggregateBound(value, exact=False)
    crossover = True
    bound_share = time_limit
    bound_alone = False  # an interior point the plan would not round
    if most is not None:
        time_limit, crossover = lp_time(columns, time_limit, most)
        bound_alone = not crossover and lp_expected(columns) > INTERIOR_ROUNDING * most
        if plan_only and bound_alone:
            return AggregateBound(None, too_large=True)
    # building the model counts against the bound's own share; an LP given more (``lp_time``)
    # gets it from its own start: one that misses its time leaves no bound and no plan
    # (robustness week 200/3: 2 s to build, 5.0-5.9 s of 6.5 for HiGHS, none left)
    spent = time.perf_counter() - t0
    seconds = time_limit - spent if time_limit <= bound_share else time_limit
    lp = lp_bound(v.model, max(0.5, seconds), OBJECTIVE_SCALE, crossover=crossover)
    if lp.value is not None:
        value = max(0.0, lp.value - _TOLERANCE * max(1.0, abs(lp.value)))
        if bound_alone:
            # an interior point rounds worse than a vertex and the days then need time to
            # repair: with little left it gives the bound alone (the weekly masters plan)
            return AggregateBound(value)
        return AggregateBound(lp=lp.x, model=v, value=value)
    # no LP optimum in time (or HiGHS calls it infeasible): CP-SAT's bound, and its proof
    left = time_limit - (time.perf_counter() - t0)
    if left < 1.0:
        return AggregateBound(None)  # no time left for CP-SAT: no bound
    out = solve_cp(v, options, left)
    if out.status == cp_model.INFEASIBLE:
        return AggregateBound(None, infeasible=True)
    return AggregateBound(None if out.bound is None else max(0.0, out.bound))
