"""Solve jobs: the job store (the ``jobs`` table): submitting, viewing, cancelling and recovering
jobs. ``api.store.runner.JobRunner`` runs them in worker processes.

A job is queued in the database; the ``JobRunner`` (one thread in the server process) starts at
most ``max_concurrent_solves`` worker processes (multiprocessing, 'spawn'), each running
``api.store.worker.run_job`` for one job. Workers write their progress, outputs and final state to
the database themselves, guarded by the job's attempt number, so a worker left over from a crashed
server can never overwrite a newer attempt. Cancellation terminates the worker; a worker that
outlives its time limit plus ``job_grace_s`` is killed and its job marked failed. On startup,
jobs that a crash interrupted are queued again (until ``max_attempts`` starts) or marked failed
with the reason; finished jobs and their outputs are committed rows and are never touched.

A comparison (kind ``compare``) is a parent job whose variants are solve jobs; it finishes, with
its comparison table, when all its variants have.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import ConflictError, InputError, NotFoundError, Problem, QueueFullError
from api.pipeline.replan import REPLAN_S, check_events, field_path
from api.scenario.loader import load_scenario
from api.settings import Settings
from api.store.db import (
    JobRow,
    RevisionRow,
    append_history,
    exclusive,
    utcnow,
)
from api.store.models import (
    MAX_SWEEP_VARIANTS,
    CompareRequest,
    JobError,
    JobKind,
    JobOut,
    JobStatus,
    ProblemOut,
    Progress,
    ReplanRequest,
    ResultInfo,
    SolveRequest,
    SweepRequest,
    Variant,
)
from api.store.scenarios import check_references, materialize, relocate, scratch
from api.store.worker import SWEEP_FILE, VARIANT_FILE, sweep_file
from api.sweep.engine import check_variants
from api.sweep.spec import Edit, apply_edits, load_sweep, parse_path

__all__ = [
    "TERMINAL",
    "TERMINAL_VALUES",
    "cancel_job",
    "get_job",
    "job_out",
    "problem_out",
    "recover_interrupted",
    "submit_compare",
    "submit_solve",
    "submit_sweep",
]

TERMINAL = frozenset({JobStatus.finished, JobStatus.failed, JobStatus.cancelled})
TERMINAL_VALUES = tuple(s.value for s in TERMINAL)


def new_id() -> str:
    return uuid.uuid4().hex


def problem_out(p: Problem) -> ProblemOut:
    """A located problem with its file, line and key path split out where they can be."""
    where = p.where
    head, _, rest = where.partition(" ")
    file, line, path = None, None, rest or None
    name, sep, num = head.rpartition(":")
    if sep and num.isdigit():
        file, line = name, int(num)
    elif head.lower().endswith((".csv", ".yaml", ".yml")):
        file = head
    if file is None and line is None:
        path = where or None
    return ProblemOut(where=where, message=p.message, file=file, line=line, path=path)


# --------------------------------------------------------------------------- views
def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if abs(objective) < 1e-9:
        return 0.0 if abs(bound) < 1e-9 else None
    return round(abs(objective - bound) / abs(objective), 6)


def queue_position(session: Session, row: JobRow) -> int | None:
    if row.status != JobStatus.queued or row.kind != JobKind.solve:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.status == JobStatus.queued.value, JobRow.kind == JobKind.solve.value)
        .where(
            (JobRow.created_at < row.created_at)
            | ((JobRow.created_at == row.created_at) & (JobRow.position < row.position))
        )
    )
    return int(ahead or 0) + 1


def _links(row: JobRow) -> dict[str, str]:
    base = f"/solves/{row.id}"
    links = {"self": f"/sweeps/{row.id}" if row.kind == JobKind.sweep else base}
    if row.status != JobStatus.finished:
        return links
    if row.kind == JobKind.compare:
        links |= {"comparison": f"{base}/comparison", "report": f"{base}/report"}
        return links
    if row.kind == JobKind.sweep:
        sweep = f"/sweeps/{row.id}"
        return {"self": sweep, "table": f"{sweep}/table", "report": f"{sweep}/report"}
    links |= {
        "summary": f"{base}/summary",
        "roster": f"{base}/roster",
        "activities": f"{base}/activities",
        "coverage": f"{base}/coverage",
        "leave_decisions": f"{base}/leave-decisions",
        "report": f"{base}/report",
    }
    if row.result_status in ("optimal", "feasible"):
        links |= {"xlsx": f"{base}/xlsx", "calendar": f"{base}/calendars/{{agent_id}}.ics"}
    return links


def job_out(session: Session, row: JobRow) -> JobOut:
    revision = session.get(RevisionRow, row.revision_id)
    children: list[str] = []
    if row.kind == JobKind.compare:
        children = list(
            session.scalars(
                select(JobRow.id).where(JobRow.parent_id == row.id).order_by(JobRow.position)
            )
        )
    opts = row.options or {}
    elapsed = None
    if row.started_at is not None:
        end = row.finished_at or utcnow()
        elapsed = round((end - row.started_at).total_seconds(), 2)
    result = None
    s = row.summary or {}
    if row.result_status is not None:
        result = ResultInfo(
            status=row.result_status,
            objective=s.get("objective"),
            best_bound=s.get("best_bound"),
            gap=s.get("gap"),
            wall_time_s=s.get("wall_time_s"),
            explanation=s.get("explanation", []),
        )
    error = None
    if row.error is not None:
        error = JobError(
            message=row.error,
            problems=[problem_out(Problem(p["where"], p["message"])) for p in row.problems or []],
        )
    phase = row.phase or row.status
    return JobOut(
        id=row.id,
        kind=JobKind(row.kind),
        status=JobStatus(row.status),
        scenario_id=row.scenario_id,
        revision=revision.number if revision is not None else 0,
        variant=row.variant,
        parent_id=row.parent_id,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        attempt=row.attempt,
        queue_position=queue_position(session, row),
        cancel_requested=row.cancel_requested,
        progress=Progress(
            phase=phase,
            best_objective=row.best_objective,
            best_bound=row.best_bound,
            gap=_gap(row.best_objective, row.best_bound),
            elapsed_s=elapsed,
            time_limit_s=opts.get("effective_time_limit_s", opts.get("time_limit_s")),
            message=row.message,
        ),
        result=result,
        error=error,
        applied_leave=list(row.applied_leave or []),
        children=children,
        history=list(row.history or []),
        links=_links(row),
    )


def get_job(session: Session, job_id: str, lock: bool = False) -> JobRow:
    row = session.get(JobRow, job_id, with_for_update=lock) if len(job_id) <= 32 else None
    if row is None:
        raise NotFoundError("solve", job_id)
    return row


# --------------------------------------------------------------------------- submit
def _time_limit(settings: Settings, requested: float | None) -> float | None:
    if requested is not None and requested > settings.max_time_limit_s:
        raise InputError.one(
            "time_limit_s",
            f"expected at most {settings.max_time_limit_s:g} s (WFM_MAX_TIME_LIMIT_S), "
            f"got {requested:g}",
        )
    return requested


def _check_queue(session: Session, settings: Settings, n: int) -> None:
    """429 unless ``n`` more solves fit in the queue; the count and the caller's insert are one
    atomic decision (``exclusive``: concurrent submissions wait their turn)."""
    exclusive(session, "solve-queue")
    queued = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.status == JobStatus.queued.value, JobRow.kind == JobKind.solve.value)
    )
    queued = int(queued or 0)
    if queued + n > settings.queue_size:
        raise QueueFullError(
            f"the solve queue is full ({queued} waiting, room for {settings.queue_size}); "
            "try again when some have finished",
            retry_after_s=30,
        )


def _options(
    settings: Settings, time_limit_s: float | None, workers: int | None, include_stored_leave: bool
) -> dict[str, Any]:
    return {
        "time_limit_s": _time_limit(settings, time_limit_s),
        "workers": workers,
        "include_stored_leave": include_stored_leave,
    }


def _queued(
    kind: JobKind,
    revision: RevisionRow,
    options: dict[str, Any],
    role: str,
    note: str,
    **fields: Any,
) -> JobRow:
    """A new queued job of one revision, its first history line ``note``."""
    row = JobRow(
        id=new_id(),
        kind=kind.value,
        status=JobStatus.queued.value,
        scenario_id=revision.scenario_id,
        revision_id=revision.id,
        options=options,
        created_by=role,
        phase="queued",
        history=[],
        **fields,
    )
    append_history(row, note)
    return row


def submit_solve(
    session: Session, settings: Settings, req: SolveRequest, revision: RevisionRow, role: str
) -> JobRow:
    """Queue a solve of one revision (429 when the queue is full)."""
    options = _options(settings, req.time_limit_s, req.workers, req.include_stored_leave)
    if req.previous_solve_id is not None:
        _check_previous(session, req.previous_solve_id)
        options["previous_solve_id"] = req.previous_solve_id
    note = f"queued by {role} (scenario {revision.scenario_id} r{revision.number})"
    return _enqueue(session, settings, revision, options, role, note)


def _no_roster(row: JobRow) -> str | None:
    """Why a job cannot be carried on from (not a solve, or no roster), or None."""
    if row.kind != JobKind.solve.value:
        return f"{row.id} is a {row.kind}, not a solve"
    if row.status != JobStatus.finished.value or row.result_status not in ("optimal", "feasible"):
        return f"solve {row.id} has no roster to carry on from ({row.result_status or row.status})"
    return None


def _enqueue(
    session: Session,
    settings: Settings,
    revision: RevisionRow,
    options: dict[str, Any],
    role: str,
    note: str,
) -> JobRow:
    """A solve job of the revision queued (429 when the queue is full)."""
    _check_queue(session, settings, 1)
    row = _queued(JobKind.solve, revision, options, role, note)
    session.add(row)
    session.flush()
    return row


def submit_replan(
    session: Session, settings: Settings, published: JobRow, req: ReplanRequest, role: str
) -> JobRow:
    """Queue a re-plan of a finished solve (its revision, its stored leave choice); the
    events are checked first (422 naming the field), the solve must have a roster (409)."""
    why = _no_roster(published)
    if why is not None:
        raise ConflictError(why)
    body = req.model_dump(mode="json", include={"frozen_until", "notice_minutes", "events"})
    check_events(body, field_path)
    revision = session.get(RevisionRow, published.revision_id)
    assert revision is not None
    stored = bool((published.options or {}).get("include_stored_leave", True))
    options = _options(settings, req.time_limit_s or REPLAN_S, req.workers, stored)
    options["replan_of"] = published.id
    options["events"] = body
    note = f"queued by {role}: re-plan of {published.id} ({len(req.events)} event(s))"
    return _enqueue(session, settings, revision, options, role, note)


def _check_previous(session: Session, job_id: str) -> None:
    """A previous solve must exist and have finished with a roster (outputs with rows)."""
    try:
        row = get_job(session, job_id)
    except NotFoundError:
        raise InputError.one("previous_solve_id", f"no solve {job_id!r}") from None
    why = _no_roster(row)
    if why is not None:
        raise InputError.one("previous_solve_id", why)


def check_variant(
    revision: RevisionRow, name: str, overrides: dict[str, Any], index: int, data_dir: Path
) -> None:
    """Load the revision with a variant's overrides (keys and files only, no demand)."""
    label = f"variants[{index}] ({name})"
    if "extends" in overrides:
        raise InputError.one(f"{label}.overrides.extends", "set by the service; leave it out")
    with scratch(data_dir) as folder:
        main = materialize(revision, folder)
        (folder / VARIANT_FILE).write_text(
            yaml.safe_dump({"extends": main.name, **overrides}, sort_keys=False),
            encoding="utf-8",
        )
        try:
            files = {
                str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            }
            problems = check_references(files)
            if problems:
                raise InputError(problems)
            load_scenario(folder / VARIANT_FILE)
        except InputError as exc:
            raise InputError(
                [
                    Problem(_variant_where(label, p.where), p.message)
                    for p in relocate(exc.problems, folder)
                ]
            ) from None


