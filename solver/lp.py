"""The LP relaxation of a CP-SAT model, solved with HiGHS through ``scipy.optimize``.

Every variable keeps its domain's hull ``[min, max]`` and loses integrality; every plain linear
constraint (one without enforcement literals), ``bool_or``, ``at_most_one`` and
``exactly_one`` is kept as a linear row; every other constraint (reified rows, max / min
equalities, products, intervals) is dropped. Dropping constraints only enlarges the feasible
set, so the LP optimum is a valid lower bound on the model's minimum. A penalty variable whose
defining constraint is dropped simply falls to its lower end, which keeps the bound valid.

scipy's HiGHS runs in the same process as OR-Tools without trouble (the separate ``highspy``
package does not; it is never imported).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack

__all__ = ["LpBound", "lp_bound"]

_INF = float("inf")


@dataclass(frozen=True)
class LpBound:
    """The relaxation's value (in the model's objective units), or why there is none."""

    value: float | None
    status: str
    """``optimal``, ``infeasible``, ``time_limit`` or ``error``."""
    rows: int
    cols: int
    kept: int
    """Constraints kept as rows."""
    dropped: int
    """Constraints the relaxation leaves out (reified rows, non-linear ones)."""
    wall_s: float
    x: Any = None
    """The LP solution (one value per model variable), when optimal."""


def _bound(domain: Any) -> tuple[float, float]:
    d = list(domain)
    lo, hi = float(d[0]), float(d[-1])
    # CP-SAT writes infinities as int64 extremes
    if lo <= -(2**62):
        lo = -_INF
    if hi >= 2**62:
        hi = _INF
    return lo, hi


_KINDS = ("linear", "bool_or", "at_most_one", "exactly_one", "bool_and")


def _kind(ct: Any) -> str:
    for k in _KINDS:
        if getattr(ct, f"has_{k}")():
            return k
    return "other"


def lp_bound(
    proto: Any, time_limit_s: float = 60.0, scale: float = 1.0, method: str = "highs-ipm"
) -> LpBound:
    """Minimum of the LP relaxation of a ``CpModelProto`` (objective divided by ``scale``)."""
    t0 = time.perf_counter()
    n = len(proto.variables)
    lb = np.empty(n)
    ub = np.empty(n)
    for i, var in enumerate(proto.variables):
        lb[i], ub[i] = _bound(var.domain)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rlo: list[float] = []
    rhi: list[float] = []
    kept = dropped = 0

    def row(pairs: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(rlo)
        for c, a in pairs:
            rows.append(r)
            cols.append(c)
            vals.append(a)
        rlo.append(lo)
        rhi.append(hi)

    def literal(ref: int) -> tuple[int, float, float]:
        """(column, coefficient, constant) of a literal: x or 1 - x."""
        return (ref, 1.0, 0.0) if ref >= 0 else (-ref - 1, -1.0, 1.0)

    for ct in proto.constraints:
        kind = _kind(ct)
        if len(ct.enforcement_literal):
            dropped += 1
            continue
        if kind == "linear":
            pairs: list[tuple[int, float]] = []
            for ref, coef in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
                if ref >= 0:
                    pairs.append((ref, float(coef)))
                else:  # a negated reference stands for -x
                    pairs.append((-ref - 1, -float(coef)))
            lo, hi = _bound(ct.linear.domain)
            row(pairs, lo, hi)
            kept += 1
        elif kind in ("bool_or", "at_most_one", "exactly_one"):
            lits = getattr(ct, kind).literals
            pairs = []
            const = 0.0
            for ref in lits:
                c, a, k = literal(ref)
                pairs.append((c, a))
                const += k
            lo, hi = {
                "bool_or": (1.0, _INF),
                "at_most_one": (-_INF, 1.0),
                "exactly_one": (1.0, 1.0),
            }[kind]
            row(pairs, lo - const, hi - const)
            kept += 1
        elif kind == "bool_and":
            for ref in ct.bool_and.literals:
                c, a, k = literal(ref)
                row([(c, a)], 1.0 - k, _INF)
            kept += 1
        else:
            dropped += 1
    obj = np.zeros(n)
    offset = 0.0
    if proto.has_objective():
        o = proto.objective
        for ref, coef in zip(o.vars, o.coeffs, strict=True):
            if ref >= 0:
                obj[ref] += coef
            else:
                obj[-ref - 1] -= coef
                offset += coef
        factor = o.scaling_factor or 1.0
        offset = (offset + o.offset) * factor
        obj *= factor
    m = len(rlo)
    a = csr_matrix((vals, (rows, cols)), shape=(m, n))
    lo_arr = np.array(rlo)
    hi_arr = np.array(rhi)
    # linprog wants A_ub x <= b_ub and A_eq x = b_eq: split ranged rows
    eq = lo_arr == hi_arr
    upper = ~eq & np.isfinite(hi_arr)
    lower = ~eq & np.isfinite(lo_arr)
    a_ub = None
    b_ub = None
    if upper.any() or lower.any():
        a_ub = vstack([a[upper], -a[lower]]).tocsr()
        b_ub = np.concatenate([hi_arr[upper], -lo_arr[lower]])
    res = linprog(
        obj,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a[eq] if eq.any() else None,
        b_eq=lo_arr[eq] if eq.any() else None,
        bounds=np.column_stack([lb, ub]),
        method=method,
        options={"time_limit": max(0.1, float(time_limit_s)), "presolve": True},
    )
    wall = time.perf_counter() - t0
    if res.status == 0:
        value = (float(res.fun) + offset) / scale
        return LpBound(value, "optimal", m, n, kept, dropped, wall, res.x)
    status = {1: "time_limit", 2: "infeasible"}.get(res.status, "error")
    return LpBound(None, status, m, n, kept, dropped, wall)
