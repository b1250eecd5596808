"""Running a sweep: every variant prepared here, solved as a Ray task, written into its folder.

``run_sweep(plan, out_dir)`` prepares every variant first (a bad value is an InputError naming
the sweep file's line, before anything is solved), skips the variants whose folder already
holds a final result of the same inputs (``summary.json``'s ``scenario_sha256``, the hash of the
variant's merged scenario and its files, time limit included), and solves the rest on Ray: a
local instance started for the run (and stopped after it), or the cluster at ``ray_address``.
The cores are split as ``wfm compare`` splits them: as many variants at once as there are cores
(or ``jobs``), each solve with the cores left per variant as CP-SAT ``num_workers``, asked of
Ray as the task's ``num_cpus``. A task returns its output files as bytes, so the workers need
the package installed, not this file system. A failed variant (infeasible, no roster in time,
an error, a worker lost) gets its row with the reason; the others go on. A task whose worker
dies is started once more (Ray's ``max_retries=1``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.errors import InputError, Problem
from api.pipeline.outcome import evaluate, options_for, solve_prepared
from api.pipeline.prepare import Prepared, build
from api.reports import atomic_dir, tables, write_outputs
from api.scenario.loader import load_scenario
from api.scenario.models import LoadedScenario
from api.scenario.yamlsrc import Tree, display_path
from api.sweep.pareto import mark_front
from api.sweep.report import write_sweep_csv, write_sweep_html
from api.sweep.rows import Row
from api.sweep.spec import SweepPlan, Variant, apply_edits
from solver.schema import RosterProblem, ShiftAssignment, Weights
from solver.validate import validate

__all__ = [
    "FINAL",
    "Row",
    "SweepOutcome",
    "SweepProgress",
    "TaskResult",
    "check_variants",
    "fairness_spread",
    "prepare_variant",
    "prepare_variants",
    "run_sweep",
    "solve_variant",
]

FINAL = ("optimal", "feasible", "infeasible")
"""Results a re-run keeps (same inputs, same answer); the others are solved again."""
GRACE_S = 120.0
"""Time a task gets beyond its solver limit (preparing, reporting, a retry) before it is
cancelled and its row failed."""


@dataclass(frozen=True)
class SweepProgress:
    total: int
    done: int
    running: int
    failed: int
    skipped: int
    row: Row | None = None
    """The row that just finished (None for a progress tick)."""


@dataclass
class SweepOutcome:
    plan: SweepPlan
    rows: list[Row]
    parallel: int
    workers: int
    wall_time_s: float
    cluster: str


@dataclass(frozen=True)
class TaskResult:
    """What a solve task sends back: the summary and every output file's bytes."""

    summary: dict[str, Any]
    files: dict[str, bytes]
    pid: int
    task_s: float
    """Seconds the task took from its start to its return (solve, evaluate, outputs)."""


# --------------------------------------------------------------------------- preparing
def prepare_variant(plan: SweepPlan, v: Variant) -> Prepared:
    """The base scenario with a variant's edits, loaded, checked and prepared."""
    return build(_load_variant(plan, v))


def _load_variant(plan: SweepPlan, v: Variant) -> LoadedScenario:
    def edit(tree: Tree) -> list[Problem]:
        problems = apply_edits(tree, v.edits)
        name = tree.root.get("name")
        if name is not None and isinstance(name.value, str):
            name.value = f"{name.value} [{v.name}]"
        return problems

    return load_scenario(plan.base, edit)


def _collect(plan: SweepPlan, v: Variant, exc: InputError, problems: list[Problem]) -> None:
    for p in exc.problems:
        # a problem at the sweep file's line is the same for every variant that has the
        # value; one in the base scenario names the variant that meets it
        if not p.where.startswith(plan.source):
            p = Problem(f"variant {v.name}: {p.where}", p.message)
        if p not in problems:
            problems.append(p)


def check_variants(plan: SweepPlan) -> float:
    """Load every variant (keys, values and files, no demand); InputError with the problems of
    all of them. Returns the longest solver time limit of a variant."""
    problems: list[Problem] = []
    limit = 0.0
    for v in plan.variants:
        try:
            loaded = _load_variant(plan, v)
        except InputError as exc:
            _collect(plan, v, exc, problems)
            continue
        limit = max(limit, loaded.scenario.solver.time_limit_seconds)
    if problems:
        raise InputError(problems)
    return limit


def prepare_variants(plan: SweepPlan) -> list[Prepared]:
    """Every variant prepared; InputError with the problems of all of them (each once)."""
    out: list[Prepared] = []
    problems: list[Problem] = []
    for v in plan.variants:
        try:
            out.append(prepare_variant(plan, v))
        except InputError as exc:
            _collect(plan, v, exc, problems)
    if problems:
        raise InputError(problems)
    return out