def headcount_overrides(
    revision: RevisionRow, v: Variant, index: int, data_dir: Path
) -> dict[str, Any]:
    """A variant's overrides with its head-count changes written in: the revision's agents,
    leave and pinned shifts as inline lists, edited as a sweep's ``headcount[CONTRACT]`` axis
    edits them (``api.sweep.spec``: the contract's last agents dropped with their leave and
    pins, or copies of its agents added)."""
    if not v.headcount:
        return v.overrides
    label = f"variants[{index}] ({v.name})"
    for key in ("agents", "leave", "pinned"):
        if key in v.overrides:
            raise InputError.one(
                f"{label}.overrides.{key}",
                "a head-count change writes the agents, leave and pinned shifts; give one or the "
                "other",
            )
    problems = [
        Problem(f"{label}.headcount.{contract}", "expected a change of at least one agent")
        for contract, n in v.headcount.items()
        if n == 0
    ]
    if problems:
        raise InputError(problems)
    edits = tuple(
        Edit(parse_path(f"headcount[{c}]"), n, f"{label}.headcount.{c}", Path(VARIANT_FILE), 1)
        for c, n in v.headcount.items()
    )
    with scratch(data_dir) as folder:
        main = materialize(revision, folder)
        try:
            s = load_scenario(main, edit=lambda tree: apply_edits(tree, edits)).scenario
        except InputError as exc:
            raise InputError(
                [
                    Problem(
                        p.where if p.where.startswith(label) else f"{label}: {p.where}", p.message
                    )
                    for p in relocate(exc.problems, folder)
                ]
            ) from None
    return {
        **v.overrides,
        "agents": [a.model_dump(mode="json", exclude_none=True) for a in s.agents],
        "leave": [x.model_dump(mode="json", exclude_none=True) for x in s.leave],
        "pinned": [x.model_dump(mode="json", exclude_none=True) for x in s.pinned],
    }


