"""The LP relaxation of a CP-SAT model, solved with HiGHS through ``scipy.optimize`` (exact),
or with OR-Tools' first-order PDLP (approximate, for LPs too large for HiGHS in the time).

Every variable keeps its domain's hull ``[min, max]`` and loses integrality; every plain linear
constraint (one without enforcement literals), ``bool_or``, ``at_most_one`` and
``exactly_one`` is kept as a linear row; every other constraint (reified rows, max / min
equalities, products, intervals) is dropped. Dropping constraints only enlarges the feasible
set, so the LP optimum is a valid lower bound on the model's minimum. A penalty variable whose
defining constraint is dropped simply falls to its lower end, which keeps the bound valid.

PDLP's answer is approximate: its bound is not its objective but the Lagrangian value of its
dual vector, ``min over lb <= x <= ub of c x + y (b - A x)``, computed here from the matrix.
Every dual vector (of the right signs) gives a valid lower bound, a converged one nearly the
optimum, so an early stop weakens the bound and never makes it wrong.

scipy's HiGHS runs in the same process as OR-Tools without trouble (the separate ``highspy``
package does not; it is never imported).
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.pdlp import solve_log_pb2, solvers_pb2
from ortools.pdlp.python import pdlp
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model
from scipy.optimize import OptimizeWarning, linprog
from scipy.sparse import csr_matrix, vstack

__all__ = ["LpBound", "LpMatrix", "lagrangian", "lp_bound", "lp_matrix", "pdlp_bound"]

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
    """The LP solution (one value per model variable), when optimal (PDLP: approximate)."""
    exact: bool = True
    """Whether ``x`` is a simplex / interior-point optimum (HiGHS) rather than PDLP's
    approximate point."""
    violation: float = 0.0
    """The largest amount by which ``x`` misses a row or a variable's bound (PDLP)."""
    iterations: int = 0
    """PDLP's iterations."""


def _bound(domain: Any) -> tuple[float, float]:
    lo, hi = float(domain[0]), float(domain[-1])
    # CP-SAT writes infinities as int64 extremes
    if lo <= -(2**62):
        lo = -_INF
    if hi >= 2**62:
        hi = _INF
    return lo, hi


def _message(model: Any) -> cp_model_pb2.CpModelProto:
    """A ``CpModel`` or its ``Proto()`` as a protobuf message. The model's own proto is a C++
    object whose every field read crosses into C++ (reading the example week's aggregate,
    75,000 columns and 306,000 nonzeros, field by field took 3.4 s); written out in binary and
    parsed it takes 0.1 s, and the message then reads about ten times as fast."""
    if not isinstance(model, cp_model.CpModel):
        copy = cp_model.CpModel()
        copy.Proto().copy_from(model)
        model = copy
    with tempfile.TemporaryDirectory(prefix="wfm-lp-") as folder:
        path = os.path.join(folder, "model.pb")
        model.export_to_file(path)
        with open(path, "rb") as fh:
            msg: cp_model_pb2.CpModelProto = cp_model_pb2.CpModelProto.FromString(fh.read())
    return msg


@dataclass(frozen=True)
class LpMatrix:
    """The relaxation as arrays: minimise ``obj @ x + offset`` subject to ``rlo <= a @ x <= rhi``
    and ``lb <= x <= ub``."""

    obj: Any
    offset: float
    a: Any
    rlo: Any
    rhi: Any
    lb: Any
    ub: Any
    kept: int
    dropped: int


