"""Sweep benchmark (issue 23): a 24-variant sweep of the base week through Ray against one
variant after another in one process, with a short limit per variant.

The variants: phone service-level target 0.75 / 0.80 / 0.85 / 0.90 x volume 0.9 / 1.0 / 1.1 x
part-timers as they are or 4 fewer, each solved with one CP-SAT thread for ``WFM_SWEEP_LIMIT``
seconds (default 5). Three runs into fresh folders: in this process one after another (no Ray),
and on a local Ray as many at a time as there are cores. Ray's overhead per variant is
measured per task: the time from submitting it to its output files written by the driver, less
the task's own time (shipping the prepared problem and the outputs, scheduling). Per run: the
wall time, the solver's own time summed, and the time per variant beyond
the solver's (preparing, reporting and, on Ray, the transport). Target: Ray's overhead under
1 s per variant. ``python -m benchmarks.run sweep`` (about 20 minutes on 2 cores: the base week's
solver overruns a 5 s limit several times over with one thread).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from api.sweep.engine import SweepOutcome, prepare_variants, ray_session, run_sweep
from api.sweep.spec import SweepPlan, load_sweep
from benchmarks.common import machine, write_result

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"


def _plan(folder: Path, limit: float) -> SweepPlan:
    path = folder / "sweep.yaml"
    path.write_text(
        f"base: {BASE}\nname: base week, 24 what-ifs\ntime_limit_seconds: {limit:g}\naxes:\n"
        "  channels[phone].service_level.target: [0.75, 0.80, 0.85, 0.90]\n"
        "  channels[*].demand.volume_scale: [0.9, 1.0, 1.1]\n"
        "  headcount[part_time]: [0, -4]\n",
        encoding="utf-8",
    )
    return load_sweep(path)


def _measure(name: str, o: SweepOutcome, wall: float) -> dict[str, Any]:
    solver = sum(float(r.summary.get("wall_time_s") or 0.0) for r in o.rows)
    n = len(o.rows)
    statuses: dict[str, int] = {}
    for r in o.rows:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    ray = [r.overhead_s for r in o.rows if r.overhead_s is not None]
    return {
        "ray_overhead_mean_s": round(sum(ray) / len(ray), 3) if ray else None,
        "ray_overhead_max_s": round(max(ray), 3) if ray else None,
        "run": name,
        "variants": n,
        "parallel": o.parallel,
        "workers": o.workers,
        "wall_s": round(wall, 1),
        "solver_s": round(solver, 1),
        "beyond_solver_per_variant_s": round((wall * o.parallel - solver) / n, 2),
        "statuses": statuses,
        "front": sum(1 for r in o.rows if r.pareto),
    }


def run() -> dict[str, Any]:
    limit = float(os.environ.get("WFM_SWEEP_LIMIT", "5"))
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = _plan(folder, limit)
        t = time.perf_counter()
        prepared = prepare_variants(plan)
        prepare_s = time.perf_counter() - t
        runs = []
        t = time.perf_counter()
        seq = run_sweep(plan, folder / "seq", workers=1, use_ray=False, prepared=prepared)
        runs.append(_measure("one process, one after another", seq, time.perf_counter() - t))
        print(runs[-1])
        for jobs, label in ((cores, f"Ray, {cores} at a time"),):
            t = time.perf_counter()
            with ray_session(None):
                start_s = time.perf_counter() - t
                t1 = time.perf_counter()
                o = run_sweep(plan, folder / f"ray{jobs}", jobs=jobs, workers=1, prepared=prepared)
                wall = time.perf_counter() - t1
            m = _measure(label, o, wall)
            m["ray_start_s"] = round(start_s, 1)
            m["with_ray_start_and_stop_s"] = round(time.perf_counter() - t, 1)
            runs.append(m)
            print(m)
    seq_m, many = runs
    overhead = float(many["ray_overhead_mean_s"] or 0.0)
    with_start = overhead + many["ray_start_s"] / many["variants"]
    data = {
        "machine": machine(),
        "limit_s": limit,
        "prepare_all_s": round(prepare_s, 2),
        "runs": runs,
        "ray_overhead_per_variant_s": round(overhead, 2),
        "ray_overhead_per_variant_with_start_s": round(with_start, 2),
        "ray_overhead_max_s": many["ray_overhead_max_s"],
        "speedup": round(seq_m["wall_s"] / many["wall_s"], 2),
    }
    mc = data["machine"]
    lines = [
        "# Sweep benchmark (issue 23)",
        "",
        f"Machine: {mc['cpu']}, {mc['cores']} cores, Python {mc['python']}, commit "
        f"{mc['commit']}, {mc['date']}. Command: `python -m benchmarks.run sweep` "
        f"(`WFM_SWEEP_LIMIT={limit:g}`).",
        "",
        f"24 variants of `scenarios/base.yaml` (phone target 0.75-0.90 x volume 0.9-1.1 x "
        f"part-timers 0 / -4), {limit:g} s and one CP-SAT thread each; the 24 variants "
        f"prepared once up front in {prepare_s:.1f} s (not in the runs below).",
        "",
        "| run | at a time | wall (s) | solver (s, summed) | beyond the solver per variant (s) "
        "| statuses | on the front |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in runs:
        st = ", ".join(f"{k} {v}" for k, v in sorted(m["statuses"].items()))
        lines.append(
            f"| {m['run']} | {m['parallel']} | {m['wall_s']} | {m['solver_s']} | "
            f"{m['beyond_solver_per_variant_s']} | {st} | {m['front']} |"
        )
    lines += [
        "",
        f"Ray's overhead per variant (from submitting a task to its files written by the "
        f"driver, less the task's own time; mean over the 24): **{overhead:.3f} s** (max "
        f"{many['ray_overhead_max_s']} s; target < 1 s); with the local Ray's start "
        f"({many['ray_start_s']} s) spread over the variants: {with_start:.2f} s. "
        f"Ray with {cores} at a time: {data['speedup']}x faster than the process "
        f"({seq_m['wall_s']} s / {many['wall_s']} s).",
        "",
        "'beyond the solver' is (wall x at a time - the solver's summed time) / variants: "
        "preparing the solve, evaluating, writing every output (XLSX, calendars, report) and, "
        "on Ray, shipping the prepared problem and the output files. With one thread and "
        f"{limit:g} s the base week often ends without a roster (README: the 60-agent week "
        "needs both cores); the timing is what this measures. Other work on the machine while "
        "it ran makes the numbers vary by some seconds.",
        "",
    ]
    md = write_result("sweep", data, "\n".join(lines))
    print(f"wrote {md}")
    return data
