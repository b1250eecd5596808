"""Public benchmarks: minimum shift design (TU Wien DataSet1) and Curtois & Qu (2014).

Every instance goes through an adapter into the solver's own ``RosterProblem`` and is solved by
the product's solver (``solver.design`` for shift design, ``solver.solve`` for Curtois-Qu); the
answer is scored by the benchmark's own evaluator (``benchmarks.public``), which imports no
solver code. ``python -m benchmarks.run public`` (``make bench-public``) writes
``benchmarks/results/public.{json,md}``.

Environment: ``WFM_PUBLIC_MSD`` (number of shift design instances, default all 200),
``WFM_PUBLIC_CQ`` (Curtois-Qu instance numbers, default 1-12), ``WFM_PUBLIC_FAMILIES``
(``msd``, ``cq`` or both, the default; a family not run keeps its rows from the previous
results file), ``WFM_PUBLIC_SCALE`` (time
limits multiplied, default 1: 10 s per shift design instance, 60 s for Instances 1-6 and 300 s
for 7-12, as the targets say).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, machine, write_result
from benchmarks.public import CQ_DIR, MSD_DIR, cq_adapter, curtois_qu, msd_adapter, shift_design
from solver.design import design_shifts
from solver.options import SolveOptions
from solver.solve import solve

WORKERS = 2


def _msd_paths() -> list[Path]:
    paths = sorted(
        (MSD_DIR / "DataSet1").glob("RandomExample*.txt"),
        key=lambda p: int(p.stem.removeprefix("RandomExample")),
    )
    n = int(os.environ.get("WFM_PUBLIC_MSD", len(paths)))
    return paths[:n]


def run_msd_one(path: Path, limit: float) -> dict[str, Any]:
    inst = shift_design.parse(path)
    t0 = time.perf_counter()
    res = design_shifts(
        msd_adapter.to_problem(inst), SolveOptions(time_limit_s=limit, workers=WORKERS, seed=0)
    )
    wall = time.perf_counter() - t0
    score = shift_design.evaluate(inst, msd_adapter.to_shifts(inst, res.shifts))
    return {
        "instance": inst.name,
        "status": res.status.value,
        "ours": score.objective if res.shifts or res.objective is not None else None,
        "solver_objective": res.objective,
        "bound": res.best_bound,
        "shifts": score.shifts,
        "shortage_min": score.shortage_minutes,
        "excess_min": score.excess_minutes,
        "violations": len(score.violations),
        "wall_s": round(wall, 2),
    }


def run_cq_one(number: int, limit: float) -> dict[str, Any]:
    path = CQ_DIR / f"Instance{number}.txt"
    inst = curtois_qu.parse(path)
    problem = cq_adapter.to_problem(inst)
    t0 = time.perf_counter()
    res = solve(
        problem,
        SolveOptions(time_limit_s=limit, workers=WORKERS, seed=0, exact_max_agents=100_000),
    )
    wall = time.perf_counter() - t0
    score = curtois_qu.evaluate(inst, cq_adapter.to_grid(inst, res.assignments))
    return {
        "instance": inst.name,
        "status": res.status.value,
        "ours": score.objective if res.assignments else None,
        "solver_objective": res.objective,
        "bound": res.best_bound,
        "violations": len(score.violations),
        "wall_s": round(wall, 1),
    }


def _gap(ours: float | None, best: float) -> float | None:
    if ours is None:
        return None
    return 0.0 if ours <= best else (ours - best) / max(1.0, best)


def _families() -> set[str]:
    raw = os.environ.get("WFM_PUBLIC_FAMILIES", "msd,cq")
    names = {x.strip() for x in raw.split(",") if x.strip()}
    unknown = names - {"msd", "cq"}
    if unknown or not names:
        raise SystemExit(
            f"WFM_PUBLIC_FAMILIES: expected a comma-separated subset of msd,cq, got {raw!r}"
        )
    return names


def _previous() -> dict[str, Any]:
    path = RESULTS / "public.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def run_msd(scale: float) -> dict[str, Any]:
    msd_best = shift_design.best_known(MSD_DIR / "best_known.csv")
    rows = []
    for path in _msd_paths():
        row = run_msd_one(path, 10.0 * scale)
        best = msd_best[row["instance"]].value
        row["best_known"] = best
        row["gap"] = _gap(row["ours"], best)
        row["matched"] = row["ours"] is not None and row["ours"] <= best and not row["violations"]
        rows.append(row)
        print({k: row[k] for k in ("instance", "ours", "best_known", "wall_s")}, flush=True)
    matched = sum(1 for r in rows if r["matched"])
    within = sum(1 for r in rows if r["matched"] and r["wall_s"] <= 10.0 * scale + 0.5)
    return {
        "machine": machine(),
        "time_scale": scale,
        "instances": len(rows),
        "matched_or_beaten": matched,
        "matched_within_limit": within,
        "rows": rows,
    }


def run_cq(scale: float) -> dict[str, Any]:
    cq_best = curtois_qu.best_known(CQ_DIR / "best_known.csv")
    numbers = [
        int(x) for x in os.environ.get("WFM_PUBLIC_CQ", ",".join(map(str, range(1, 13)))).split(",")
    ]
    rows = []
    for k in numbers:
        limit = (60.0 if k <= 6 else 300.0) * scale
        row = run_cq_one(k, limit)
        best = cq_best[row["instance"]].upper
        row["limit_s"] = limit
        row["best_known"] = best
        row["gap"] = _gap(row["ours"], best)
        rows.append(row)
        print({key: row[key] for key in ("instance", "ours", "best_known", "wall_s")}, flush=True)
    return {"machine": machine(), "time_scale": scale, "rows": rows}


def run() -> dict[str, Any]:
    """Both families by default; ``WFM_PUBLIC_FAMILIES=msd`` (or ``cq``) runs one and keeps the
    other's rows from the previous results file (each family records its own machine, commit
    and date)."""
    scale = float(os.environ.get("WFM_PUBLIC_SCALE", "1"))
    families = _families()
    previous = _previous()
    data: dict[str, Any] = {"workers": WORKERS}
    data["shift_design"] = run_msd(scale) if "msd" in families else previous.get("shift_design")
    data["curtois_qu"] = run_cq(scale) if "cq" in families else previous.get("curtois_qu")
    write_result("public", data, _markdown(data))
    return data


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 10 else f"{x:,.1f}"
    return str(x)


def _beaten(rows: list[dict[str, Any]]) -> int:
    return sum(1 for r in rows if r["ours"] is not None and r["ours"] < r["best_known"])


def _measured(part: dict[str, Any]) -> str:
    m = part.get("machine", {})
    return (
        f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; commit "
        f"{m.get('commit', '?')}, {m.get('date', '?')}; time limits x {part.get('time_scale', 1)}."
    )


def _markdown(data: dict[str, Any]) -> str:
    lines = [
        "# Public benchmarks",
        "",
        f"CP-SAT with {data['workers']} workers; command `make bench-public`.",
        "",
        "## Minimum shift design (TU Wien DataSet1)",
        "",
    ]
    msd = data.get("shift_design")
    if not msd:
        lines.append("Not run.")
    else:
        lines += [
            _measured(msd),
            "",
            f"Matched or beaten the best known F on {msd['matched_or_beaten']} of "
            f"{msd['instances']} instances ({msd['matched_within_limit']} within the 10 s limit); "
            f"beaten on {_beaten(msd['rows'])}.",
            "",
            "| instance | ours | best known | gap | shifts | status | time s |",
            "|---|---:|---:|---:|---:|---|---:|",
        ]
        for r in msd["rows"]:
            lines.append(
                f"| {r['instance']} | {_fmt(r['ours'])} | {r['best_known']} | {_fmt(r['gap'])} | "
                f"{r['shifts']} | {r['status']} | {r['wall_s']} |"
            )
    lines += ["", "## Curtois & Qu (2014)", ""]
    cq = data.get("curtois_qu")
    if not cq:
        lines.append("Not run.")
    else:
        lines += [
            _measured(cq),
            "",
            "| instance | ours | best known | gap | violations | status | limit s | time s |",
            "|---|---:|---:|---:|---:|---|---:|---:|",
        ]
        for r in cq["rows"]:
            lines.append(
                f"| {r['instance']} | {_fmt(r['ours'])} | {r['best_known']} | {_fmt(r['gap'])} | "
                f"{r['violations']} | {r['status']} | {r['limit_s']:.0f} | {r['wall_s']} |"
            )
    return "\n".join(lines) + "\n"