def lp_matrix(proto: Any) -> LpMatrix:
    """The LP relaxation of a ``CpModel`` or its ``CpModelProto`` (see the module docstring)."""
    msg = _message(proto)
    n = len(msg.variables)
    lb = np.empty(n)
    ub = np.empty(n)
    for i, var in enumerate(msg.variables):
        lb[i], ub[i] = _bound(var.domain)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rlo: list[float] = []
    rhi: list[float] = []
    kept = dropped = 0

    def literals(refs: Any) -> tuple[list[int], list[float], float]:
        """Columns, coefficients and constant of a sum of literals (x, or 1 - x for ~x)."""
        c = [r if r >= 0 else -r - 1 for r in refs]
        a = [1.0 if r >= 0 else -1.0 for r in refs]
        return c, a, float(sum(1 for r in refs if r < 0))

    def row(c: list[int], a: list[float], lo: float, hi: float) -> None:
        rows.extend([len(rlo)] * len(c))
        cols.extend(c)
        vals.extend(a)
        rlo.append(lo)
        rhi.append(hi)

    for ct in msg.constraints:
        kind = ct.WhichOneof("constraint")
        if len(ct.enforcement_literal):
            dropped += 1
            continue
        if kind == "linear":
            # a negated reference in a linear row stands for -x
            refs, coeffs = ct.linear.vars, ct.linear.coeffs
            c = [r if r >= 0 else -r - 1 for r in refs]
            a = [float(k) if r >= 0 else -float(k) for r, k in zip(refs, coeffs, strict=True)]
            row(c, a, *_bound(ct.linear.domain))
            kept += 1
        elif kind in ("bool_or", "at_most_one", "exactly_one"):
            c, a, const = literals(getattr(ct, kind).literals)
            lo, hi = {
                "bool_or": (1.0, _INF),
                "at_most_one": (-_INF, 1.0),
                "exactly_one": (1.0, 1.0),
            }[kind]
            row(c, a, lo - const, hi - const)
            kept += 1
        elif kind == "bool_and":
            for ref in ct.bool_and.literals:
                c, a, const = literals([ref])
                row(c, a, 1.0 - const, _INF)
            kept += 1
        else:
            dropped += 1
    obj = np.zeros(n)
    offset = 0.0
    if msg.HasField("objective"):
        o = msg.objective
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
    a_mat = csr_matrix((vals, (rows, cols)), shape=(m, n))
    return LpMatrix(obj, offset, a_mat, np.array(rlo), np.array(rhi), lb, ub, kept, dropped)


def lp_bound(
    proto: Any,
    time_limit_s: float = 60.0,
    scale: float = 1.0,
    method: str = "highs-ipm",
    crossover: bool = True,
) -> LpBound:
    """Minimum of the LP relaxation of a ``CpModel`` or its ``CpModelProto`` (objective
    divided by ``scale``); ``crossover``: the interior point's optimum taken to a vertex
    (``solver.bound.lp_time``)."""
    t0 = time.perf_counter()
    mat = lp_matrix(proto)
    a, lo_arr, hi_arr, obj, offset = mat.a, mat.rlo, mat.rhi, mat.obj, mat.offset
    m, n = a.shape
    kept, dropped = mat.kept, mat.dropped
    # linprog wants A_ub x <= b_ub and A_eq x = b_eq: split ranged rows
    eq = lo_arr == hi_arr
    upper = ~eq & np.isfinite(hi_arr)
    lower = ~eq & np.isfinite(lo_arr)
    a_ub = None
    b_ub = None
    if upper.any() or lower.any():
        a_ub = vstack([a[upper], -a[lower]]).tocsr()
        b_ub = np.concatenate([hi_arr[upper], -lo_arr[lower]])
    with warnings.catch_warnings():
        # scipy passes options it does not know (run_crossover) to HiGHS with a warning
        warnings.simplefilter("ignore", OptimizeWarning)
        res = linprog(
            obj,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a[eq] if eq.any() else None,
            b_eq=lo_arr[eq] if eq.any() else None,
            bounds=np.column_stack([mat.lb, mat.ub]),
            method=method,
            options={
                "time_limit": max(0.1, float(time_limit_s)),
                "presolve": True,
                **({"run_crossover": "off"} if method == "highs-ipm" and not crossover else {}),
            },
        )
    wall = time.perf_counter() - t0
    if res.status == 0:
        value = (float(res.fun) + offset) / scale
        return LpBound(value, "optimal", m, n, kept, dropped, wall, res.x)
    status = {1: "time_limit", 2: "infeasible"}.get(res.status, "error")
    return LpBound(None, status, m, n, kept, dropped, wall)


