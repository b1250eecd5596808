"""The trade-off: the non-dominated variants of a sweep on cost, service level and fairness, and
the weight points of ``wfm pareto`` (weighted sums of the scenario's own objective terms).

``wfm pareto`` solves the scenario once per point of a lattice on the simplex of the chosen
objectives' weights ``w`` (``points`` of them, corners included); each objective's terms in the
scenario's ``objective:`` get their weight times ``10 ** (k * w - 1)`` (``k`` objectives), so the
lattice's middle is the scenario as it is and each corner favours one objective 10 to 100 times.
cost is the over-cover weight (paid time above the requirement), service_level the under-cover
and deferred-late weights, fairness the fairness weight. Epsilon constraints (a bound on one
measure as a hard rule) would need the solver to accept such a bound; it does not, so they are
not offered.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

from api.errors import InputError
from api.scenario.loader import load_scenario
from api.scenario.yamlsrc import display_path
from api.sweep.rows import OBJECTIVES, Row, measures
from api.sweep.spec import AxisPath, Edit, SweepPlan, parse_path, plan_from

__all__ = [
    "WEIGHT_KEYS",
    "dominates",
    "mark_front",
    "non_dominated",
    "pareto_plan",
    "parse_objectives",
    "weight_points",
]

WEIGHT_KEYS = {
    "cost": ("over_cover",),
    "service_level": ("under_cover", "deferred_late"),
    "fairness": ("fairness",),
}
"""The scenario's objective weights behind each measure."""
MAX_POINTS = 200


def dominates(a: dict[str, float], b: dict[str, float], objectives: list[str]) -> bool:
    """``a`` is at least as good as ``b`` on every objective and better on one."""
    better = False
    for k in objectives:
        da, db = OBJECTIVES[k] * a[k], OBJECTIVES[k] * b[k]
        if da < db - 1e-9:
            return False
        if da > db + 1e-9:
            better = True
    return better


def non_dominated(
    points: list[dict[str, float | None]], objectives: list[str] | None = None
) -> list[bool]:
    """Per point, whether no other point dominates it; points missing a measure are never on
    the front (and dominate nothing)."""
    objs = objectives or list(OBJECTIVES)
    complete = [
        {k: float(v) for k, v in p.items() if v is not None}
        if all(p.get(k) is not None for k in objs)
        else None
        for p in points
    ]
    out = []
    for i, p in enumerate(complete):
        out.append(
            p is not None
            and not any(
                q is not None and j != i and dominates(q, p, objs) for j, q in enumerate(complete)
            )
        )
    return out


def mark_front(rows: list[Row], objectives: list[str] | None = None) -> list[Row]:
    """Set each row's ``pareto`` (solved and non-dominated); returns the rows."""
    flags = non_dominated([measures(r) for r in rows], objectives)
    for r, f in zip(rows, flags, strict=True):
        r.pareto = f
    return rows


def parse_objectives(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in OBJECTIVES]
    if bad or len(names) < 2 or len(set(names)) != len(names):
        raise InputError.one(
            "--objectives",
            f"expected two or three of {', '.join(OBJECTIVES)}, comma-separated, each once; "
            f"got {text!r}",
        )
    return names


def weight_points(k: int, n: int) -> list[tuple[float, ...]]:
    """``n`` points of the simplex of ``k`` weights: the smallest regular lattice with at least
    ``n`` points, thinned evenly (its corners kept)."""
    h = 1
    while math.comb(h + k - 1, k - 1) < n:
        h += 1
    lattice = [
        tuple(c / h for c in combo)
        for combo in itertools.product(range(h + 1), repeat=k)
        if sum(combo) == h
    ]
    lattice.sort(reverse=True)
    if len(lattice) <= n:
        return lattice
    corners = [p for p in lattice if max(p) == 1.0]
    rest = [p for p in lattice if max(p) < 1.0]
    want = n - len(corners)
    if want <= 0:
        return corners[:n]
    step = len(rest) / want
    picked = [rest[int(j * step)] for j in range(want)]
    return sorted(corners + picked, reverse=True)


def pareto_plan(
    scenario: Path, objectives: list[str], points: int, time_limit_s: float | None
) -> SweepPlan:
    """A sweep of the scenario's objective weights (see the module's docstring)."""
    if not 2 <= points <= MAX_POINTS:
        raise InputError.one("--points", f"expected 2 to {MAX_POINTS}, got {points}")
    base = load_scenario(scenario).scenario.objective
    k = len(objectives)
    where = "wfm pareto --objectives"
    axes: list[tuple[AxisPath, list[Any], str, Path, int]] = []
    lattice = weight_points(k, points)
    for j, name in enumerate(objectives):
        for key in WEIGHT_KEYS[name]:
            w0 = float(getattr(base, key))
            values = [round(w0 * 10 ** (k * p[j] - 1), 4) for p in lattice]
            axes.append((parse_path(f"objective.{key}"), values, where, scenario, 0))
    fixed: list[Edit] = []
    if time_limit_s is not None:
        fixed.append(
            Edit(parse_path("solver.time_limit_seconds"), time_limit_s, "--time-limit", scenario, 0)
        )
    return plan_from(
        f"trade-off of {', '.join(objectives)}",
        scenario,
        axes,
        fixed,
        "zip",
        display_path(scenario),
    )