def _variant_where(label: str, where: str) -> str:
    """'_what-if.yaml:5 channels[phone]' -> 'variants[0] (name) overrides channels[phone]'."""
    rest = re.sub(rf"^{re.escape(VARIANT_FILE)}(:\d+)?\s*", "", where)
    if rest != where:
        return f"{label} overrides {rest}".rstrip()
    return f"{label}: {where}"


def submit_compare(
    session: Session,
    settings: Settings,
    req: CompareRequest,
    revision: RevisionRow,
    role: str,
) -> JobRow:
    """Queue a comparison: one parent job and a solve job per variant."""
    options = _options(settings, req.time_limit_s, req.workers, req.include_stored_leave)
    variants: list[tuple[str, dict[str, Any] | None]] = []
    if req.include_base:
        variants.append(("base", None))
    problems: list[Problem] = []
    for i, v in enumerate(req.variants):
        edited = v.overrides
        try:
            edited = headcount_overrides(revision, v, i, settings.data_dir)
            check_variant(revision, v.name, edited, i, settings.data_dir)
        except InputError as exc:
            problems += exc.problems
        variants.append((v.name, edited))
    if problems:
        raise InputError(problems)
    _check_queue(session, settings, len(variants))
    parent = _queued(
        JobKind.compare, revision, options, role, f"queued by {role}: {len(variants)} variants"
    )
    session.add(parent)
    session.flush()
    for k, (name, overrides) in enumerate(variants):
        child = _queued(
            JobKind.solve,
            revision,
            options,
            role,
            f"queued as variant {name!r} of comparison {parent.id}",
            parent_id=parent.id,
            position=k,
            variant=name,
            overrides=overrides,
            created_at=parent.created_at,
        )
        session.add(child)
    session.flush()
    return parent


