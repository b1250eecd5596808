"""Shift design: how many agents to put on each shift (start, length) per day, without naming
them. This is the solver's aggregate layer on its own: the aggregate model (group counts,
coverage, floors, weekly rules summed over groups, the distinct-shift cost), solved to
optimality or the time limit, and its counts read back.

When distinct shifts cost something (``weights.distinct_shift``), the model is a fixed-charge
problem whose LP bound is weak, and CP-SAT's generic search stalls on it. Three steps help.
First, the same model restricted to shifts that start and end where the demand steps up or
down (``_aligned_start``; a far smaller search) gives a first solution; it hints the solve of
the whole model, which may prove it optimal. Then a large-neighbourhood search over the *set
of shifts used* takes over: each step keeps the used/unused decision of most shifts, frees those
starting or ending in a window of the day (or a random share of them), and re-solves with every
count free from the current solution.
With the set of shifts fixed, the counts are an interval-covering problem that CP-SAT solves
almost at once, so many steps fit in a few seconds. Steps are accepted when they are no worse.

Planners use it to ask which shifts a demand curve calls for before any roster exists; the
minimum shift design benchmark (``benchmarks/public``) runs through it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from solver.lns import Neighbourhood, full_hint, improve, solution_values
from solver.model import CpOutcome, build_aggregate, solve_cp
from solver.options import SolveOptions
from solver.prep import prepare
from solver.schema import DAY, RosterProblem, SolveStatus
from solver.variables import Vars

__all__ = ["DesignResult", "DesignedShift", "design_shifts"]

FIRST_SHARE = 0.3
"""Share of the time limit for the first solve of the whole model (it may prove optimality)."""
STEP_S = 0.5
"""Time limit of one neighbourhood step."""
TIDY_S = 0.3
"""Time kept for the last step (every count fixed: it only drops unused shifts, at once)."""
WINDOWS_MIN = (120, 240, 360)
"""Lengths of the time-of-day windows whose shifts a step frees."""
RANDOM_SHARE = 0.3
"""Share of shifts freed by a random step."""
ALIGNED_SHARE = 0.4
"""Share of the time for the first solve restricted to shifts aligned with the demand's steps."""


@dataclass(frozen=True)
class DesignedShift:
    day: int
    shift_type: str
    start: int
    """Minutes after midnight of ``day``."""
    length: int
    count: int


@dataclass(frozen=True)
class DesignResult:
    status: SolveStatus
    objective: float | None
    best_bound: float | None
    wall_time_s: float
    shifts: tuple[DesignedShift, ...]
    steps: int = 0
    """Neighbourhood steps run after the first solve (0 when it was enough)."""


def design_shifts(problem: RosterProblem, options: SolveOptions | None = None) -> DesignResult:
    """Counts per day and shift option that minimise the objective (coverage, distinct shifts
    and every other rule the aggregate model holds); agents are not named."""
    options = options or SolveOptions()
    t0 = time.perf_counter()

    def left() -> float:
        return options.time_limit_s - (time.perf_counter() - t0)

    inst = prepare(problem)
    v = build_aggregate(inst, elastic=False, chain=True)
    used = {k: var for k, var in v.distinct_.items() if not isinstance(var, int)}
    start = _aligned_start(v, problem, used, options, ALIGNED_SHARE * left()) if used else None
    first_limit = left() if not used else max(0.05, FIRST_SHARE * left())
    hint = None if start is None else full_hint(v.model, solution_values(start))
    out = solve_cp(v, options, max(0.05, first_limit), hint=hint)
    bound, optimal = out.bound, out.optimal
    if start is not None and (
        not out.has_solution or (out.objective or 0.0) > (start.objective or 0.0) + 1e-9
    ):
        out, optimal = start, False  # the aligned solution is a solution of the whole model
    if not out.has_solution:
        status = (
            SolveStatus.infeasible
            if out.status == cp_model.INFEASIBLE
            else SolveStatus.timeout_no_solution
        )
        return DesignResult(status, None, out.bound, time.perf_counter() - t0, ())
    steps = 0
    if used and not optimal:
        out, steps = improve(
            v, out, _window_neighbourhood(used), options, lambda: left() - TIDY_S, STEP_S
        )
        # a step keeps the shifts outside its neighbourhood "used" even when it no longer
        # works them: one last step with every count fixed drops what is paid for but unused
        pinned = [n.index for n in v.n_.values() if isinstance(n, cp_model.IntVar)]
        out, _ = improve(
            v, out, lambda _rng: pinned, options, lambda: max(0.2, left()), TIDY_S, steps=1
        )
        if bound is not None and out.objective is not None and out.objective <= bound + 1e-9:
            optimal = True
    objective = out.objective
    counts: dict[int, int] = {}
    for (_k, o), n in v.n_.items():
        value = n if isinstance(n, int) else int(out.solver.value(n))
        if value:
            counts[o] = counts.get(o, 0) + value
    shifts = []
    for o, n in sorted(counts.items()):
        opt = inst.options[o]
        shifts.append(
            DesignedShift(
                day=opt.day,
                shift_type=opt.type_id,
                start=opt.start - opt.day * DAY,
                length=opt.length,
                count=n,
            )
        )
    status = SolveStatus.optimal if optimal else SolveStatus.feasible
    return DesignResult(
        status, objective, bound, time.perf_counter() - t0, tuple(shifts), steps=steps
    )


def _change_minutes(problem: RosterProblem) -> set[int]:
    """Minutes of the day at which some channel's requirement or floor changes on some day
    (cyclic horizons compare the first slot with the last)."""
    s = problem.slot_minutes
    out: set[int] = set()
    for ch in problem.channels:
        for series in (ch.required, ch.min_staff):
            values = list(series)
            if not values:
                continue
            for t, x in enumerate(values):
                before = values[t - 1] if t > 0 else (values[-1] if problem.cyclic else 0)
                if x != before:
                    out.add((t * s) % DAY)
    return out


def _aligned_start(
    v: Vars,
    problem: RosterProblem,
    used: dict[tuple[int, int], Any],
    options: SolveOptions,
    limit: float,
) -> CpOutcome | None:
    """A first solution using only shifts that start and end where the demand steps up or down
    (when demand is a sum of shift-shaped blocks, as planners' curves often are, the best
    designs use such shifts): the same model with every other shift unused, which is much
    smaller after presolve. None when it finds nothing or restricts nothing."""
    steps = _change_minutes(problem)
    off = [
        var
        for (start, length), var in used.items()
        if start not in steps or (start + length) % DAY not in steps
    ]
    if not off or len(off) == len(used) or limit < 0.05:
        return None
    model = v.model.clone()
    for var in off:
        model.add(model.get_int_var_from_proto_index(var.index) == 0)
    out = solve_cp(Vars(model=model, inst=v.inst), options, limit)
    return out if out.has_solution else None


def _window_neighbourhood(used: dict[tuple[int, int], Any]) -> Neighbourhood:
    """Half the steps free the shifts starting or ending in a window of the day, half a random
    share of all shifts; every other shift keeps its used/unused decision (counts stay free)."""
    keys = sorted(used)

    def fixed(rng: random.Random) -> list[int]:
        if rng.random() < 0.5:
            centre = rng.randrange(DAY)
            width = rng.choice(WINDOWS_MIN)
            free = {
                k for k in keys if (k[0] - centre) % DAY < width or (sum(k) - centre) % DAY < width
            }
        else:
            free = {k for k in keys if rng.random() < RANDOM_SHARE}
        return [used[k].index for k in keys if k not in free]

    return fixed
