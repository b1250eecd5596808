"""The job runner: one thread in the server process that starts queued solves in worker processes
(``api.store.worker.run_job``, multiprocessing 'spawn'), enforces their time limits and
cancellations, and finishes comparisons when all their variants have (see ``api.store.jobs``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.reports.compare import write_comparison
from api.settings import Settings
from api.store.db import (
    ArtifactRow,
    JobRow,
    append_history,
    session_scope,
    utcnow,
)
from api.store.jobs import TERMINAL_VALUES, cancel_job, get_job, job_out, recover_interrupted
from api.store.models import JobKind, JobOut, JobStatus
from api.store.worker import run_job

__all__ = ["JobRunner"]

log = logging.getLogger("wfm.jobs")


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
                if row.status in TERMINAL_VALUES or time.monotonic() > deadline:
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
                        JobRow.kind.in_([JobKind.solve.value, JobKind.sweep.value]),
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
        limits = {
            "default_time_limit_s": self.settings.default_time_limit_s,
            "max_time_limit_s": self.settings.max_time_limit_s,
            "solver_workers": self.settings.solver_workers,
            "nice": self.settings.worker_nice,
            "ray_address": self.settings.ray_address,
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
    done = [c for c in children if c.status in TERMINAL_VALUES]
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
