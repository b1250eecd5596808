"""Roster solver benchmark: generated weekly centres at 50, 200, 500 and 1,000 agents, and a
one-channel week against pyworkforce's scheduler on the same demand.

Per size: status, objective, best bound, gap, wall time, hard-rule violations found by the
validator, under- and over-cover in agent-hours (voice and chat; deferred work overdue is in the
objective). ``python -m benchmarks.run roster`` (part of ``make bench``).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from typing import Any

import numpy as np

from benchmarks.common import FirstValid, machine, triples, write_result
from benchmarks.demand import intraday_shape
from benchmarks.roster_gen import START, generate_problem
from forecast.erlang import required_agents
from solver.options import SolveOptions
from solver.schema import Agent, Channel, Contract, RosterProblem, ShiftType, Weights
from solver.solve import solve
from solver.validate import validate

SIZES = ((50, 60.0), (200, 60.0), (500, 120.0), (1000, 300.0))
HORIZONS = "60:14:150,60:28:300,200:14:450,200:28:900"
"""agents:days:limit of the longer horizons (``WFM_ROSTER_HORIZONS`` overrides it; ``none``
skips them), each solved in its own process so that its peak memory is its own."""


def _horizons() -> list[tuple[int, int, float]]:
    spec = os.environ.get("WFM_ROSTER_HORIZONS", HORIZONS)
    return [] if spec.strip().lower() == "none" else triples(spec)


def _horizon_row(n: int, days: int, limit: float) -> dict[str, Any]:
    """One longer horizon, in a child process: the row, the first valid roster's time and the
    process's peak resident memory."""
    first = FirstValid()
    row = _run_one(generate_problem(n, seed=1, days=days), limit, first)
    valid = row["status"] in ("optimal", "feasible") and row["violations"] == 0
    row["days"] = days
    row["first_valid_s"] = None if first.at is None or not valid else round(first.at, 1)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return row


