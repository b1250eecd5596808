"""``wfm staffing``: the Erlang staffing plan for one interval or a forecast file."""

from __future__ import annotations

import math
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from api.cli.common import app, out, reports_input_errors
from api.errors import InputError, Problem
from api.pipeline.demand import load_forecast_csv
from api.pipeline.plans import PLAN_HEADER, ChannelResult, fmt, plan_rows, write_plan_csv
from common.enums import ChannelKind
from forecast.schema import IntervalForecast, StaffingTargets
from forecast.staffing import PlanArrays, plan_arrays

_OPTION_OF_FIELD = {
    "kind": "--kind",
    "service_level": "--sl",
    "answer_seconds": "--answer",
    "max_occupancy": "--max-occupancy",
    "max_asa_seconds": "--max-asa",
    "shrinkage": "--shrinkage",
    "concurrency": "--concurrency",
    "patience_seconds": "--patience",
    "deadline_minutes": "--deadline",
    "overnight_deadline": "--overnight-deadline",
}


def _targets(**fields: Any) -> StaffingTargets:
    """Build the targets; pydantic errors become problems named by their command-line option."""
    try:
        return StaffingTargets(**fields)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else ""
            msg = str(e["msg"]).removeprefix("Value error, ")
            if not field and ":" in msg:
                field, msg = (s.strip() for s in msg.split(":", 1))
            option = _OPTION_OF_FIELD.get(field, field)
            got = f" (got {e['input']!r})" if field and "input" in e and e["loc"] else ""
            problems.append(Problem(option, msg + got))
        raise InputError(problems) from None