# --------------------------------------------------------------------------- one variant
def fairness_spread(problem: RosterProblem, roster: list[ShiftAssignment]) -> float:
    """The spread of weekend, night, late and holiday shifts across each contract's agents
    (max - min per category and contract, summed), as the validator counts the fairness rules
    at weight 1, whatever weight the scenario gives them."""
    unit = problem.model_copy(
        update={
            "weights": Weights(**{**problem.weights.model_dump(), "fairness": 1.0}),
            "disabled_rules": tuple(
                r for r in problem.disabled_rules if not r.startswith("fairness.")
            ),
        }
    )
    check = validate(unit, roster)
    return round(sum(p.cost for p in check.penalties if p.rule_id.startswith("fairness.")), 4)


def solve_variant(
    prepared: Prepared,
    variant: str,
    values: dict[str, Any],
    label: str,
    workers: int,
    crash: tuple[str, int] | None = None,
) -> TaskResult:
    """Solve one variant and render its outputs (in a Ray task, or in this process).
    ``crash`` (tests only): (counter file, n): the first n attempts count themselves in that
    file and kill their own process, as a lost worker would."""
    t0 = time.perf_counter()
    if crash is not None:
        counter, kills = Path(crash[0]), crash[1]
        seen = int(counter.read_text(encoding="utf-8")) if counter.exists() else 0
        if seen < kills:
            counter.write_text(str(seen + 1), encoding="utf-8")
            os.kill(os.getpid(), signal.SIGKILL)
    options = options_for(prepared.scenario, None, workers)
    result = solve_prepared(prepared, options)
    if result.status.value == "invalid":
        raise InputError.one(label, result.message or "the solver rejected the problem")
    outcome = evaluate(prepared, result)
    summary = tables.summary(outcome, label, options.time_limit_s)
    summary["fairness_spread"] = (
        fairness_spread(prepared.problem, list(result.assignments)) if outcome.solved else None
    )
    summary["sweep"] = {"variant": variant, "values": values, "workers": workers}
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="wfm-sweep-") as tmp:
        out = Path(tmp) / "out"
        write_outputs(outcome, out, summary)
        for p in sorted(out.rglob("*")):
            if p.is_file():
                files[p.relative_to(out).as_posix()] = p.read_bytes()
    return TaskResult(
        summary=summary, files=files, pid=os.getpid(), task_s=time.perf_counter() - t0
    )


def row_of(v: Variant, summary: dict[str, Any], resumed: bool = False) -> Row:
    status = str(summary.get("status"))
    reason = ""
    if status == "infeasible":
        first = (summary.get("explanation") or [{}])[0]
        reason = "infeasible" + (f": {first.get('message')}" if first.get("message") else "")
    elif status == "timeout_no_solution":
        reason = f"no roster within {summary.get('time_limit_s')} s"
    elif (summary.get("hard_rule_violations") or {}).get("count"):
        reason = f"{summary['hard_rule_violations']['count']} hard rule(s) broken"
    return Row(v.name, dict(v.values), status, reason, summary, resumed)