def _run_one(problem: RosterProblem, limit: float, progress: Any = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = solve(problem, SolveOptions(time_limit_s=limit, workers=2, seed=0), progress)
    wall = time.perf_counter() - t0
    val = validate(problem, list(r.assignments))
    slot_h = problem.slot_minutes / 60.0
    deferred = {c.id for c in problem.channels if c.kind.value == "deferred"}
    under = sum(row.under for row in val.coverage if row.channel not in deferred) * slot_h
    over = sum(row.over for row in val.coverage if row.channel not in deferred) * slot_h
    return {
        "agents": len(problem.agents),
        "limit_s": limit,
        "status": r.status.value,
        "objective": r.objective,
        "best_bound": r.best_bound,
        "gap": r.gap,
        "wall_s": round(wall, 1),
        "violations": len(val.violations),
        "under_agent_hours": round(under, 2),
        "over_agent_hours": round(over, 2),
        "phases": r.phases,
        "message": r.message[:300],
    }


def _one_channel_week() -> tuple[RosterProblem, dict[str, list[int]], np.ndarray]:
    """Phone only, 15-min slots, 8-hour and 4-hour shifts without breaks (pyworkforce's model),
    demand from Erlang C on a bank profile; agents flexible enough not to bind."""
    slot, days = 15, 7
    per_day = 1440 // slot
    minutes = np.arange(days * per_day) % per_day * slot + slot / 2
    weekday = (START.weekday() + np.arange(days * per_day) // per_day) % 7
    week = np.array([1.15, 1.05, 1.0, 0.98, 1.02, 0.55, 0.40])[weekday]
    volume = intraday_shape(minutes) * week * 215.0
    req = required_agents(volume, 300.0, slot * 60.0, 0.8, 20.0)
    req[(minutes < 6 * 60) | (minutes >= 22 * 60)] = 0  # day centre, 06:00-22:00
    types = (
        ShiftType(
            id="full",
            start_earliest=360,
            start_latest=840,
            start_step=30,
            length_min=480,
            length_max=480,
        ),
        ShiftType(
            id="half",
            start_earliest=540,
            start_latest=1080,
            start_step=60,
            length_min=240,
            length_max=240,
        ),
    )
    contract = Contract(id="flex", hours_min=0, hours_max=56)
    n_agents = int(req.reshape(days, per_day).max(axis=1).sum() // 5 * 2 + 40)
    agents = tuple(
        Agent(id=f"F{i:04d}", contract="flex", skills=("phone",)) for i in range(n_agents)
    )
    problem = RosterProblem(
        name="one-channel-week",
        horizon_start=START,
        days=days,
        slot_minutes=slot,
        channels=(Channel(id="phone", required=tuple(int(x) for x in req)),),
        shift_types=types,
        contracts=(contract,),
        agents=agents,
        weights=Weights(
            under_cover=1, over_cover=1, fairness=0, preference=0, consecutive_days_off=0
        ),
    )
    coverage: dict[str, list[int]] = {}
    for t in types:
        for s in t.starts:
            cov = [0] * per_day
            for m in range(s, s + t.length_min, slot):
                cov[m // slot] = 1
            coverage[f"{t.id}@{s // 60:02d}:{s % 60:02d}"] = cov
    return problem, coverage, req.reshape(days, per_day)


def _pyworkforce(coverage: dict[str, list[int]], req: np.ndarray, limit: float) -> dict[str, Any]:
    try:
        from pyworkforce.scheduling import MinAbsDifference
    except ImportError as exc:
        return {"error": f"pyworkforce not installed ({exc})"}
    t0 = time.perf_counter()
    sched = MinAbsDifference(
        num_days=req.shape[0],
        periods=req.shape[1],
        shifts_coverage=coverage,
        required_resources=req.tolist(),
        max_period_concurrency=int(req.max() * 3 + 10),
        max_shift_concurrency=int(req.max() * 2 + 10),
        max_search_time=float(limit),
        num_search_workers=2,
    )
    sol = sched.solve()
    wall = time.perf_counter() - t0
    names = list(coverage)
    have = np.zeros_like(req)
    for row in sol.get("resources_shifts", []):
        have[row["day"]] += row["resources"] * np.asarray(coverage[row["shift"]])
    return {
        "status": sol.get("status"),
        "wall_s": round(wall, 1),
        "under_slots": int(np.maximum(req - have, 0).sum()),
        "over_slots": int(np.maximum(have - req, 0).sum()),
        "shifts": len(names),
    }


def run() -> dict[str, Any]:
    rows = []
    for n, limit in SIZES:
        print(f"-- {n} agents, {limit:g} s", flush=True)
        rows.append(_run_one(generate_problem(n, seed=1), limit))
        print(rows[-1], flush=True)
    long_rows = []
    spawn = multiprocessing.get_context("spawn")
    for n, days, limit in _horizons():
        print(f"-- {n} agents, {days} days, {limit:g} s", flush=True)
        with spawn.Pool(1) as pool:
            long_rows.append(pool.apply(_horizon_row, (n, days, limit)))
        print(long_rows[-1], flush=True)
    problem, coverage, req = _one_channel_week()
    ours = _run_one(problem, 60.0)
    ours_slots = {
        "under_slots": round(ours["under_agent_hours"] * 4),
        "over_slots": round(ours["over_agent_hours"] * 4),
    }
    theirs = _pyworkforce(coverage, req, 60.0)
    data = {
        "machine": machine(),
        "command": "make bench (python -m benchmarks.run roster)",
        "sizes": rows,
        "horizons": long_rows,
        "one_channel": {
            "required_agent_slots": int(req.sum()),
            "ours": ours,
            "ours_slots": ours_slots,
            "pyworkforce": theirs,
        },
    }
    m = data["machine"]
    lines = [
        "# Roster solver: generated weekly centres",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; commit {m['commit']}, "
        f"{m['date']}. Command: `{data['command']}`. Problems: benchmarks/roster_gen.py, seed 1 "
        "(15-min slots, phone + chat + deferred messages, ~30 % multi-skilled, night shifts, "
        "breaks and lunch, ~5 % of agent-days on leave, requested leave, training, team leads "
        "around the clock, phone floors). Solver: 2 workers, seed 0.",
        "",
        "| agents | limit | status | objective | best bound | gap | wall | violations | "
        "under (agent-h) | over (agent-h) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        gap = "-" if r["gap"] is None else f"{100 * r['gap']:.1f} %"
        lines.append(
            f"| {r['agents']:,} | {r['limit_s']:g} s | {r['status']} | {r['objective']} | "
            f"{r['best_bound']} | {gap} | {r['wall_s']} s | {r['violations']} | "
            f"{r['under_agent_hours']} | {r['over_agent_hours']} |"
        )
    if long_rows:
        lines += [
            "",
            "## Longer horizons (the same generator over 14 and 28 days, each in its own process)",
            "",
            "| agents | days | limit | status | first valid | objective | best bound | gap | "
            "wall | violations | peak memory |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in long_rows:
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.1f} %"
            first = "-" if r["first_valid_s"] is None else f"{r['first_valid_s']} s"
            lines.append(
                f"| {r['agents']:,} | {r['days']} | {r['limit_s']:g} s | {r['status']} | "
                f"{first} | {r['objective']} | {r['best_bound']} | {gap} | {r['wall_s']} s | "
                f"{r['violations']} | {r['peak_rss_mb']:,} MB |"
            )
    lines += [
        "",
        "## One-channel week vs pyworkforce (same demand, same shifts, no breaks)",
        "",
        f"Requirement: {int(req.sum()):,} agent-slots (15 min). pyworkforce `MinAbsDifference` "
        "minimises |scheduled - required| with shift counts per day and no agent rules; ours "
        "rosters named agents (flexible contracts) with under and over weighted 1:1.",
        "",
        "| solver | status | under (agent-slots) | over (agent-slots) | wall |",
        "|---|---|---|---|---|",
        f"| this project | {ours['status']} | {ours_slots['under_slots']} | "
        f"{ours_slots['over_slots']} | {ours['wall_s']} s |",
    ]
    if "error" in theirs:
        lines.append(f"| pyworkforce | not run: {theirs['error']} | | | |")
    else:
        lines.append(
            f"| pyworkforce {theirs['shifts']} shifts | {theirs['status']} | "
            f"{theirs['under_slots']} | {theirs['over_slots']} | {theirs['wall_s']} s |"
        )
    lines.append("")
    md = write_result("roster", data, "\n".join(lines))
    print("\n".join(lines))
    print(f"(written to {md})")
    return data


if __name__ == "__main__":
    run()