def submit_sweep(
    session: Session, settings: Settings, req: SweepRequest, revision: RevisionRow, role: str
) -> JobRow:
    """Queue a sweep of one revision as one job: its axes are checked and every variant loaded
    first (422 naming the field, as ``axes.KEY``, and what was expected)."""
    options = _options(settings, req.time_limit_s, req.workers, req.include_stored_leave)
    options["jobs"] = req.jobs
    options["sweep"] = req.model_dump(mode="json", include={"mode", "axes", "set"}, by_alias=True)
    with scratch(settings.data_dir) as folder:
        main = materialize(revision, folder)
        limit = req.time_limit_s or settings.default_time_limit_s
        sweep_file(folder / SWEEP_FILE, main.name, options["sweep"], limit)
        try:
            plan = load_sweep(folder / SWEEP_FILE)
            if len(plan.variants) > MAX_SWEEP_VARIANTS:
                raise InputError.one(
                    "axes",
                    f"{len(plan.variants)} variants; expected at most {MAX_SWEEP_VARIANTS} "
                    "(a larger sweep: wfm sweep on a Ray cluster)",
                )
            per_variant = check_variants(plan)
        except InputError as exc:
            raise InputError(
                [Problem(_sweep_where(p.where), p.message) for p in relocate(exc.problems, folder)]
            ) from None
    limit = min(per_variant, settings.max_time_limit_s)
    # the job's own limit (the runner stops it past this plus job_grace_s): every variant one
    # after another, with time to prepare and report each
    options["effective_time_limit_s"] = round(len(plan.variants) * (limit + 10.0), 1)
    options["variants"] = len(plan.variants)
    _check_queue(session, settings, 1)
    row = _queued(
        JobKind.sweep,
        revision,
        options,
        role,
        f"queued by {role}: a sweep of {len(plan.variants)} variants",
    )
    session.add(row)
    session.flush()
    return row