def lagrangian(mat: LpMatrix, y: Any) -> float:
    """The Lagrangian bound of dual vector ``y`` (one value per row; positive on a row's lower
    side, negative on its upper side): a valid lower bound on the LP's minimum for any ``y``,
    ``-inf`` when an unbounded variable makes it useless."""
    y = np.asarray(y, dtype=float)
    # a side that is not there takes no multiplier
    y = np.where(((y > 0) & ~np.isfinite(mat.rlo)) | ((y < 0) & ~np.isfinite(mat.rhi)), 0.0, y)
    side = np.where(y > 0, mat.rlo, np.where(y < 0, mat.rhi, 0.0))  # finite where y is not 0
    reduced = mat.obj - mat.a.T @ y
    if np.any((reduced > 0) & ~np.isfinite(mat.lb)) or np.any((reduced < 0) & ~np.isfinite(mat.ub)):
        return -_INF
    at = np.where(reduced > 0, mat.lb, np.where(reduced < 0, mat.ub, 0.0))  # finite where used
    return float(y @ side + reduced @ at + mat.offset)


PDLP_TOLERANCE = 1e-4
"""PDLP's relative optimality tolerance (primal and dual residuals, gap): its Lagrangian bound
then lies within about a hundredth of a percent of the LP optimum."""


def pdlp_bound(
    proto: Any | LpMatrix,
    time_limit_s: float,
    scale: float = 1.0,
    threads: int = 1,
    work_rate: float = 0.0,
    work_s: float = 0.0,
) -> LpBound:
    """The LP relaxation by PDLP: the bound is the Lagrangian value of its dual (valid at any
    stop), ``x`` its approximate primal point. ``work_rate`` (iterations per second times the
    matrix's nonzeros): when given, ``work_s`` seconds (default the time limit) become an
    iteration limit, a stop that repeats on any machine, and the time limit only caps it."""
    t0 = time.perf_counter()
    mat = proto if isinstance(proto, LpMatrix) else lp_matrix(proto)
    m, n = mat.a.shape
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = mat.obj
    qp.objective_offset = mat.offset
    qp.constraint_matrix = mat.a.tocsc()
    qp.constraint_lower_bounds = mat.rlo
    qp.constraint_upper_bounds = mat.rhi
    qp.variable_lower_bounds = mat.lb
    qp.variable_upper_bounds = mat.ub
    params = solvers_pb2.PrimalDualHybridGradientParams()
    params.num_threads = max(1, threads)
    criteria = params.termination_criteria
    criteria.time_sec_limit = max(0.1, time_limit_s - (time.perf_counter() - t0))
    if work_rate:
        work = work_s or time_limit_s
        criteria.iteration_limit = max(100, int(work_rate * work / max(1, mat.a.nnz)))
    criteria.simple_optimality_criteria.eps_optimal_relative = PDLP_TOLERANCE
    criteria.simple_optimality_criteria.eps_optimal_absolute = PDLP_TOLERANCE
    res = pdlp.primal_dual_hybrid_gradient(qp, params)
    wall = time.perf_counter() - t0
    reason = res.solve_log.termination_reason
    status = {
        solve_log_pb2.TERMINATION_REASON_OPTIMAL: "optimal",
        solve_log_pb2.TERMINATION_REASON_TIME_LIMIT: "time_limit",
        solve_log_pb2.TERMINATION_REASON_ITERATION_LIMIT: "time_limit",
        solve_log_pb2.TERMINATION_REASON_PRIMAL_INFEASIBLE: "infeasible",
    }.get(reason, "error")
    y = np.asarray(res.dual_solution)
    value = lagrangian(mat, y) if len(y) == m else -_INF
    x: Any = np.asarray(res.primal_solution)
    violation = _INF
    if len(x) == n and np.all(np.isfinite(x)):
        ax = mat.a @ x
        violation = float(
            max(
                np.max(mat.rlo - ax, initial=0.0),
                np.max(ax - mat.rhi, initial=0.0),
                np.max(mat.lb - x, initial=0.0),
                np.max(x - mat.ub, initial=0.0),
            )
        )
    else:
        x = None
    bound = value / scale if np.isfinite(value) else None
    return LpBound(
        bound,
        status,
        m,
        n,
        mat.kept,
        mat.dropped,
        wall,
        x,
        exact=False,
        violation=violation,
        iterations=int(res.solve_log.iteration_count),
    )
