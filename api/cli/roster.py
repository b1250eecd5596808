"""``wfm validate``, ``wfm solve`` and ``wfm compare``: scenario files in, rosters and reports out.

Registered on the ``wfm`` app by the import at the end of ``api/cli.py``. Exit codes: 0 solved
(optimal or feasible), 1 infeasible or no solution in time (the outputs explain why), 2 invalid
input (nothing written).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from api.cli.common import (
    EXIT_INVALID,
    EXIT_NO_SOLUTION,
    EXIT_OK,
    app,
    err,
    out,
    reports_input_errors,
)
from api.errors import InputError, Problem
from api.pipeline.outcome import Outcome, evaluate, options_for, solve_prepared
from api.pipeline.prepare import Prepared, prepare_scenario
from api.pipeline.previous import with_previous
from api.pipeline.replan import CHANGES_HEADER, REPLAN_S, load_for_replan, replan_summary
from api.reports import atomic_dir, check_out_dir, tables, write_outputs
from api.reports.compare import comparison_rows, write_comparison
from api.reports.ics import published_sequence
from api.scenario.yamlsrc import display_path
from solver.options import SolveOptions
from solver.schema import RosterResult, ShiftAssignment
from solver.solve import Progress

ScenarioArg = Annotated[
    Path, typer.Argument(help="Scenario YAML file", show_default=False, dir_okay=False)
]
TimeLimitOpt = Annotated[
    float | None,
    typer.Option(
        "--time-limit", help="Seconds the solver may run (default: solver.time_limit_seconds)"
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="Solver threads (default: solver.workers)")
]


def _positive(value: float | None, option: str) -> None:
    if value is not None and not value > 0:
        raise InputError.one(option, f"expected a number > 0, got {value:g}")


# --------------------------------------------------------------------------- validate
@app.command(name="validate")
@reports_input_errors
def validate_command(scenario: ScenarioArg) -> None:
    """Check a scenario and its files without solving; every problem is printed (exit 2)."""
    prepared = prepare_scenario(scenario)
    s = prepared.scenario
    table = Table(
        title=f"{s.name}: {s.horizon.days} day(s) from {s.horizon.start} "
        f"({s.horizon.interval_minutes}-min intervals, {s.horizon.timezone})",
        box=box.SIMPLE_HEAD,
    )
    for col in ("channel", "kind", "demand", "contacts", "peak to schedule", "agent-hours"):
        table.add_column(col, justify="left" if col in ("channel", "kind", "demand") else "right")
    slot_h = s.horizon.interval_minutes / 60
    for ch in s.channels:
        d = prepared.demand[ch.id]
        table.add_row(
            ch.id,
            ch.kind.value,
            d.source.split("/")[-1],
            f"{d.total_volume:,.0f}",
            str(int(d.plan.agents_required.max())),
            f"{d.plan.agents_required.sum() * slot_h:,.1f}",
        )
    out.print(table)
    # leave inside the horizon only (what the solve plans); the rest is named, not counted
    inside = [s.leave[i] for i in prepared.leave_index]
    approved = sum(1 for lv in inside if lv.status.value == "approved")
    outside = len(s.leave) - len(inside)
    out.print(
        f"{len(s.agents)} agents, {len(s.contracts)} contracts, {len(s.shift_types)} shift types, "
        f"{approved} approved and {len(inside) - approved} requested leave in the horizon"
        f"{f' ({outside} more outside it, not planned)' if outside else ''}, "
        f"{len(s.pinned)} pinned shifts, {len(prepared.problem.roles)} role rules",
        highlight=False,
    )
    for note in prepared.notes:
        out.print(f"note: {note}", highlight=False)
    out.print(f"[green]valid[/green]: {display_path(scenario)}", highlight=False)


# --------------------------------------------------------------------------- solve
class _LiveProgress:
    """The best objective, bound and elapsed time while the solver runs (stderr)."""

    def __init__(self, name: str, limit: float) -> None:
        self.name = name
        self.limit = limit
        self.phase = "starting"
        self.objective: float | None = None
        self.bound: float | None = None
        self.message = ""
        self.t0 = time.perf_counter()
        self.live: Live | None = None

    def __rich__(self) -> Table:
        elapsed = time.perf_counter() - self.t0
        t = Table.grid(padding=(0, 2))
        t.add_row(
            Text(f"solving {self.name}", style="bold"),
            Text(f"{elapsed:5.1f} s / {self.limit:g} s"),
            Text(f"phase {self.phase}"),
            Text(f"best {_num(self.objective)}"),
            Text(f"bound {_num(self.bound)}"),
            Text(self.message, style="dim"),
        )
        return t

    def __call__(self, p: Progress) -> None:
        self.phase = p.phase
        if p.objective is not None:
            self.objective = p.objective
        if p.bound is not None:
            self.bound = p.bound
        self.message = p.message
        if self.live is None:
            err.print(
                f"[{p.elapsed_s:6.1f} s] {p.phase}: best {_num(self.objective)}, "
                f"bound {_num(self.bound)} {p.message}",
                highlight=False,
            )


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _run(
    prepared: Prepared,
    options: SolveOptions,
    quiet: bool,
    start: list[ShiftAssignment] | None = None,
) -> RosterResult:
    display = _LiveProgress(prepared.scenario.name, options.time_limit_s)
    if quiet:
        return solve_prepared(prepared, options, None, start)
    if err.is_terminal:
        with Live(display, console=err, refresh_per_second=4, transient=True) as live:
            display.live = live
            return solve_prepared(prepared, options, display, start)
    return solve_prepared(prepared, options, display, start)


def outcome_table(o: Outcome, summary: dict[str, Any]) -> Table:
    r = o.result
    t = Table(
        title=f"{o.prepared.scenario.name}: {r.status.value}",
        box=box.SIMPLE_HEAD,
        show_header=False,
    )
    t.add_column("what")
    t.add_column("value", justify="right")
    gap = "" if r.gap is None else f" (gap {100 * r.gap:.1f} %)"
    t.add_row("objective", (_num(r.objective) + gap) if r.objective is not None else "-")
    t.add_row("best bound", _num(r.best_bound))
    t.add_row("solve time", f"{r.wall_time_s:.1f} s")
    if r.status.value in ("optimal", "feasible"):
        t.add_row("under cover", f"{summary['under_cover_agent_hours']:,.1f} agent-hours")
        t.add_row("over cover", f"{summary['over_cover_agent_hours']:,.1f} agent-hours")
        for ch, v in summary["service_level"].items():
            target = summary["service_level_target"].get(ch)
            what = "on time" if target is None else f"service level (target {target:.0%})"
            t.add_row(f"{ch} {what}", "-" if v is None else f"{100 * v:.1f} %")
        t.add_row("paid hours", f"{summary['paid_hours']:,.1f} h in {summary['shifts']} shifts")
        t.add_row("agents scheduled", f"{summary['agents_scheduled']} of {summary['agents_total']}")
        lv = summary["leave"]
        t.add_row("leave requests granted", f"{lv['granted']} of {lv['requested']}")
    return t


def solve_to_folder(
    scenario: Path,
    out_dir: Path,
    time_limit: float | None = None,
    workers: int | None = None,
    quiet: bool = False,
    prepared: Prepared | None = None,
    previous: Path | None = None,
) -> tuple[Outcome, dict[str, Any]]:
    """Prepare (unless given), solve and write every output; InputError before anything is
    written. ``previous``: the output folder of the solve of the horizon before (rest, days
    in a row and the fairness ledger carried in, ``api.pipeline.previous``)."""
    if prepared is None:
        prepared = prepare_scenario(scenario)
    if previous is not None:
        prepared = with_previous(prepared, previous)
    options = options_for(prepared.scenario, time_limit, workers)
    result = _run(prepared, options, quiet)
    if result.status.value == "invalid":
        raise InputError.one(
            display_path(scenario), result.message or "the solver rejected the problem as invalid"
        )
    outcome = evaluate(prepared, result)
    summary = tables.summary(outcome, display_path(scenario), options.time_limit_s)
    write_outputs(outcome, out_dir, summary)
    return outcome, summary


def exit_code(status: str) -> int:
    return EXIT_OK if status in ("optimal", "feasible") else EXIT_NO_SOLUTION


@app.command(name="solve")
@reports_input_errors
def solve_command(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs (replaced)")],
    time_limit: TimeLimitOpt = None,
    workers: WorkersOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display")] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="Output folder of the solve of the horizon before: rest, days in a row and "
            "the fairness ledger (weekends, nights, lates, holidays over 4 weeks) carried in",
        ),
    ] = None,
) -> None:
    """Solve a scenario: roster, activities, coverage, leave decisions, XLSX, calendars, report,
    fairness ledger."""
    _positive(time_limit, "--time-limit")
    check_out_dir(out_dir)
    outcome, summary = solve_to_folder(
        scenario, out_dir, time_limit, workers, quiet, previous=previous
    )
    out.print(outcome_table(outcome, summary))
    for note in outcome.prepared.notes:
        out.print(f"note: {note}", highlight=False)
    if outcome.violations:
        which = (
            "the roster breaks"
            if outcome.solved
            else "no valid roster: the best one found (not written) breaks"
        )
        out.print(
            f"[red]warning[/red]: {which} {len(outcome.violations)} hard rule(s) "
            f"(validator), e.g. {escape(outcome.violations[0])}; see summary.json",
            highlight=False,
        )
    for c in summary.get("explanation", []):
        out.print(
            f"[red]conflict[/red]: {c['message']}"
            + (f" -> {c['relaxation']}" if c["relaxation"] else ""),
            highlight=False,
        )
    out.print(
        f"Outputs in {display_path(out_dir)}/; report: "
        f"[bold]{display_path(out_dir / 'report.html')}[/bold]",
        highlight=False,
    )
    raise typer.Exit(exit_code(outcome.result.status.value))


# --------------------------------------------------------------------------- replan
@app.command(name="replan")
@reports_input_errors
def replan_command(
    published: Annotated[
        Path, typer.Argument(help="Output folder of the published solve (roster.csv, ...)")
    ],
    events: Annotated[
        Path, typer.Argument(help="Events YAML: frozen_until, absences, volume changes")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the outputs (replaced)")],
    time_limit: TimeLimitOpt = None,
    workers: WorkersOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display")] = False,
) -> None:
    """Re-plan a published roster after absences and demand changes: nothing before the
    frozen time moves, later changes cost (more within the notice period), and the outputs list
    what changed (changes.csv; calendars with the same UIDs and a higher SEQUENCE)."""
    _positive(time_limit, "--time-limit")
    check_out_dir(out_dir)
    if not events.exists():
        raise InputError.one(display_path(events), "file not found")
    prepared, _ev, before = load_for_replan(events, published)
    # a re-plan answers within seconds: 10 s unless told otherwise
    options = options_for(prepared.scenario, time_limit or REPLAN_S, workers)
    result = _run(prepared, options, quiet, before)
    outcome = evaluate(prepared, result)
    moved, summary_changes = replan_summary(prepared, result, before, outcome.solved)
    summary = tables.summary(outcome, display_path(events), options.time_limit_s)
    summary["changes"] = summary_changes
    write_outputs(
        outcome,
        out_dir,
        summary,
        sequence=published_sequence(published / "calendars") + 1,
        extra={"changes.csv": (CHANGES_HEADER, [c.row() for c in moved])},
    )
    out.print(outcome_table(outcome, summary))
    for note in prepared.notes:
        out.print(f"note: {note}", highlight=False)
    for c in moved[:20]:
        out.print(f"{c.agent_id} {c.day:%a %d %b}: {c.before} -> {c.after}", highlight=False)
    if len(moved) > 20:
        out.print(f"... and {len(moved) - 20} more (changes.csv)", highlight=False)
    if outcome.violations:
        out.print(
            f"[red]warning[/red]: {len(outcome.violations)} hard rule(s) broken, e.g. "
            f"{escape(outcome.violations[0])}; see summary.json",
            highlight=False,
        )
    if outcome.solved:
        out.print(
            f"{len(moved)} agent-day(s) changed for {summary['changes']['agents']} agent(s); "
            f"outputs in {display_path(out_dir)}/",
            highlight=False,
        )
    else:
        out.print(
            f"no valid re-plan in the time given: the published roster stands (nothing "
            f"changed); outputs in {display_path(out_dir)}/",
            highlight=False,
        )
    raise typer.Exit(exit_code(outcome.result.status.value))


# --------------------------------------------------------------------------- compare
def _solve_one(path: str, out_dir: str, time_limit: float | None, workers: int) -> dict[str, Any]:
    """Worker process: solve one what-if into its own folder; returns its summary."""
    _, summary = solve_to_folder(Path(path), Path(out_dir), time_limit, workers, quiet=True)
    return summary


def _folders(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for p in paths:
        name, k = p.stem, 2
        while name in out:
            name, k = f"{p.stem}-{k}", k + 1
        out.append(name)
    return out


@app.command(name="compare")
@reports_input_errors
def compare_command(
    scenarios: Annotated[
        list[Path],
        typer.Argument(help="Scenario files; the first is the reference", show_default=False),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the comparison (replaced)")],
    time_limit: TimeLimitOpt = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Scenarios solved at once (default: the cores)")
    ] = None,
) -> None:
    """Solve what-ifs side by side (in parallel processes) and compare their KPIs."""
    _positive(time_limit, "--time-limit")
    if len(scenarios) < 2:
        raise InputError.one("SCENARIOS", "give at least two scenario files to compare")
    if jobs is not None and jobs < 1:
        raise InputError.one("--jobs", f"expected a whole number >= 1, got {jobs}")
    check_out_dir(out_dir)
    problems: list[Problem] = []
    for path in scenarios:
        try:
            prepare_scenario(path)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    cores = os.cpu_count() or 2
    parallel = max(1, min(len(scenarios), jobs or cores))
    workers = max(1, cores // parallel)
    folders = _folders(scenarios)
    summaries: list[dict[str, Any] | None] = [None] * len(scenarios)
    err.print(
        f"solving {len(scenarios)} scenarios, {parallel} at a time with {workers} "
        f"solver thread(s) each",
        highlight=False,
    )
    with atomic_dir(out_dir) as tmp:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=parallel, mp_context=ctx) as pool:
            futures = {
                pool.submit(_solve_one, str(p), str(tmp / f), time_limit, workers): i
                for i, (p, f) in enumerate(zip(scenarios, folders, strict=True))
            }
            for fut in as_completed(futures):
                i = futures[fut]
                summaries[i] = fut.result()
                sm = summaries[i]
                assert sm is not None
                err.print(
                    f"  {display_path(scenarios[i])}: {sm['status']} in {sm['wall_time_s']:.1f} s",
                    highlight=False,
                )
        done = [s for s in summaries if s is not None]
        write_comparison(tmp, done, [display_path(p) for p in scenarios])
    header, rows = comparison_rows(done)
    table = Table(title="What-if comparison (deltas against the first)", box=box.SIMPLE_HEAD)
    for i, h in enumerate(header):
        if h != "unit":
            table.add_column(h, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[c for j, c in enumerate(row) if header[j] != "unit"])
    out.print(Group(table))
    out.print(
        f"Comparison: [bold]{display_path(out_dir / 'comparison.html')}[/bold] and "
        f"{display_path(out_dir / 'comparison.csv')}; each scenario's outputs in "
        f"{display_path(out_dir)}/<name>/",
        highlight=False,
    )
    worst = max(exit_code(s["status"]) for s in done)
    raise typer.Exit(worst)


__all__ = [
    "EXIT_INVALID",
    "compare_command",
    "solve_command",
    "solve_to_folder",
    "validate_command",
]
