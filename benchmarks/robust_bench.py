"""Robustness suite: valid rosters on varied generated centres (``benchmarks.varied_gen``).

Per instance: what the seed drew, status, whether the roster is valid (every hard rule kept,
re-checked by the validator), time to the first valid roster, objective, LP bound, gap, wall
time, whether the run was reproducible. ``python -m benchmarks.run robust`` (part of
``make bench``); ``WFM_ROBUST=60:40:30,200:10:60,500:3:120`` sets agents:seeds:seconds per set
(the default; seconds per week of horizon, so a 28-day draw gets four times as long),
``WFM_ROBUST=60:5:30`` a quick run.
"""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks.common import FirstValid, machine, triples, write_result
from benchmarks.varied_gen import varied
from solver.options import SolveOptions
from solver.solve import solve
from solver.validate import validate

DEFAULT = "60:40:30,200:10:60,500:3:120"


def _sets() -> list[tuple[int, int, float]]:
    """(agents, seeds, seconds per week of horizon) of each set."""
    return triples(os.environ.get("WFM_ROBUST", DEFAULT))


def run_one(n: int, seed: int, limit: float) -> dict[str, Any]:
    problem, draw = varied(n, seed, days=None if n <= 60 else 7)
    limit = limit * draw.days / 7  # the set's limit is per week of horizon
    first = FirstValid()
    t0 = time.perf_counter()
    r = solve(problem, SolveOptions(time_limit_s=limit, workers=2, seed=0), first)
    wall = time.perf_counter() - t0
    val = validate(problem, list(r.assignments))
    valid = bool(r.assignments) and val.ok and r.status.value in ("optimal", "feasible")
    if valid and first.at is None:
        first.at = wall
    return {
        "agents": n,
        "seed": seed,
        "draw": draw.label(),
        "days": draw.days,
        "limit_s": limit,
        "status": r.status.value,
        "valid": valid,
        "first_valid_s": round(first.at, 1) if first.at is not None and valid else None,
        "objective": r.objective,
        "lp_bound": r.best_bound,
        "gap": r.gap,
        "wall_s": round(wall, 1),
        "violations": len(val.violations),
        "reproducible": r.reproducible,
        "message": (r.message or "; ".join(c.message for c in r.explanation))[:200],
    }


def _markdown(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        "# Robustness suite: varied generated centres",
        "",
        f"Machine: {info.get('cpu', '?')}, {info.get('cores', '?')} cores; 2 CP-SAT workers, "
        "solver seed 0. Generator: `benchmarks/varied_gen.py` (start weekday, 7/14/28 days at "
        "60 agents, 15/30-min slots, 1-3 channels, office/part-time/nights/per-month contracts, "
        "0-15 % leave incl. the horizon's edges, roles and floors drawn per seed).",
        "",
        "| agents | runs | valid | median first valid (s) | median gap | worst gap |",
        "|---|---|---|---|---|---|",
    ]
    for n in sorted({r["agents"] for r in rows}):
        sub = [r for r in rows if r["agents"] == n]
        ok = [r for r in sub if r["valid"]]
        firsts = sorted(r["first_valid_s"] for r in ok if r["first_valid_s"] is not None)
        gaps = sorted(r["gap"] for r in ok if r["gap"] is not None)
        med = lambda xs: f"{xs[len(xs) // 2]:.3g}" if xs else "-"  # noqa: E731
        lines.append(
            f"| {n} | {len(sub)} | {len(ok)} | {med(firsts)} | {med(gaps)} | "
            f"{f'{gaps[-1]:.3g}' if gaps else '-'} |"
        )
    lines += [
        "",
        "| agents | seed | drawn | limit | status | valid | first valid | objective | LP bound "
        "| gap | wall | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['agents']} | {r['seed']} | {r['draw']} | {r['limit_s']:g} | {r['status']} | "
            f"{'yes' if r['valid'] else 'NO'} | {r['first_valid_s'] or '-'} | "
            f"{r['objective'] if r['objective'] is not None else '-'} | "
            f"{round(r['lp_bound'], 1) if r['lp_bound'] is not None else '-'} | "
            f"{r['gap'] if r['gap'] is not None else '-'} | {r['wall_s']} | "
            f"{r['message'][:80].replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def run() -> dict[str, Any]:
    info = machine()
    rows: list[dict[str, Any]] = []
    for n, seeds, limit in _sets():
        for seed in range(seeds):
            row = run_one(n, seed, limit)
            rows.append(row)
            print(
                f"{n} agents seed {seed} ({row['draw']}): {row['status']}, valid {row['valid']}, "
                f"objective {row['objective']}, bound {row['lp_bound']}, {row['wall_s']} s",
                flush=True,
            )
            data = {"machine": info, "spec": os.environ.get("WFM_ROBUST", DEFAULT), "rows": rows}
            write_result("robust", data, _markdown(rows, info))
    return {"rows": rows}
