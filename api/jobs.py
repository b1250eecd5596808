"""Solve jobs: the job store (the ``jobs`` table) and the runner that solves them in worker
processes.

A job is queued in the database; the ``JobRunner`` (one thread in the server process) starts at
most ``max_concurrent_solves`` worker processes (multiprocessing, 'spawn'), each running
``api.worker.run_job`` for one job. Workers write their progress, outputs and final state to the
database themselves, guarded by the job's attempt number, so a worker left over from a crashed
server can never overwrite a newer attempt. Cancellation terminates the worker; a worker that
outlives its time limit plus ``job_grace_s`` is killed and its job marked failed. On startup,
jobs that a crash interrupted are queued again (until ``max_attempts`` starts) or marked failed
with the reason; finished jobs and their outputs are committed rows and are never touched.

A comparison (kind ``compare``) is a parent job whose variants are solve jobs; it finishes, with
its comparison table, when all its variants have.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db import ArtifactRow, JobRow, RevisionRow, exclusive, session_scope, utcnow
from api.errors import ConflictError, InputError, NotFoundError, Problem, QueueFullError
from api.reports.compare import write_comparison
from api.scenario import load_scenario
from api.scenario_store import check_references, materialize, relocate, scratch
from api.schemas import (
    CompareRequest,
    JobError,
    JobKind,
    JobOut,
    JobStatus,
    ProblemOut,
    Progress,
    ResultInfo,
    SolveRequest,
)
from api.settings import Settings
from api.worker import VARIANT_FILE

__all__ = [
    "TERMINAL",
    "JobRunner",
    "append_history",
    "cancel_job",
    "get_job",
    "job_out",
    "problem_out",
    "recover_interrupted",
    "submit_compare",
    "submit_solve",
]

log = logging.getLogger("wfm.jobs")
TERMINAL = frozenset({JobStatus.finished, JobStatus.failed, JobStatus.cancelled})
_TERMINAL = tuple(s.value for s in TERMINAL)


def new_id() -> str:
    return uuid.uuid4().hex


def append_history(row: JobRow, text: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    row.history = [*(row.history or []), f"{stamp} {text}"]


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
    links = {"self": base}
    if row.status != JobStatus.finished:
        return links
    if row.kind == JobKind.compare:
        links |= {"comparison": f"{base}/comparison", "report": f"{base}/report"}
        return links
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


def submit_solve(
    session: Session, settings: Settings, req: SolveRequest, revision: RevisionRow, role: str
) -> JobRow:
    """Queue a solve of one revision (429 when the queue is full)."""
    options = _options(settings, req.time_limit_s, req.workers, req.include_stored_leave)
    _check_queue(session, settings, 1)
    row = JobRow(
        id=new_id(),
        kind=JobKind.solve.value,
        status=JobStatus.queued.value,
        scenario_id=revision.scenario_id,
        revision_id=revision.id,
        options=options,
        created_by=role,
        phase="queued",
        history=[],
    )
    append_history(row, f"queued by {role} (scenario {revision.scenario_id} r{revision.number})")
    session.add(row)
    session.flush()
    return row


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
        try:
            check_variant(revision, v.name, v.overrides, i, settings.data_dir)
        except InputError as exc:
            problems += exc.problems
        variants.append((v.name, v.overrides))
    if problems:
        raise InputError(problems)
    _check_queue(session, settings, len(variants))
    parent = JobRow(
        id=new_id(),
        kind=JobKind.compare.value,
        status=JobStatus.queued.value,
        scenario_id=revision.scenario_id,
        revision_id=revision.id,
        options=options,
        created_by=role,
        phase="queued",
        history=[],
    )
    append_history(parent, f"queued by {role}: {len(variants)} variants")
    session.add(parent)
    session.flush()
    for k, (name, overrides) in enumerate(variants):
        child = JobRow(
            id=new_id(),
            kind=JobKind.solve.value,
            status=JobStatus.queued.value,
            parent_id=parent.id,
            position=k,
            scenario_id=revision.scenario_id,
            revision_id=revision.id,
            variant=name,
            overrides=overrides,
            options=options,
            created_by=role,
            created_at=parent.created_at,
            phase="queued",
            history=[],
        )
        append_history(child, f"queued as variant {name!r} of comparison {parent.id}")
        session.add(child)
    session.flush()
    return parent


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
        r.cancel_requested = r.status not in _TERMINAL or r.cancel_requested
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


# --------------------------------------------------------------------------- runner
@dataclass
class _Worker:
    job_id: str
    attempt: int
    process: BaseProcess
    started: float
    stop_reason: str | None = None
    stop_sent: float | None = None


class JobRunner:
    """Starts queued solves in worker processes, enforces limits, finishes comparisons."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], database_url: str):
        self.settings = settings
        self.factory = factory
        self.database_url = database_url
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: dict[str, _Worker] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        with session_scope(self.factory) as session:
            for note in recover_interrupted(session, self.settings):
                log.warning("recovered %s", note)
        self._thread = threading.Thread(target=self._loop, name="wfm-job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop; running solves are stopped and queued again (not a failed attempt)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            if w.process.is_alive():
                w.process.terminate()
        for w in workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=5)
        if workers:
            with session_scope(self.factory) as session:
                for w in workers:
                    row = session.get(JobRow, w.job_id)
                    if row is None or row.status != JobStatus.running or row.attempt != w.attempt:
                        continue
                    if row.cancel_requested:
                        self._set_final(row, JobStatus.cancelled, None)
                        continue
                    row.status = JobStatus.queued.value
                    row.attempt -= 1
                    row.phase = "queued"
                    append_history(row, "queued again: the server was stopped")

    def wake(self) -> None:
        self._wake.set()

    def cancel(self, job_id: str, wait_s: float = 5.0) -> JobOut:
        """Cancel a job and wait (a little) for its worker to stop; returns its state."""
        with session_scope(self.factory) as session:
            cancel_job(session, job_id)
        self.wake()
        deadline = time.monotonic() + wait_s
        while True:
            with session_scope(self.factory) as session:
                row = get_job(session, job_id)
                if row.status in _TERMINAL or time.monotonic() > deadline:
                    return job_out(session, row)
            time.sleep(0.1)

    @property
    def running(self) -> int:
        return len(self._workers)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the runner must outlive a database hiccup
                log.exception("job runner tick failed")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def tick(self) -> None:
        self._reap()
        self._enforce()
        self._finish_parents()
        if not self._stop.is_set():
            self._start_queued()

    # ------------------------------------------------------------------ steps
    def _set_final(self, row: JobRow, status: JobStatus, error: str | None) -> None:
        row.status = status.value
        row.finished_at = utcnow()
        row.phase = status.value
        if error is not None:
            row.error = error
        append_history(row, error or status.value)

    def _reap(self) -> None:
        with self._lock:
            done = [w for w in self._workers.values() if not w.process.is_alive()]
        if not done:
            return
        with session_scope(self.factory) as session:
            for w in done:
                w.process.join(timeout=1)
                code = w.process.exitcode
                row = session.get(JobRow, w.job_id)
                if (
                    row is not None
                    and row.status == JobStatus.running
                    and (row.attempt == w.attempt)
                ):
                    if w.stop_reason == "cancelled":
                        self._set_final(row, JobStatus.cancelled, None)
                    elif w.stop_reason is not None:
                        self._set_final(row, JobStatus.failed, w.stop_reason)
                    else:
                        how = (
                            f"was killed by signal {-code}"
                            if code is not None and code < 0
                            else f"exited with code {code}"
                        )
                        self._set_final(
                            row, JobStatus.failed, f"the worker process {how} before finishing"
                        )
                with self._lock:
                    self._workers.pop(w.job_id, None)

    def _enforce(self) -> None:
        with self._lock:
            live = list(self._workers.values())
        if not live:
            return
        with session_scope(self.factory) as session:
            rows = {
                r.id: r
                for r in session.scalars(
                    select(JobRow).where(JobRow.id.in_([w.job_id for w in live]))
                )
            }
        now = time.monotonic()
        for w in live:
            row = rows.get(w.job_id)
            if w.stop_sent is not None:
                if now - w.stop_sent > 3 and w.process.is_alive():
                    w.process.kill()
                continue
            if row is None or row.cancel_requested:
                w.stop_reason = "cancelled"
            else:
                opts = row.options or {}
                limit = opts.get("effective_time_limit_s") or self.settings.max_time_limit_s
                allowed = float(limit) + self.settings.job_grace_s
                if now - w.started > allowed:
                    w.stop_reason = (
                        f"killed after {allowed:g} s: the solver time limit ({float(limit):g} s) "
                        f"plus {self.settings.job_grace_s:g} s for preparing and reporting"
                    )
            if w.stop_reason is not None and w.process.is_alive():
                w.stop_sent = now
                w.process.terminate()

    def _start_queued(self) -> None:
        while len(self._workers) < self.settings.max_concurrent_solves:
            with session_scope(self.factory) as session:
                job_id = session.scalar(
                    select(JobRow.id)
                    .where(
                        JobRow.status == JobStatus.queued.value,
                        JobRow.kind == JobKind.solve.value,
                    )
                    .order_by(JobRow.created_at, JobRow.position, JobRow.id)
                    .limit(1)
                )
                if job_id is None:
                    return
                claimed = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == JobStatus.queued.value)
                    .values(
                        status=JobStatus.running.value,
                        attempt=JobRow.attempt + 1,
                        started_at=utcnow(),
                        finished_at=None,
                        phase="starting",
                        error=None,
                        problems=None,
                    )
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                row = session.get(JobRow, job_id)
                assert row is not None
                session.refresh(row)
                attempt = row.attempt
                append_history(row, f"started (attempt {attempt})")
            self._spawn(job_id, attempt)

    def _spawn(self, job_id: str, attempt: int) -> None:
        from api.worker import run_job

        limits = {
            "default_time_limit_s": self.settings.default_time_limit_s,
            "max_time_limit_s": self.settings.max_time_limit_s,
            "solver_workers": self.settings.solver_workers,
            "nice": self.settings.worker_nice,
        }
        process = self._ctx.Process(
            target=run_job,
            args=(
                job_id,
                attempt,
                self.database_url,
                str(self.settings.data_dir),
                limits,
                os.getpid(),
            ),
            name=f"wfm-solve-{job_id[:8]}",
            daemon=True,
        )
        try:
            process.start()
        except Exception as exc:
            log.exception("could not start a worker for %s", job_id)
            with session_scope(self.factory) as session:
                row = session.get(JobRow, job_id)
                if row is not None:
                    self._set_final(row, JobStatus.failed, f"could not start a worker: {exc}")
            return
        with self._lock:
            self._workers[job_id] = _Worker(job_id, attempt, process, time.monotonic())
        log.info("started %s attempt %d in pid %s", job_id, attempt, process.pid)

    def _finish_parents(self) -> None:
        with session_scope(self.factory) as session:
            parents = session.scalars(
                select(JobRow).where(
                    JobRow.kind == JobKind.compare.value,
                    JobRow.status.in_([JobStatus.queued.value, JobStatus.running.value]),
                )
            ).all()
            for parent in parents:
                children = list(
                    session.scalars(
                        select(JobRow)
                        .where(JobRow.parent_id == parent.id)
                        .order_by(JobRow.position)
                    )
                )
                _update_parent(session, parent, children)


