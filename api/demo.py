"""`make demo`: the base scenario end to end: forecast files -> staffing -> roster -> reports.

Runs ``scenarios/base.yaml`` (a 7x24 centre: phone, chat with 3 chats per agent, messages with a
1-hour deadline and the overnight backlog by 10:00; 60 agents) with a time limit that keeps the
whole run under two minutes on 2 cores, writes every output into ``demo-output/`` and prints
where the HTML report is.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from api.cli.roster import outcome_table, solve_to_folder
from api.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "base.yaml"
OUT = ROOT / "demo-output"
TIME_LIMIT_S = 75.0  # solver limit; loading, staffing and reports take a few seconds more


def main() -> int:
    console = Console()
    t0 = time.perf_counter()
    console.print(f"Solving {SCENARIO.relative_to(ROOT)} (time limit {TIME_LIMIT_S:g} s) ...")
    try:
        outcome, summary = solve_to_folder(SCENARIO, OUT, TIME_LIMIT_S)
    except InputError as exc:
        for problem in exc.problems:
            console.print(f"[red]error[/red] {escape(str(problem))}")
        return 2
    console.print(outcome_table(outcome, summary))
    for note in outcome.prepared.notes:
        console.print(f"note: {note}", highlight=False)
    if outcome.violations:
        console.print(
            f"[red]warning[/red]: {len(outcome.violations)} hard-rule violations "
            "found by the validator (see summary.json)"
        )
    console.print(
        f"Done in {time.perf_counter() - t0:.0f} s. Outputs: {OUT}/ "
        "(summary.json, roster.csv, activities.csv, coverage.csv, leave_decisions.csv, "
        "staffing_plan.csv, roster.xlsx, calendars/)",
        highlight=False,
    )
    console.print(
        f"Open the report in a browser: [bold]{OUT / 'report.html'}[/bold]", highlight=False
    )
    console.print(
        'Or the web workspace: WFM_API_KEYS=\'{"plan-key-1": "planner"}\' .venv/bin/wfm serve, '
        "then open http://127.0.0.1:8000/ and sign in with plan-key-1 (docs/workspace.md)",
        highlight=False,
    )
    return 0 if outcome.result.status.value in ("optimal", "feasible") else 1


if __name__ == "__main__":
    sys.exit(main())
