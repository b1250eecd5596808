"""`make demo`: the base scenario end to end: forecast files -> staffing -> roster -> reports.

Runs ``scenarios/base.yaml`` (a 7x24 centre: phone, chat with 3 chats per agent, messages with a
1-hour deadline and the overnight backlog by 10:00; 60 agents) with a time limit that keeps the
whole run under two minutes on 2 cores, writes every output into ``demo-output/``, prints
where the HTML report is, and stores the solve in the web workspace's database (``wfm serve``
then opens its roster at the printed address).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from api.cli.roster import outcome_table, solve_to_folder
from api.errors import InputError
from api.settings import Settings
from api.store.publish import publish_solve

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
    # the same solve in the web workspace: stored in the service's database as a finished
    # solve of the scenario (a workspace that cannot be written to is reported, not fatal)
    (OUT / "result.json").write_text(outcome.result.model_dump_json(), encoding="utf-8")
    try:
        settings = Settings()
        job_id = publish_solve(settings, SCENARIO, OUT)
        where = settings.effective_database_url
    except (InputError, OSError, SQLAlchemyError, ValidationError) as exc:
        console.print(f"[yellow]note[/yellow]: not stored in the workspace ({escape(str(exc))})")
        job_id = None
    if job_id is not None:
        console.print(
            f"In the web workspace (stored in {where}): run "
            'WFM_API_KEYS=\'{"plan-key-1": "planner"}\' .venv/bin/wfm serve, open '
            f"[bold]http://127.0.0.1:8000/ui/solves/{job_id}/roster[/bold] and sign in with "
            "plan-key-1 (docs/workspace.md)",
            highlight=False,
        )
    return 0 if outcome.result.status.value in ("optimal", "feasible") else 1


if __name__ == "__main__":
    sys.exit(main())
