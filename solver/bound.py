"""A lower bound on the objective: the aggregate model's LP relaxation (else CP-SAT's bound).

The aggregate model (group counts, exact break placement as counts, channel split, floors, role
cover, the break cap, every weekly rule summed over groups) is a relaxation of the roster
problem. Its LP relaxation, solved by HiGHS (``solver.lp``), is a valid lower bound on every
roster's objective, found in seconds even where CP-SAT proves nothing in the same time (0 on
the 60-agent independent week in 3 s, where the LP gives 3,318). CP-SAT then searches the same
model only when the LP has no optimum in time or HiGHS calls it infeasible: an infeasible LP
is not taken as a proof, CP-SAT's infeasibility is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from solver.lp import lp_bound
from solver.model import build_aggregate, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance
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


LP_REF_COLUMNS = 110_438
LP_REF_S = 50.0
LP_GROWTH = 1.8
"""HiGHS's interior point on these LPs, measured on the 2-core machine, grows faster than their
size: 49,980 columns (robustness seed 6, 14 days) in 13.8 s, the 28-day independent month's
110,438 in 48 s (50.6 s beside other work), 198,128 (robustness seed 5, 28 days of 15-minute
slots) not in 150 s; ``LP_REF_S x (columns / LP_REF_COLUMNS) ** LP_GROWTH`` follows them."""


def lp_expected(columns: int) -> float:
    """Seconds HiGHS is expected to take on an aggregate LP of ``columns`` columns."""
    return float(LP_REF_S * (columns / LP_REF_COLUMNS) ** LP_GROWTH)


def lp_time(columns: int, time_limit: float, most: float) -> float:
    """Seconds for an LP of ``columns`` columns: ``time_limit``, or up to ``most`` when the
    expected time fits there (twice it given: the times scatter around the curve, 27,547
    columns of a 7-day week of 15-minute slots took 6.2 s against 4.0 expected, its model's
    building and conversion included); an LP expected to take longer than ``most`` keeps
    ``time_limit`` (it would not solve, and the time is the roster's)."""
    expected = lp_expected(columns)
    return min(most, max(time_limit, 2.0 * expected)) if expected <= most else time_limit


def aggregate_bound(
    inst: Instance, options: SolveOptions, time_limit: float, most: float | None = None
) -> AggregateBound:
    """The aggregate's LP bound, else CP-SAT's (see the module docstring). ``most``: the time
    the LP may take beyond ``time_limit`` when its size says it will solve in it."""
    t0 = time.perf_counter()
    v = build_aggregate(inst, elastic=False)
    proto = v.model.Proto()
    if most is not None:
        time_limit = lp_time(len(proto.variables), time_limit, most)
    # the model's building and conversion count against the limit too
    lp = lp_bound(proto, max(0.5, time_limit - (time.perf_counter() - t0)), OBJECTIVE_SCALE)
    if lp.value is not None:
        return AggregateBound(
            lp=lp.x,
            model=v,
            value=max(0.0, lp.value - _TOLERANCE * max(1.0, abs(lp.value))),
        )
    # no LP optimum in time (or HiGHS calls it infeasible): CP-SAT's bound, and its proof
    left = time_limit - (time.perf_counter() - t0)
    if left < 1.0:
        return AggregateBound(None)  # no time left for CP-SAT: no bound
    out = solve_cp(v, options, left)
    if out.status == cp_model.INFEASIBLE:
        return AggregateBound(None, infeasible=True)
    return AggregateBound(None if out.bound is None else max(0.0, out.bound))