def _sweep_where(where: str) -> str:
    """'_sweep.yaml:4 axes.x' -> 'axes.x'; a problem in the scenario keeps its file."""
    rest = re.sub(rf"^(?:variant \S+: )?{re.escape(SWEEP_FILE)}(:\d+)?\s*", "", where)
    return rest or where


def cancel_job(session: Session, job_id: str) -> JobRow:
    """Cancel a queued job now; ask the runner to stop a running one. Finished ones: 409.
    Concurrent cancellations (and the runner claiming the job) are decided one at a time: the
    job's row is locked (SQLite: the write lock, ``exclusive``; PostgreSQL: the row)."""
    exclusive(session, f"job:{job_id}")
    row = get_job(session, job_id, lock=True)
    if row.status == JobStatus.cancelled:
        return row
    if row.status in (JobStatus.finished, JobStatus.failed):
        raise ConflictError(f"solve {job_id} has already {row.status}; nothing to cancel")
    targets = [row]
    if row.kind == JobKind.compare:
        targets += list(session.scalars(select(JobRow).where(JobRow.parent_id == row.id)))
    for r in targets:
        if r.status == JobStatus.queued:
            r.status = JobStatus.cancelled.value
            r.finished_at = utcnow()
            r.phase = "cancelled"
            append_history(r, "cancelled while queued")
        elif r.status == JobStatus.running and not r.cancel_requested:
            append_history(r, "cancellation requested")
        r.cancel_requested = r.status not in TERMINAL_VALUES or r.cancel_requested
    session.flush()
    return row


# --------------------------------------------------------------------------- recovery
def recover_interrupted(session: Session, settings: Settings) -> list[str]:
    """Jobs left running by a crash: queued again, or failed when out of attempts."""
    notes = []
    rows = session.scalars(
        select(JobRow).where(
            JobRow.status == JobStatus.running.value, JobRow.kind == JobKind.solve.value
        )
    ).all()
    for row in rows:
        if row.cancel_requested:
            row.status = JobStatus.cancelled.value
            row.finished_at = utcnow()
            row.phase = "cancelled"
            append_history(row, "cancelled (the server stopped while it was being cancelled)")
        elif row.attempt >= settings.max_attempts:
            row.status = JobStatus.failed.value
            row.finished_at = utcnow()
            row.phase = "failed"
            row.error = (
                f"interrupted by a server restart during attempt {row.attempt} of "
                f"{settings.max_attempts}; not started again"
            )
            append_history(row, row.error)
        else:
            row.status = JobStatus.queued.value
            row.phase = "queued"
            row.best_objective = row.best_bound = row.solver_elapsed_s = None
            row.message = ""
            append_history(row, f"queued again: a server restart interrupted attempt {row.attempt}")
        notes.append(f"job {row.id}: {row.status}")
    session.flush()
    return notes
