"""``wfm forecast`` and ``wfm backtest``: forecasts from a history file, and their accuracy.

Registered on the ``wfm`` app by the import at the end of ``api/cli.py``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from api.cli.common import app, err, out, reports_input_errors
from api.errors import InputError, Problem
from api.pipeline.history import load_history_csv, load_special_days_csv
from api.reports.backtest_plot import plot_backtest
from api.scenario.csvio import atomic_write, write_csv
from forecast.backtest import (
    WEEKDAYS,
    BacktestResult,
    BacktestSettings,
    backtest,
    backtest_handle_time,
    origins,
)
from forecast.calendar import SpecialCalendar, SpecialDate
from forecast.from_history import QueueForecast, forecast_queues
from forecast.history import DEFAULT_QUEUE, QueueHistory, resolve_timezone
from forecast.select import MODEL_NAMES, make_model

FORECAST_HEADER = ("interval_start", "volume", "aht_seconds")
DEFAULT_BACKTEST_MODELS = ("seasonal_naive", "profile", "ets", "combined")

HolidaysOpt = Annotated[
    str | None,
    typer.Option(
        "--holidays",
        help="Country of the public holidays (ISO code: US, GB, DE, IL ...); none by default",
    ),
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Region of that country (e.g. CA for US-CA)")
]
SpecialDateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--special-date",
        help="A special date, YYYY-MM-DD or YYYY-MM-DD=FACTOR (volume vs a normal day); "
        "repeat for several",
    ),
]
SpecialDaysOpt = Annotated[
    Path | None,
    typer.Option("--special-days", help="CSV of special dates: date[,name][,factor]"),
]
TimezoneOpt = Annotated[
    str | None,
    typer.Option(
        "--timezone",
        help="IANA time zone of the centre: converts timestamps with a UTC offset, accepts the "
        "repeated hour of a daylight-saving change",
    ),
]


def _special_dates(values: Sequence[str] | None, file: Path | None) -> list[SpecialDate]:
    out: list[SpecialDate] = [] if file is None else load_special_days_csv(file)
    problems = []
    for text in values or ():
        day_text, _, factor_text = text.partition("=")
        try:
            day = date.fromisoformat(day_text.strip())
            factor = float(factor_text) if factor_text else None
            if factor is not None and not factor > 0:
                raise ValueError
        except ValueError:
            problems.append(
                Problem("--special-date", f"expected YYYY-MM-DD or YYYY-MM-DD=FACTOR, got {text!r}")
            )
            continue
        out.append(SpecialDate(date=day, factor=factor))
    if problems:
        raise InputError(problems)
    return out


def _calendar(
    country: str | None, region: str | None, special: list[SpecialDate]
) -> SpecialCalendar:
    try:
        return SpecialCalendar(country, region, special)
    except ValueError as exc:
        option = "--region" if str(exc).startswith(("unknown region", "region")) else "--holidays"
        raise InputError.one(option, str(exc)) from None


def _special_and_calendar(
    special_date: Sequence[str] | None,
    special_days: Path | None,
    holidays: str | None,
    region: str | None,
    problems: list[Problem],
) -> tuple[list[SpecialDate], SpecialCalendar | None]:
    """The user's special dates and the calendar; problems are collected, not raised."""
    special: list[SpecialDate] = []
    try:
        special = _special_dates(special_date, special_days)
    except InputError as exc:
        problems += exc.problems
    try:
        return special, _calendar(holidays, region, special)
    except InputError as exc:
        problems += exc.problems
        return special, None


def _special_days(calendar: SpecialCalendar) -> str:
    """The calendar in a table title: "IL special days", "no special days"."""
    described = calendar.describe()
    return "no special days" if described == "none" else f"{described} special days"


def _load(
    path: Path, timezone: str | None, problems: list[Problem]
) -> dict[str, QueueHistory] | None:
    """The history file, its problems added to ``problems`` (not read with a bad time zone)."""
    if any(p.where == "--timezone" for p in problems):
        return None
    try:
        return load_history_csv(path, timezone)
    except InputError as exc:
        problems += exc.problems
        return None


def _timezone(name: str | None) -> None:
    try:
        resolve_timezone(name)
    except ValueError as exc:
        raise InputError.one("--timezone", str(exc)) from None


def _model_option(name: str, option: str = "--model") -> str:
    if name not in MODEL_NAMES:
        raise InputError.one(
            option, f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}"
        )
    return name