def _update_parent(session: Session, parent: JobRow, children: Sequence[JobRow]) -> None:
    started = [c.started_at for c in children if c.started_at is not None]
    done = [c for c in children if c.status in _TERMINAL]
    if len(done) < len(children):
        status = (
            JobStatus.running
            if any(c.status == JobStatus.running for c in children)
            else (JobStatus.running if done else JobStatus.queued)
        )
        if parent.status != status:
            parent.status = status.value
        parent.phase = f"{len(done)} of {len(children)} variants done"
        if started and parent.started_at is None:
            parent.started_at = min(started)
        return
    finished = [c for c in children if c.status == JobStatus.finished and c.summary]
    if parent.started_at is None and started:
        parent.started_at = min(started)
    if parent.cancel_requested:
        parent.status = JobStatus.cancelled.value
        parent.phase = "cancelled"
    elif not finished:
        parent.status = JobStatus.failed.value
        parent.phase = "failed"
        parent.error = "no variant finished: " + "; ".join(
            f"{c.variant}: {c.error or c.status}" for c in children
        )
    else:
        summaries = []
        for c in finished:
            s = dict(c.summary or {})
            s["scenario"] = {**s.get("scenario", {}), "name": c.variant}
            summaries.append(s)
        with tempfile.TemporaryDirectory() as tmp:
            write_comparison(Path(tmp), summaries, [c.variant or c.id for c in finished])
            for name, media in (
                ("comparison.csv", "text/csv"),
                ("comparison.html", "text/html"),
            ):
                session.add(
                    ArtifactRow(
                        job_id=parent.id,
                        name=name,
                        media_type=media,
                        content=(Path(tmp) / name).read_bytes(),
                    )
                )
        parent.status = JobStatus.finished.value
        parent.phase = "finished"
        missing = [c.variant for c in children if c not in finished]
        parent.message = f"{len(finished)} of {len(children)} variants compared" + (
            f"; left out: {', '.join(str(m) for m in missing)}" if missing else ""
        )
    parent.finished_at = utcnow()
    append_history(parent, parent.error or parent.message or parent.status)
