"""Large-neighbourhood search on a built CP-SAT model: keep a solution, fix most of its
decisions, re-solve the rest from it, keep what is no worse.

CP-SAT's own LNS frees random variables; a problem-specific neighbourhood (for shift design, the
shifts starting or ending in a window of the day) frees decisions that belong together, and with
everything else fixed a step is a small model that solves in a fraction of a second. Each step
clones the model (variable indices are kept, so the original ``Vars`` read any step's solution),
pins the fixed decisions to their values, hints every variable with the current solution and
solves under a short limit.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from ortools.sat.python import cp_model

from solver.model import CpOutcome, solve_cp
from solver.options import SolveOptions
from solver.variables import Vars

__all__ = ["Neighbourhood", "full_hint", "improve", "solution_values"]

Neighbourhood = Callable[[random.Random], Iterable[int]]
"""rng -> proto indices of the decision variables that keep their value in the next step."""


def improve(
    v: Vars,
    best: CpOutcome,
    neighbourhood: Neighbourhood,
    options: SolveOptions,
    left: Callable[[], float],
    step_s: float,
    steps: int | None = None,
) -> tuple[CpOutcome, int]:
    """Steps until ``left()`` runs out (or ``steps`` were run); returns the best outcome (no
    worse than ``best``; its status and bound speak for the last accepted step only) and the
    number of steps."""
    rng = random.Random(options.seed)
    values = solution_values(best)
    done = 0
    while left() > 0.1 and (steps is None or done < steps):
        done += 1
        model = v.model.clone()
        for index in set(neighbourhood(rng)):
            model.add(model.get_int_var_from_proto_index(index) == values[index])
        step = Vars(model=model, inst=v.inst)
        out = solve_cp(
            step,
            options.model_copy(update={"seed": done}),
            min(step_s, left()),
            hint=full_hint(model, values),
        )
        scored = out.objective is not None and best.objective is not None
        if out.has_solution and scored and out.objective <= best.objective + 1e-9:  # type: ignore[operator]
            best, values = out, solution_values(out)
    return best, done


def solution_values(out: CpOutcome) -> list[int]:
    """The value of every variable of the solved model, by proto index."""
    return [int(x) for x in out.solver.response_proto.solution]


def full_hint(model: cp_model.CpModel, values: list[int]) -> dict[Any, int]:
    """Every variable of ``model`` hinted with its value in ``values`` (a solution of the model
    or of a clone of it: clones keep the variable indices)."""
    return {model.get_int_var_from_proto_index(i): x for i, x in enumerate(values)}