def _parse_start(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError.one(
            "--start", f"expected a date like 2026-12-07 (or 2026-12-07T08:00), got {text!r}"
        ) from None


def _forecast_rows(result: dict[str, QueueForecast]) -> list[list[str]]:
    several = len(result) > 1 or next(iter(result)) != DEFAULT_QUEUE
    rows = []
    for name, q in result.items():
        fc = q.forecast
        for t, v, h in zip(fc.interval_start, fc.volume, fc.aht_seconds, strict=True):
            row = [t.isoformat(timespec="minutes"), f"{v:.3f}", f"{h:.1f}"]
            rows.append([*row, name] if several else row)
    return rows


@app.command()
@reports_input_errors
def forecast(
    history: Annotated[
        Path,
        typer.Argument(
            help="History CSV: interval_start,offered,handle_time_seconds[,queue][,handled]",
            show_default=False,
        ),
    ],
    start: Annotated[str, typer.Option(help="First day (or date-time) to forecast")],
    days: Annotated[int, typer.Option(help="Number of days to forecast")] = 7,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Forecast CSV to write (interval_start,volume,aht_seconds)"),
    ] = None,
    model: Annotated[str, typer.Option(help=f"Volume model: {', '.join(MODEL_NAMES)}")] = "auto",
    interval: Annotated[
        int | None,
        typer.Option(help="Interval of the forecast, minutes (a multiple of the history's)"),
    ] = None,
    holidays: HolidaysOpt = None,
    region: RegionOpt = None,
    special_date: SpecialDateOpt = None,
    special_days: SpecialDaysOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Forecast volume and handle time per interval from a history file."""
    problems: list[Problem] = []
    first: datetime | None = None
    for check in (lambda: _model_option(model), lambda: _timezone(timezone)):
        try:
            check()
        except InputError as exc:
            problems += exc.problems
    try:
        first = _parse_start(start)
    except InputError as exc:
        problems += exc.problems
    if not 1 <= days <= 366:
        problems.append(Problem("--days", f"expected 1..366 days, got {days}"))
    special, calendar = _special_and_calendar(
        special_date, special_days, holidays, region, problems
    )
    queues = _load(history, timezone, problems)
    if problems:
        raise InputError(problems)
    assert first is not None and calendar is not None and queues is not None
    result = _run_forecast(history, queues, first, days, interval, model, holidays, region, special)
    header = list(FORECAST_HEADER)
    rows = _forecast_rows(result)
    if rows and len(rows[0]) == 4:
        header.append("channel")
    if out_file is None:
        out.print(",".join(header), highlight=False, soft_wrap=True)
        for row in rows:
            out.print(",".join(row), highlight=False, soft_wrap=True)
        return
    write_csv(out_file, header, rows)
    table = Table(title=f"Forecast from {history} ({_special_days(calendar)})")
    for col in ("queue", "model", "history to", "intervals", "volume", "mean AHT (s)"):
        table.add_column(col, justify="left" if col in ("queue", "model") else "right")
    for name, q in result.items():
        fc = q.forecast
        total = sum(fc.volume)
        mean_aht = (
            sum(v * h for v, h in zip(fc.volume, fc.aht_seconds, strict=True)) / total
            if total > 0
            else 0.0
        )
        table.add_row(
            name,
            q.model,
            q.history_end.isoformat(sep=" ", timespec="minutes"),
            str(len(fc.volume)),
            f"{total:,.1f}",
            f"{mean_aht:.1f}",
        )
    out.print(table)
    out.print(f"Forecast written to {out_file}")


def _run_forecast(
    path: Path,
    queues: dict[str, QueueHistory],
    first: datetime,
    days: int,
    interval: int | None,
    model: str,
    holidays: str | None,
    region: str | None,
    special: list[SpecialDate],
) -> dict[str, QueueForecast]:
    try:
        return forecast_queues(
            queues,
            first,
            days,
            interval_minutes=interval,
            method=model,
            holidays_country=holidays,
            holidays_region=region,
            special_dates=special,
        )
    except ValueError as exc:
        message = str(exc)
        option = message.split(":", 1)[0] if ":" in message else ""
        where = {"start": "--start", "interval_minutes": "--interval", "days": "--days"}.get(option)
        if where is not None:
            raise InputError.one(where, message.split(":", 1)[1].strip()) from None
        raise InputError.one(str(path), message) from None


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.2f}"


def _ms(x: float | None) -> str:
    return "" if x is None else f"{x * 1e3:.1f}"


@app.command(name="backtest")
@reports_input_errors
def backtest_command(
    history: Annotated[
        Path,
        typer.Argument(
            help="History CSV: interval_start,offered,handle_time_seconds[,queue][,handled]",
            show_default=False,
        ),
    ],
    model: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Model(s) to compare (repeat): {', '.join(MODEL_NAMES)}; default: "
            + ", ".join(DEFAULT_BACKTEST_MODELS)
        ),
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the metrics as JSON to this file")
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="PNG of the worst and a typical week (default: next to --out)"),
    ] = None,
    horizon_days: Annotated[int, typer.Option(help="Days forecast from each origin")] = 7,
    step_days: Annotated[int, typer.Option(help="Days between origins")] = 7,
    min_history_days: Annotated[
        int, typer.Option(help="Days of history before the first origin")
    ] = 56,
    week_start: Annotated[
        str | None,
        typer.Option(help="Weekday of the origins: mon ... sun (default: any)"),
    ] = None,
    holidays: HolidaysOpt = None,
    region: RegionOpt = None,
    special_date: SpecialDateOpt = None,
    special_days: SpecialDaysOpt = None,
    timezone: TimezoneOpt = None,
) -> None:
    """Rolling-origin backtest: WAPE, median weekly WAPE, bias, MAE and time per fit."""
    problems: list[Problem] = []
    names = list(model or DEFAULT_BACKTEST_MODELS)
    for name in names:
        try:
            _model_option(name)
        except InputError as exc:
            problems += exc.problems
    settings: BacktestSettings | None = None
    weekday = None
    if week_start is not None:
        key = week_start.strip().lower()[:3]
        if key not in WEEKDAYS:
            problems.append(
                Problem(
                    "--week-start", f"expected one of {', '.join(WEEKDAYS)}, got {week_start!r}"
                )
            )
        else:
            weekday = WEEKDAYS.index(key)
    for option, value, low, high in (
        ("--horizon-days", horizon_days, 1, 62),
        ("--step-days", step_days, 1, 62),
        ("--min-history-days", min_history_days, 1, 3660),
    ):
        if not low <= value <= high:
            problems.append(Problem(option, f"expected {low}..{high}, got {value}"))
    try:
        _timezone(timezone)
    except InputError as exc:
        problems += exc.problems
    _, calendar = _special_and_calendar(special_date, special_days, holidays, region, problems)
    queues = _load(history, timezone, problems)
    if problems:
        raise InputError(problems)
    assert calendar is not None and queues is not None
    settings = BacktestSettings(
        horizon_days=horizon_days,
        step_days=step_days,
        min_history_days=min_history_days,
        week_start=weekday,
    )
    short = [q for q in queues.values() if not origins(q, settings)]
    if short:
        raise InputError(
            [
                Problem(
                    str(history),
                    f"queue {q.queue}: {q.days} days of history are too few for a backtest "
                    f"with {min_history_days} days before the first origin and "
                    f"{horizon_days}-day horizons (lower --min-history-days)",
                )
                for q in short
            ]
        )
    report: dict[str, Any] = {
        "history": str(history),
        "settings": settings.model_dump(),
        "special_days": calendar.describe(),
        "metrics": [],
        "handle_time": {},
    }
    table = Table(
        title=f"Backtest of {history} ({_special_days(calendar)})",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for col in ("queue", "model", "origins", "WAPE %", "median wk %", "bias %", "MAE", "ms/fit"):
        left = col in ("queue", "model")
        table.add_column(col, justify="left" if left else "right", no_wrap=True)
    plots: list[Path] = []
    for qname, q in queues.items():
        results: list[BacktestResult] = []
        for name in names:
            result = backtest(q, functools.partial(make_model, name, calendar), settings, name)
            results.append(result)
            m = result.metrics
            report["metrics"].append(m.model_dump(mode="json"))
            table.add_row(
                qname,
                name,
                str(m.origins),
                _pct(m.wape),
                _pct(m.median_weekly_wape),
                _pct(m.bias),
                "" if m.mae is None else f"{m.mae:.2f}",
                _ms(m.seconds_per_fit),
            )
        error, bias = backtest_handle_time(q, settings)
        report["handle_time"][qname] = {"model": "time_of_day_shrunk", "error": error, "bias": bias}
        if error is not None:
            table.add_row(qname, "AHT profile", "", _pct(error), "", _pct(bias), "", "")
        target = _plot_path(plot, out_file, qname, len(queues) > 1)
        if target is not None:
            plots.append(plot_backtest(target, q, results))
    out.print(table)
    if out_file is not None:
        with atomic_write(out_file) as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
        out.print(f"Metrics written to {out_file}")
    for p in plots:
        out.print(f"Plot written to {p}")
    if out_file is None and plot is None:
        err.print("(give --out metrics.json to keep the metrics and a plot)", highlight=False)


def _plot_path(plot: Path | None, out_file: Path | None, queue: str, several: bool) -> Path | None:
    base = plot if plot is not None else None if out_file is None else out_file.with_suffix(".png")
    if base is None or not several:
        return base
    return base.with_name(f"{base.stem}-{queue}{base.suffix or '.png'}")
