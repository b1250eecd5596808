"""A lower bound on the objective: CP-SAT's best bound on the aggregate model.

The aggregate model (group counts, exact break placement as counts, channel split, floors, role
cover, the break cap, every weekly rule summed over groups) is a relaxation of the roster
problem, so the best bound CP-SAT proves for it within the time given is a valid lower bound on
every roster's objective. The hard rules are strict here (a roster must keep them anyway), which
gives a tighter bound than the elastic version. Within short time limits the bound is often
weak; it is reported as it is.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver.model import build_aggregate, solve_cp
from solver.options import SolveOptions
from solver.prep import Instance

__all__ = ["aggregate_bound"]


def aggregate_bound(
    inst: Instance, options: SolveOptions, time_limit: float
) -> tuple[float | None, bool]:
    """(lower bound or None, proven infeasible)."""
    v = build_aggregate(inst, elastic=False)
    out = solve_cp(v, options, time_limit)
    if out.status == cp_model.INFEASIBLE:
        return None, True
    bound = out.bound
    return (None if bound is None else max(0.0, bound)), False
