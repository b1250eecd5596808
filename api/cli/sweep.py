"""``wfm sweep`` and ``wfm pareto``: many variants of a scenario solved on Ray, their table and
the trade-off of cost, service level and fairness (``api.sweep``).

Exit codes: 0 every variant solved, 1 some did not (their rows say why), 2 invalid input
(nothing solved).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.common import EXIT_NO_SOLUTION, EXIT_OK, app, err, out, reports_input_errors
from api.errors import InputError
from api.reports import check_out_dir
from api.scenario.yamlsrc import display_path
from api.sweep.engine import SweepOutcome, SweepProgress, prepare_variants, run_sweep
from api.sweep.pareto import pareto_plan, parse_objectives
from api.sweep.rows import measures
from api.sweep.spec import SweepPlan, load_sweep

__all__ = ["pareto_command", "sweep_command"]

OutOpt = Annotated[
    Path, typer.Option("--out", help="Folder for the sweep (kept: a re-run skips what is done)")
]
RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Address of a Ray cluster (e.g. 10.0.0.5:6379 or ray://host:10001); default: a "
        "local Ray started for the run",
    ),
]
TimeLimitOpt = Annotated[
    float | None, typer.Option("--time-limit", help="Solver seconds per variant")
]
JobsOpt = Annotated[
    int | None,
    typer.Option("--jobs", help="Variants solved at once (default: the cluster's cores)"),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="Solver threads per variant (default: cores / jobs)"),
]
NoRayOpt = Annotated[
    bool,
    typer.Option("--no-ray", help="Solve one variant after another in this process"),
]


def _check(time_limit: float | None, jobs: int | None, workers: int | None) -> None:
    if time_limit is not None and not time_limit > 0:
        raise InputError.one("--time-limit", f"expected a number > 0, got {time_limit:g}")
    for name, v in (("--jobs", jobs), ("--workers", workers)):
        if v is not None and v < 1:
            raise InputError.one(name, f"expected a whole number >= 1, got {v}")


class _Display:
    """A progress bar of the variants (done, running, failed) on stderr; plain lines when it is
    not a terminal."""

    def __init__(self, total: int) -> None:
        self.bar = Progress(
            TextColumn("[bold]sweep[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[running]} running, {task.fields[failed]} failed"),
            TimeElapsedColumn(),
            console=err,
            transient=False,
        )
        self.task = self.bar.add_task("sweep", total=total, running=0, failed=0)
        self.live = err.is_terminal

    def __call__(self, p: SweepProgress) -> None:
        self.bar.update(self.task, completed=p.done, running=p.running, failed=p.failed)
        r = p.row
        if r is not None and not self.live:
            what = r.reason or r.status
            err.print(f"  {r.variant}: {what} ({p.done} of {p.total})", highlight=False)


def _run(
    plan: SweepPlan,
    out_dir: Path,
    ray_address: str | None,
    jobs: int | None,
    workers: int | None,
    no_ray: bool,
) -> SweepOutcome:
    prepared = prepare_variants(plan)
    err.print(
        f"{len(plan.variants)} variants of {display_path(plan.base)} "
        f"({', '.join(plan.axes) or 'no axes'}); "
        + ("solving in this process" if no_ray else f"Ray: {ray_address or 'local'}"),
        highlight=False,
    )
    display = _Display(len(plan.variants))
    if display.live:
        with display.bar:
            return run_sweep(
                plan, out_dir, ray_address, jobs, workers, display, not no_ray, prepared=prepared
            )
    return run_sweep(
        plan, out_dir, ray_address, jobs, workers, display, not no_ray, prepared=prepared
    )


def _table(o: SweepOutcome) -> Table:
    t = Table(title=f"Sweep: {o.plan.name}", box=box.SIMPLE_HEAD)
    t.add_column("variant")
    t.add_column("status")
    for h in ("paid h", "service level", "fairness", "objective", "gap"):
        t.add_column(h, justify="right")
    t.add_column("front", justify="center")
    for r in o.rows:
        m = measures(r)
        s = r.summary
        sl = m["service_level"]
        gap = s.get("gap") if r.solved else None
        t.add_row(
            r.variant,
            r.status + (" (kept)" if r.resumed else "") + (f": {r.reason}" if r.reason else ""),
            "" if m["cost"] is None else f"{m['cost']:,.1f}",
            "" if sl is None else f"{100 * sl:.1f} %",
            "" if m["fairness"] is None else f"{m['fairness']:g}",
            "" if not r.solved or s.get("objective") is None else f"{s['objective']:,.1f}",
            "" if gap is None else f"{100 * gap:.1f} %",
            "*" if r.pareto else "",
        )
    return t


def _finish(o: SweepOutcome, out_dir: Path) -> None:
    out.print(_table(o))
    failed = [r for r in o.rows if not r.solved]
    kept = sum(1 for r in o.rows if r.resumed)
    out.print(
        f"{len(o.rows) - len(failed)} of {len(o.rows)} solved"
        + (f" ({kept} kept from the earlier run)" if kept else "")
        + f", {sum(1 for r in o.rows if r.pareto)} on the front, in {o.wall_time_s:.1f} s on "
        f"{o.cluster} ({o.parallel} at a time, {o.workers} thread(s) each). Table: "
        f"[bold]{display_path(out_dir / 'sweep.html')}[/bold] and "
        f"{display_path(out_dir / 'sweep.csv')}; each variant's outputs in "
        f"{display_path(out_dir)}/<variant>/",
        highlight=False,
    )
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)


@app.command(name="sweep")
@reports_input_errors
def sweep_command(
    sweep: Annotated[
        Path, typer.Argument(help="Sweep YAML file", show_default=False, dir_okay=False)
    ],
    out_dir: OutOpt,
    ray_address: RayOpt = None,
    time_limit: TimeLimitOpt = None,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    no_ray: NoRayOpt = False,
) -> None:
    """Solve every variant of a sweep file (axes over scenario keys and head count) on Ray:
    sweep.csv / sweep.html with the non-dominated variants marked, each variant's outputs."""
    _check(time_limit, jobs, workers)
    check_out_dir(out_dir)
    plan = load_sweep(sweep, time_limit)
    _finish(_run(plan, out_dir, ray_address, jobs, workers, no_ray), out_dir)


@app.command(name="pareto")
@reports_input_errors
def pareto_command(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario YAML file", show_default=False, dir_okay=False)
    ],
    out_dir: OutOpt,
    objectives: Annotated[
        str,
        typer.Option(
            "--objectives", help="Two or three of cost, service_level, fairness (comma-separated)"
        ),
    ] = "cost,service_level,fairness",
    points: Annotated[int, typer.Option("--points", help="Weight points to solve")] = 6,
    ray_address: RayOpt = None,
    time_limit: TimeLimitOpt = None,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    no_ray: NoRayOpt = False,
) -> None:
    """The trade-off curve of a scenario: solved at weighted sums of its own objective terms
    (over cover for cost, under cover and late deferred work for service level, fairness),
    the non-dominated points marked and plotted in sweep.html."""
    _check(time_limit, jobs, workers)
    check_out_dir(out_dir)
    if not scenario.exists():
        raise InputError.one(display_path(scenario), "file not found")
    plan = pareto_plan(scenario, parse_objectives(objectives), points, time_limit)
    _finish(_run(plan, out_dir, ray_address, jobs, workers, no_ray), out_dir)
