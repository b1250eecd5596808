"""Erlang C staffing for a year of 15-minute intervals: this project vs pyworkforce.

Both compute the smallest number of agents reaching 80 % of calls answered in 20 s on the same
35,040 intervals (a seeded year of realistic bank volumes and handle times). Reported: wall time
of one vectorised call (best and median of repeats) against pyworkforce's per-interval ErlangC,
and the number of intervals where the two disagree.
"""

from __future__ import annotations

import statistics
import time
from datetime import datetime
from typing import Any

import numpy as np

from benchmarks.common import machine, write_result
from benchmarks.demand import generate
from forecast.erlang import required_agents

INTERVAL_MIN = 15
SL, ANSWER_S = 0.8, 20.0


SIZES = (  # calls per day of a year of 15-min intervals: small, medium, large centre
    ("small", 1_500),
    ("medium", 5_200),
    ("large", 20_000),
)


def year_of_demand(daily_volume: float) -> tuple[np.ndarray, np.ndarray]:
    _, volume, aht = generate(
        datetime(2025, 1, 1), 365, INTERVAL_MIN, daily_volume=daily_volume, aht_s=290, seed=2025
    )
    aht = np.where(volume > 0, aht, 290.0)
    return volume, aht


def time_ours(
    volume: np.ndarray, aht: np.ndarray, repeats: int = 50
) -> tuple[np.ndarray, list[float]]:
    required_agents(volume, aht, INTERVAL_MIN * 60.0, SL, ANSWER_S)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = required_agents(volume, aht, INTERVAL_MIN * 60.0, SL, ANSWER_S)
        times.append(time.perf_counter() - t0)
    return n, times


def time_pyworkforce(
    volume: np.ndarray, aht: np.ndarray
) -> tuple[np.ndarray | None, float | None, str]:
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError as exc:  # the bench extra is not installed
        return None, None, f"pyworkforce not installed ({exc})"
    out = np.zeros(volume.size, dtype=np.int64)
    t0 = time.perf_counter()
    for i, (v, h) in enumerate(zip(volume, aht, strict=True)):
        if v <= 0:
            continue  # pyworkforce rejects zero volume; zero agents
        erlang = ErlangC(
            transactions=float(v), aht=float(h) / 60.0, asa=ANSWER_S / 60.0, interval=INTERVAL_MIN
        )
        out[i] = erlang.required_positions(service_level=SL)["raw_positions"]
    return out, time.perf_counter() - t0, "pyworkforce " + _version()


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pyworkforce")
    except Exception:  # metadata missing: report unknown rather than fail the benchmark
        return "?"


def run() -> dict[str, Any]:
    rows = []
    label = ""
    for size, daily in SIZES:
        volume, aht = year_of_demand(daily)
        ours, times = time_ours(volume, aht)
        theirs, their_time, label = time_pyworkforce(volume, aht)
        best, median = min(times), statistics.median(times)
        row: dict[str, Any] = {
            "size": size,
            "calls_per_day": daily,
            "intervals": int(volume.size),
            "calls": float(volume.sum()),
            "peak_erlangs": float((volume * aht / (INTERVAL_MIN * 60)).max()),
            "ours_best_s": best,
            "ours_median_s": median,
            "pyworkforce_s": their_time,
            "disagreements": None if theirs is None else int((theirs != ours).sum()),
            "speedup_best": None if their_time is None else their_time / best,
            "speedup_median": None if their_time is None else their_time / median,
        }
        if size == "medium":
            t0 = time.perf_counter()
            ours_a = required_agents(
                volume, aht, INTERVAL_MIN * 60.0, SL, ANSWER_S, patience_s=120.0
            )
            row["erlang_a_s"] = time.perf_counter() - t0
            row["erlang_a_agent_intervals"] = int(ours_a.sum())
            row["erlang_c_agent_intervals"] = int(ours.sum())
        rows.append(row)
    data: dict[str, Any] = {
        "machine": machine(),
        "command": "make bench (python -m benchmarks.run erlang)",
        "target": f"{SL:.0%} of calls answered in {ANSWER_S:g} s, 15-min intervals",
        "competitor": label,
        "rows": rows,
    }
    m = data["machine"]
    lines = [
        "# Erlang C staffing: a year of 15-minute intervals (35,040)",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; commit {m['commit']}, "
        f"{m['date']}. Command: `{data['command']}`. Target: {data['target']}. Volumes: seeded "
        "retail-bank profile (benchmarks/demand.py). Ours: one vectorised `required_agents` call, "
        "best and median of 50. Theirs: " + label + " `ErlangC.required_positions` per interval.",
        "",
        "| centre | calls/day | peak Erlangs | ours best | ours median | pyworkforce | "
        "speed-up (best / median) | intervals disagreeing |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        theirs_txt = "not run" if r["pyworkforce_s"] is None else f"{r['pyworkforce_s']:.2f} s"
        speed = (
            "-"
            if r["speedup_best"] is None
            else f"{r['speedup_best']:.0f}x / {r['speedup_median']:.0f}x"
        )
        lines.append(
            f"| {r['size']} | {r['calls_per_day']:,} | {r['peak_erlangs']:.0f} | "
            f"{r['ours_best_s'] * 1e3:.1f} ms | {r['ours_median_s'] * 1e3:.1f} ms | {theirs_txt} | "
            f"{speed} | {r['disagreements']} |"
        )
    med = next(r for r in rows if r["size"] == "medium")
    lines += [
        "",
        f"Erlang A (patience 120 s), medium centre: {med['erlang_a_s']:.2f} s for the "
        f"year ({med['erlang_a_agent_intervals']:,} agent-intervals vs "
        f"{med['erlang_c_agent_intervals']:,} under Erlang C).",
        "",
    ]
    md = write_result("erlang", data, "\n".join(lines))
    print("\n".join(lines))
    print(f"(written to {md})")
    return data


if __name__ == "__main__":
    run()