def _parse_clock(text: str, option: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputError.one(option, f"expected a time of day HH:MM, got {text!r}") from None


def _staffed_mask(window: str | None, starts: list[datetime]) -> list[bool] | None:
    """Intervals inside a daily window "HH:MM-HH:MM" (may wrap midnight); None = always."""
    if window is None:
        return None
    parts = window.split("-")
    if len(parts) != 2:
        raise InputError.one("--staffed", f"expected HH:MM-HH:MM, got {window!r}")
    a, b = (_parse_clock(p.strip(), "--staffed") for p in parts)
    lo, hi = a.hour * 60 + a.minute, b.hour * 60 + b.minute
    mask = []
    for s in starts:
        m = s.hour * 60 + s.minute
        inside = lo <= m < hi if lo < hi else (m >= lo or m < hi)
        mask.append(inside if lo != hi else True)
    return mask


@app.command()
@reports_input_errors
def staffing(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Forecast CSV (interval_start,volume,aht_seconds[,channel]); omit: one interval",
            show_default=False,
        ),
    ] = None,
    volume: Annotated[float | None, typer.Option(help="Contacts in the interval")] = None,
    aht: Annotated[float | None, typer.Option(help="Average handle time, seconds")] = None,
    interval: Annotated[
        int | None,
        typer.Option(help="Interval length, minutes (inferred from a file's timestamps)"),
    ] = None,
    sl: Annotated[float, typer.Option(help="Service-level target, share in (0, 1]")] = 0.8,
    answer: Annotated[float, typer.Option(help="Answer-time threshold, seconds")] = 20.0,
    max_occupancy: Annotated[float, typer.Option(help="Occupancy cap in (0, 1]")] = 1.0,
    max_asa: Annotated[float | None, typer.Option(help="Cap on ASA, seconds")] = None,
    shrinkage: Annotated[float, typer.Option(help="Shrinkage, share in [0, 1)")] = 0.0,
    patience: Annotated[
        float | None, typer.Option(help="Mean patience, seconds: use Erlang A (abandonment)")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Chats one agent holds at once")] = 1,
    deadline: Annotated[
        float | None, typer.Option(help="Deferred work: handle each item within this many minutes")
    ] = None,
    overnight_deadline: Annotated[
        str | None,
        typer.Option(help="Deferred work arriving while unstaffed is due by this time, HH:MM"),
    ] = None,
    staffed: Annotated[
        str | None,
        typer.Option(
            help="Deferred work: daily hours the channel is worked, HH:MM-HH:MM (default always)"
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the plan to this CSV file (file mode)")
    ] = None,
) -> None:
    """Agents needed per interval, with every intermediate (Erlang C/A, chat, deferred)."""
    kind = (
        ChannelKind.deferred
        if deadline is not None
        else ChannelKind.chat
        if concurrency > 1
        else ChannelKind.voice
    )
    problems: list[Problem] = []
    night = None
    try:
        if overnight_deadline is not None:
            night = _parse_clock(overnight_deadline, "--overnight-deadline")
        targets = _targets(
            kind=kind,
            service_level=sl,
            answer_seconds=answer,
            max_occupancy=max_occupancy,
            max_asa_seconds=max_asa,
            shrinkage=shrinkage,
            concurrency=concurrency,
            patience_seconds=patience,
            deadline_minutes=deadline,
            overnight_deadline=night,
        )
    except InputError as exc:
        problems += exc.problems
    if file is None:
        problems += _single_problems(volume, aht, interval)
    elif volume is not None or aht is not None:
        problems.append(
            Problem("--volume/--aht", "give either a forecast file or --volume and --aht, not both")
        )
    if problems:
        raise InputError(problems)
    if file is None:
        assert volume is not None and aht is not None and interval is not None
        _staffing_one(volume, aht, interval, targets)
    else:
        _staffing_file(file, interval, targets, staffed, out_file)


def _single_problems(
    volume: float | None, aht: float | None, interval: int | None
) -> list[Problem]:
    problems = []
    if volume is None or not math.isfinite(volume) or volume < 0:
        problems.append(Problem("--volume", f"expected a number >= 0, got {volume}"))
    if aht is None or not math.isfinite(aht) or aht <= 0:
        problems.append(Problem("--aht", f"expected a number of seconds > 0, got {aht}"))
    if interval is None or not 0 < interval <= 1440:
        problems.append(Problem("--interval", f"expected minutes in 1..1440, got {interval}"))
    return problems


def _staffing_one(volume: float, aht: float, interval: int, targets: StaffingTargets) -> None:
    plan = plan_arrays([volume], [aht], interval * 60.0, targets)
    table = Table(
        title=f"Staffing: {volume:g} contacts, AHT {aht:g} s, {interval}-min interval "
        f"({_model_name(targets)})",
        show_header=True,
    )
    table.add_column("step")
    table.add_column("value", justify="right")
    rows = [
        ("traffic (Erlangs)", fmt(plan.traffic_erlangs[0])),
        (f"agents ({_model_name(targets)})", str(plan.agents_erlang[0])),
        ("after occupancy cap", str(plan.agents_after_occupancy[0])),
        ("after shrinkage (to schedule)", str(plan.agents_required[0])),
        ("service level", _pct(plan.service_level[0])),
        ("ASA (s)", fmt(plan.asa_seconds[0], 1)),
        ("occupancy", _pct(plan.occupancy[0])),
    ]
    if targets.patience_seconds is not None:
        rows.append(("abandonment", _pct(plan.abandonment[0])))
    if targets.kind is ChannelKind.deferred:
        rows.append(("backlog at end (items)", fmt(plan.backlog_items[0], 1)))
    for r in rows:
        table.add_row(*r)
    out.print(table)


def _pct(x: float) -> str:
    return "" if not math.isfinite(float(x)) else f"{100 * float(x):.2f} %"


def _model_name(t: StaffingTargets) -> str:
    if t.kind is ChannelKind.deferred:
        return "deadlines"
    base = "Erlang A" if t.patience_seconds is not None else "Erlang C"
    return f"{base}, {t.concurrency} chats/agent" if t.concurrency > 1 else base


def _staffing_file(
    file: Path,
    interval: int | None,
    targets: StaffingTargets,
    staffed: str | None,
    out_file: Path | None,
) -> None:
    if interval is not None and not 0 < interval <= 1440:
        raise InputError.one("--interval", f"expected minutes in 1..1440, got {interval}")
    forecasts = load_forecast_csv(file, interval, fill_gaps=targets.kind is ChannelKind.deferred)
    results = [ChannelResult(ch, fc, _plan(fc, targets, staffed)) for ch, fc in forecasts.items()]
    if out_file is None:
        out.print(",".join(PLAN_HEADER), highlight=False, soft_wrap=True)
        for r in results:
            for row in plan_rows(r):
                out.print(",".join(row), highlight=False, soft_wrap=True)
        return
    write_plan_csv(out_file, results)
    summary = Table(title=f"Staffing plan from {file} ({_model_name(targets)})")
    for col in (
        "channel",
        "intervals",
        "volume",
        "peak traffic",
        "peak to schedule",
        "agent-hours to schedule",
        "service level",
    ):
        summary.add_column(col, justify="right" if col != "channel" else "left")
    for r in results:
        sl = r.service_level
        summary.add_row(
            r.channel,
            str(len(r.forecast.volume)),
            fmt(r.total_volume, 1),
            fmt(r.plan.traffic_erlangs.max(), 2),
            str(int(r.plan.agents_required.max())),
            fmt(r.agent_hours, 1),
            "" if sl is None else _pct(sl),
        )
    out.print(summary)
    out.print(f"Plan written to {out_file}")


def _plan(fc: IntervalForecast, targets: StaffingTargets, staffed: str | None) -> PlanArrays:
    start = fc.interval_start[0]
    try:
        return plan_arrays(
            fc.volume,
            fc.aht_seconds,
            fc.interval_minutes * 60.0,
            targets,
            _staffed_mask(staffed, fc.interval_start),
            start.hour * 3600.0 + start.minute * 60.0,
        )
    except ValueError as exc:  # e.g. deferred work due while nobody may work
        raise InputError.one("staffing", str(exc)) from None