def _previous(folder: Path, sha256: str) -> dict[str, Any] | None:
    """The summary of a final result of the same inputs in ``folder``, else None."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict):
        return None
    if summary.get("scenario_sha256") != sha256 or summary.get("status") not in FINAL:
        return None
    return summary


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    with atomic_dir(folder) as tmp:
        for name, content in files.items():
            path = tmp / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


# --------------------------------------------------------------------------- Ray
@contextlib.contextmanager
def ray_session(address: str | None, num_cpus: int | None = None) -> Iterator[str]:
    """Ray for the run: the running session when there is one (a test's), the cluster at
    ``address``, or a local instance started now and stopped after. Yields a description."""
    # start-up time: Ray loads only for a sweep, not for every `wfm` command
    import ray

    if ray.is_initialized():
        yield "the Ray session already running"
        return
    if address:
        try:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            raise InputError.one(
                "--ray", f"cannot connect to a Ray cluster at {address}: {exc}"
            ) from None
        where = f"Ray cluster at {address}"
    else:
        ray.init(
            # "local": a new instance even where a stale `ray start` left its address behind
            address="local",
            num_cpus=num_cpus or os.cpu_count() or 1,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        where = "a local Ray instance"
    try:
        yield where
    finally:
        ray.shutdown()


def _failure(exc: BaseException) -> str:
    """A Ray error as a row's reason."""
    # start-up time: Ray loads only for a sweep
    from ray import exceptions as rex

    if isinstance(exc, rex.TaskCancelledError):
        return "cancelled: ran past its time limit plus the grace"
    if isinstance(exc, rex.RayTaskError):
        cause = exc.cause if isinstance(exc.cause, BaseException) else None
        if isinstance(cause, InputError):
            return "invalid: " + "; ".join(str(p) for p in cause.problems)
        what = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
        return f"error in the solve: {what}"[:500]
    if isinstance(exc, rex.WorkerCrashedError | rex.NodeDiedError | rex.LocalRayletDiedError):
        return "worker lost (started twice; the second attempt died too)"
    return f"{type(exc).__name__}: {exc}"[:500]


def run_sweep(
    plan: SweepPlan,
    out_dir: Path,
    ray_address: str | None = None,
    jobs: int | None = None,
    workers: int | None = None,
    on_progress: Callable[[SweepProgress], None] | None = None,
    use_ray: bool = True,
    crash: dict[str, tuple[str, int]] | None = None,
    prepared: list[Prepared] | None = None,
) -> SweepOutcome:
    """Solve a sweep into ``out_dir`` (kept: a re-run skips what is done). ``use_ray=False``:
    one variant after another in this process (the sequential baseline). ``crash``
    (tests only): variant -> (counter file, attempts to kill), see ``solve_variant``."""
    t0 = time.perf_counter()
    if prepared is None:
        prepared = prepare_variants(plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = [Row(v.name, dict(v.values), "pending") for v in plan.variants]
    todo: list[int] = []
    for i, (v, p) in enumerate(zip(plan.variants, prepared, strict=True)):
        previous = _previous(out_dir / v.name, p.sha256)
        if previous is not None:
            rows[i] = row_of(v, previous, resumed=True)
        else:
            todo.append(i)
    skipped = len(plan.variants) - len(todo)
    state = {"done": skipped, "failed": 0, "running": 0}

    def report(row: Row | None = None) -> None:
        if on_progress is not None:
            on_progress(
                SweepProgress(
                    len(rows), state["done"], state["running"], state["failed"], skipped, row
                )
            )

    def finish(i: int, row: Row) -> None:
        rows[i] = row
        state["done"] += 1
        if not row.solved:
            state["failed"] += 1
        write_sweep_csv(out_dir / "sweep.csv", plan, mark_front(rows))
        report(row)

    def label(i: int) -> str:
        return f"{display_path(plan.base)} ({plan.variants[i].name})"

    report()
    cores = os.cpu_count() or 1
    parallel, per = 1, workers or cores
    cluster = "this process, one variant after another" if todo else "nothing to solve"
    if todo and use_ray:
        with ray_session(ray_address) as cluster:
            # start-up time: Ray loads only for a sweep
            import ray

            cores = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]
            parallel = max(1, min(len(todo), jobs or cores))
            per = workers or max(1, cores // parallel)
            task = ray.remote(solve_variant).options(
                num_cpus=per, max_retries=1, retry_exceptions=False
            )
            queue = list(todo)
            running: dict[Any, tuple[int, float]] = {}
            while queue or running:
                while queue and len(running) < parallel:
                    i = queue.pop(0)
                    v = plan.variants[i]
                    ref = task.remote(
                        prepared[i],
                        v.name,
                        dict(v.values),
                        label(i),
                        per,
                        (crash or {}).get(v.name),
                    )
                    running[ref] = (i, time.monotonic())
                state["running"] = len(running)
                report()
                ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                for ref in ready:
                    i, started = running.pop(ref)
                    v = plan.variants[i]
                    try:
                        res: TaskResult = ray.get(ref)
                    except Exception as exc:
                        finish(i, Row(v.name, dict(v.values), "failed", _failure(exc)))
                        continue
                    _write_files(out_dir / v.name, res.files)
                    row = row_of(v, res.summary)
                    # Ray's share of this variant's time: from submitting it to its files
                    # written here, less the task's own time
                    row.overhead_s = round(time.monotonic() - started - res.task_s, 3)
                    finish(i, row)
                now = time.monotonic()
                for ref, (i, started) in list(running.items()):
                    limit = prepared[i].scenario.solver.time_limit_seconds
                    if now - started > 2 * limit + GRACE_S:
                        ray.cancel(ref, force=True)
                        running.pop(ref)
                        v = plan.variants[i]
                        finish(
                            i,
                            Row(
                                v.name,
                                dict(v.values),
                                "failed",
                                f"cancelled after {now - started:.0f} s (limit {limit:g} s "
                                f"plus {GRACE_S:g} s)",
                            ),
                        )
                state["running"] = len(running)
    else:
        for i in todo:
            v = plan.variants[i]
            state["running"] = 1
            report()
            try:
                res = solve_variant(prepared[i], v.name, dict(v.values), label(i), per)
            except InputError as exc:
                state["running"] = 0
                reason = "invalid: " + "; ".join(str(p) for p in exc.problems)
                finish(i, Row(v.name, dict(v.values), "failed", reason))
                continue
            _write_files(out_dir / v.name, res.files)
            state["running"] = 0
            finish(i, row_of(v, res.summary))
    rows = mark_front(rows)
    write_sweep_csv(out_dir / "sweep.csv", plan, rows)
    outcome = SweepOutcome(plan, rows, parallel, per, time.perf_counter() - t0, cluster)
    write_sweep_html(out_dir / "sweep.html", outcome_info(outcome), plan, rows)
    return outcome


def outcome_info(o: SweepOutcome) -> dict[str, Any]:
    """What the report says about the run."""
    return {
        "cluster": o.cluster,
        "parallel": o.parallel,
        "workers": o.workers,
        "wall_time_s": round(o.wall_time_s, 1),
        "resumed": sum(1 for r in o.rows if r.resumed),
    }
