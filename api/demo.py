"""`make demo`: the staffing calculator end to end on the example week (three channels).

Reads examples/forecast_week.csv, computes the staffing plan of every channel with its own
targets (phone: Erlang C; chat: 3 chats per agent; messages: 60-minute deadline with the
overnight backlog due by 10:00), writes demo-output/staffing_plan.csv and prints a summary.
The full scenario (rosters, reports) replaces this once the solver and scenario layer exist.
"""

from __future__ import annotations

import sys
from datetime import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from api.demand import load_forecast_csv
from api.errors import InputError
from api.plans import ChannelResult, write_plan_csv
from forecast.schema import ChannelKind, StaffingTargets
from forecast.staffing import plan_arrays

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "forecast_week.csv"
OUT = ROOT / "demo-output"

TARGETS = {
    "phone": StaffingTargets(
        kind=ChannelKind.voice,
        service_level=0.8,
        answer_seconds=20,
        max_occupancy=0.85,
        shrinkage=0.3,
    ),
    "chat": StaffingTargets(
        kind=ChannelKind.chat,
        concurrency=3,
        service_level=0.9,
        answer_seconds=5,
        max_occupancy=0.85,
        shrinkage=0.3,
    ),
    "messages": StaffingTargets(
        kind=ChannelKind.deferred,
        service_level=None,
        deadline_minutes=60,
        overnight_deadline=time(10, 0),
        shrinkage=0.3,
    ),
}
MESSAGES_STAFFED = (7, 22)  # hours in which agents may work messages
MODEL_NAMES = {
    ChannelKind.voice: "Erlang C, 80 % in 20 s",
    ChannelKind.chat: "Erlang C on 3 chats/agent, 90 % in 5 s",
    ChannelKind.deferred: "deadline 60 min, night backlog by 10:00",
}


def main() -> int:
    console = Console()
    try:
        forecasts = load_forecast_csv(EXAMPLE)
    except InputError as exc:
        for problem in exc.problems:
            console.print(f"[red]error[/red] {problem}")
        return 2
    table = Table(title="Staffing plan, week of 2026-12-07 (examples/forecast_week.csv)")
    for col in (
        "channel",
        "model",
        "contacts",
        "peak to schedule",
        "agent-hours to schedule",
        "service level",
    ):
        table.add_column(col, justify="left" if col in ("channel", "model") else "right")
    results = []
    for channel, fc in forecasts.items():
        t = TARGETS[channel]
        staffed = None
        if t.kind is ChannelKind.deferred:
            lo, hi = MESSAGES_STAFFED
            staffed = [lo <= s.hour < hi for s in fc.interval_start]
        r = ChannelResult(
            channel,
            fc,
            plan_arrays(fc.volume, fc.aht_seconds, fc.interval_minutes * 60.0, t, staffed),
        )
        results.append(r)
        table.add_row(
            channel,
            MODEL_NAMES[t.kind],
            f"{r.total_volume:,.0f}",
            str(int(r.plan.agents_required.max())),
            f"{r.agent_hours:,.0f}",
            f"{r.service_level or 0:.1%}",
        )
    out = OUT / "staffing_plan.csv"
    write_plan_csv(out, results)
    console.print(table)
    console.print(f"Staffing plan (every interval, every intermediate): [bold]{out}[/bold]")
    console.print("Rosters and the HTML report are not built yet (see README).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
