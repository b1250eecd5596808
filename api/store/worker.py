"""The body of a solve worker process: one job from the database to its stored outputs.

``run_job`` (started by ``api.store.runner.JobRunner`` with the 'spawn' context) writes the
revision's files into a working folder, adds the variant's overrides and the stored leave as an
``extends:`` overlay, and then does what ``wfm solve`` does with the same functions (prepare,
solve with progress, evaluate, write every output), storing the outputs and the final state in one
transaction. Every write is guarded by the job's attempt number: a worker whose job was
cancelled or handed to a newer attempt stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import math
import mimetypes
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.errors import InputError, Problem
from api.pipeline.outcome import evaluate, options_for, solve_prepared
from api.pipeline.prepare import prepare_scenario
from api.pipeline.previous import with_previous
from api.pipeline.replan import (
    CHANGES_HEADER,
    check_events,
    field_path,
    published_roster,
    replan_prepared,
    replan_summary,
)
from api.reports import tables, write_outputs
from api.reports.ics import published_sequence
from api.scenario.loader import load_scenario
from api.scenario.models import LeaveSpec
from api.scenario.yamlsrc import display_path
from api.store.db import (
    ArtifactRow,
    JobRow,
    RevisionRow,
    append_history,
    make_engine,
    make_sessionmaker,
    session_scope,
    utcnow,
)
from api.store.leave import leave_csv, leave_for_agents, spec_of, text_of
from api.store.models import JobKind, JobStatus
from api.store.scenarios import materialize, relocate
from api.sweep.engine import SweepProgress, prepare_variants, run_sweep
from api.sweep.spec import load_sweep
from solver.schema import ShiftAssignment

__all__ = [
    "INPUT_FILES",
    "JOB_FILE",
    "LEAVE_FILE",
    "SWEEP_FILE",
    "VARIANT_FILE",
    "artifacts_of",
    "prepare_inputs",
    "run_job",
    "scenario_entry",
    "sweep_file",
]

log = logging.getLogger("wfm.worker")
JOB_FILE = "_with-stored-leave.yaml"
VARIANT_FILE = "_what-if.yaml"
LEAVE_FILE = "_leave.csv"
SWEEP_FILE = "_sweep.yaml"
INPUT_FILES = (VARIANT_FILE, JOB_FILE, LEAVE_FILE)
MEDIA = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".ics": "text/calendar",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".yaml": "application/yaml",
}


class Superseded(Exception):
    """The job is no longer this worker's (cancelled, or restarted as a newer attempt)."""


def _watch_parent(parent: int) -> None:
    """Exit when the server process that started this worker is gone (killed with -9).

    On Linux the kernel does it (PR_SET_PDEATHSIG: SIGKILL when the server's runner thread
    dies), which works even while the solver holds the GIL; a polling thread is the fallback.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the server died before this worker got here
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _key(s: LeaveSpec) -> tuple[str, str, str, str]:
    return (s.agent_id, text_of(s.start), text_of(s.end), s.kind.value)


def prepare_inputs(
    session: Session, job: JobRow, revision: RevisionRow, folder: Path
) -> tuple[str, list[int], int]:
    """Write the job's scenario into ``folder``: the revision's files, the variant's overrides
    (``_what-if.yaml``) and the stored leave (``_with-stored-leave.yaml`` + ``_leave.csv``:
    the scenario's own leave rows first, then the stored records). Returns the file to load,
    the ids of the stored leave records it includes and the number of the scenario's own rows
    before them."""
    main = materialize(revision, folder).name
    entry = main
    if job.overrides:
        (folder / VARIANT_FILE).write_text(
            yaml.safe_dump({"extends": main, **job.overrides}, sort_keys=False), encoding="utf-8"
        )
        entry = VARIANT_FILE
    applied: list[int] = []
    own = 0
    if (job.options or {}).get("include_stored_leave", True):
        loaded = load_scenario(folder / entry)
        s = loaded.scenario
        first = s.horizon.start
        last = first.fromordinal(first.toordinal() + s.horizon.days - 1)
        rows = leave_for_agents(session, [a.id for a in s.agents], first, last)
        if rows:
            stored = [spec_of(r) for r in rows]
            keys = {_key(x) for x in stored}
            kept = [lv for lv in s.leave if _key(lv) not in keys]
            own = len(kept)
            merged = kept + stored
            (folder / LEAVE_FILE).write_text(leave_csv(merged), encoding="utf-8")
            (folder / JOB_FILE).write_text(
                yaml.safe_dump({"extends": entry, "leave": LEAVE_FILE}), encoding="utf-8"
            )
            entry = JOB_FILE
            applied = [r.id for r in rows]
    return entry, applied, own


def stored_leave_where(problems: list[Problem], applied: Sequence[int], own: int) -> list[Problem]:
    """Problems located in ``_leave.csv`` named by what the planner knows: the scenario's own
    leave row, or the stored leave record (its id)."""
    out = []
    for p in problems:
        m = re.match(rf"^{re.escape(LEAVE_FILE)}:(\d+)(.*)$", p.where)
        if m is None:
            out.append(p)
            continue
        k = int(m.group(1)) - 2
        what = (
            f"leave record {applied[k - own]} (stored, /leave)"
            if 0 <= k - own < len(applied)
            else f"leave row {k + 1} of the scenario"
        )
        out.append(Problem(what + m.group(2), p.message))
    return out


def scenario_entry(names: Sequence[str], main_file: str) -> str:
    """The file a finished job loaded, from the names of its stored inputs."""
    for name in (JOB_FILE, VARIANT_FILE):
        if f"inputs/{name}" in names:
            return name
    return main_file


class _Job:
    """Database writes of one attempt of one job."""

    def __init__(self, factory: sessionmaker[Session], job_id: str, attempt: int) -> None:
        self.factory = factory
        self.job_id = job_id
        self.attempt = attempt
        self.last = 0.0
        self.phase = ""

    def update(self, session: Session, **values: Any) -> None:
        res = session.execute(
            update(JobRow)
            .where(
                JobRow.id == self.job_id,
                JobRow.attempt == self.attempt,
                JobRow.status == JobStatus.running.value,
                JobRow.cancel_requested.is_(False),
            )
            .values(**values)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise Superseded

    def set(self, **values: Any) -> None:
        with session_scope(self.factory) as session:
            self.update(session, **values)

    def progress(self, p: Any) -> None:
        """The solver's progress callback: at most two writes a second, every phase change."""
        now = time.monotonic()
        if p.phase == self.phase and now - self.last < 0.5:
            return
        self.phase, self.last = p.phase, now
        values: dict[str, Any] = {
            "phase": str(p.phase)[:40],
            "solver_elapsed_s": float(p.elapsed_s),
            "message": str(p.message)[:500],
        }
        if p.objective is not None:
            values["best_objective"] = float(p.objective)
        if p.bound is not None:
            values["best_bound"] = float(p.bound)
        try:
            self.set(**values)
        except Superseded:
            os._exit(0)  # cancelled or taken over: stop now, from whichever thread this is

    def fail(self, message: str, problems: list[Problem]) -> None:
        with session_scope(self.factory) as session:
            row = session.get(JobRow, self.job_id)
            if row is None or row.attempt != self.attempt or row.status != JobStatus.running:
                return
            row.status = JobStatus.failed.value
            row.phase = "failed"
            row.error = message
            row.problems = [{"where": p.where, "message": p.message} for p in problems]
            row.finished_at = utcnow()
            append_history(row, f"failed: {message}")


def _finite(value: Any) -> Any:
    """JSON for any database: NaN and infinities become null (PostgreSQL's JSON has none)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def artifacts_of(out: Path) -> list[ArtifactRow]:
    """Every file of an output folder as an artifact row (by its path in the folder)."""
    rows = []
    for path in sorted(out.rglob("*")):
        if path.is_file():
            name = path.relative_to(out).as_posix()
            media = MEDIA.get(path.suffix) or mimetypes.guess_type(name)[0] or "text/plain"
            rows.append(ArtifactRow(name=name, media_type=media, content=path.read_bytes()))
    return rows


def _solve(job: _Job, folder: Path, limits: dict[str, Any]) -> None:
    with session_scope(job.factory) as session:
        row = session.get(JobRow, job.job_id)
        if row is None or row.attempt != job.attempt or row.status != JobStatus.running:
            raise Superseded
        revision = session.get(RevisionRow, row.revision_id)
        assert revision is not None
        if row.kind == JobKind.sweep:
            _sweep(job, session, row, revision, folder, limits)
            return
        options = dict(row.options or {})
        label = revision.main_file + (f" ({row.variant})" if row.variant else "")
        work = folder / "scenario"
        work.mkdir(parents=True)
        try:
            entry, applied, own = prepare_inputs(session, row, revision, work)
        except InputError as exc:
            raise InputError(relocate(exc.problems, work)) from None
        job.update(session, phase="preparing", applied_leave=applied)
        previous_id = options.get("previous_solve_id")
        if previous_id:
            # the previous solve's roster and ledger, as its output folder holds them
            _fetch(session, previous_id, folder / "previous", ("roster.csv", "ledger.csv"))
        replan_of = options.get("replan_of")
        if replan_of:
            # the published solve's roster, activities and calendars (for their SEQUENCE)
            _fetch(session, replan_of, folder / "published", ("roster.csv", "activities.csv"))
            for a in session.execute(
                select(ArtifactRow).where(
                    ArtifactRow.job_id == replan_of, ArtifactRow.name.like("calendars/%")
                )
            ).scalars():
                path = folder / "published" / a.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(a.content)
    os.chdir(work)  # the outputs name files as the planner uploaded them
    try:
        prepared = prepare_scenario(Path(entry))
    except InputError as exc:
        raise InputError(stored_leave_where(exc.problems, applied, own)) from None
    if previous_id:
        try:
            prepared = with_previous(prepared, folder / "previous")
        except InputError as exc:
            raise InputError(
                [
                    Problem(
                        f"previous_solve_id {previous_id}: {_local(p.where, folder)}", p.message
                    )
                    for p in exc.problems
                ]
            ) from None
    start: list[ShiftAssignment] | None = None
    if replan_of:
        events = check_events(options["events"], field_path)
        start = published_roster(folder / "published", prepared)
        prepared = replan_prepared(prepared, events, start, "events")
    s = prepared.scenario
    limit = options.get("time_limit_s") or limits.get("default_time_limit_s")
    limit = min(float(limit or s.solver.time_limit_seconds), float(limits["max_time_limit_s"]))
    opts = options_for(s, limit, options.get("workers") or limits.get("solver_workers"))
    job.set(
        phase="solving",
        options={**options, "effective_time_limit_s": opts.time_limit_s, "workers": opts.workers},
    )
    result = solve_prepared(prepared, opts, job.progress, start)
    if result.status.value == "invalid":
        raise InputError.one(
            display_path(Path(entry)), result.message or "the solver rejected the problem"
        )
    job.set(phase="writing outputs")
    outcome = evaluate(prepared, result)
    summary = tables.summary(outcome, label, opts.time_limit_s)
    out = folder / "out"
    sequence = 0
    extra: dict[str, tuple[Sequence[str], list[list[str]]]] | None = None
    if start is not None:
        moved, summary["changes"] = replan_summary(prepared, result, start, outcome.solved)
        sequence = published_sequence(folder / "published" / "calendars") + 1
        extra = {"changes.csv": (CHANGES_HEADER, [c.row() for c in moved])}
    write_outputs(outcome, out, summary, sequence=sequence, extra=extra)
    (out / "result.json").write_text(result.model_dump_json(), encoding="utf-8")
    for name in INPUT_FILES:
        if (work / name).exists():
            (out / "inputs").mkdir(exist_ok=True)
            shutil.copy(work / name, out / "inputs" / name)
    artifacts = artifacts_of(out)
    with session_scope(job.factory) as session:
        row = _store_finished(session, job, artifacts, summary)
        row.result_status = result.status.value
        row.best_objective = result.objective
        row.best_bound = result.best_bound
        row.solver_elapsed_s = result.wall_time_s
        row.message = "; ".join(prepared.notes)[:2000]
        append_history(row, f"finished: {result.status.value} in {result.wall_time_s:.1f} s")


def sweep_file(path: Path, base: str, spec: dict[str, Any], limit: float | None) -> None:
    """A sweep file of a POST /sweeps body: its axes over the scenario ``base``."""
    body: dict[str, Any] = {"base": base, **spec}
    if limit is not None:
        body["time_limit_seconds"] = limit
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")


def _sweep(
    job: _Job,
    session: Session,
    row: JobRow,
    revision: RevisionRow,
    folder: Path,
    limits: dict[str, Any],
) -> None:
    """A sweep job: the revision's files, the sweep file of its body, every variant on Ray (at
    ``ray_address``, or a local Ray), its progress in the job's phase; stores sweep.csv,
    sweep.html and each variant's summary.json and report.html."""
    options = dict(row.options or {})
    work = folder / "scenario"
    work.mkdir(parents=True)
    try:
        entry, applied, _own = prepare_inputs(session, row, revision, work)
    except InputError as exc:
        raise InputError(relocate(exc.problems, work)) from None
    job.update(session, phase="preparing", applied_leave=applied)
    session.commit()
    limit = options.get("time_limit_s") or limits.get("default_time_limit_s")
    if limit is not None:
        limit = min(float(limit), float(limits["max_time_limit_s"]))
    sweep_file(work / SWEEP_FILE, entry, options["sweep"], limit)
    os.chdir(work)  # the outputs name files as the planner uploaded them
    plan = load_sweep(Path(SWEEP_FILE))
    prepared = prepare_variants(plan)
    last = [0.0]

    def progress(p: SweepProgress) -> None:
        now = time.monotonic()
        if p.row is None and now - last[0] < 0.5:
            return
        last[0] = now
        try:
            job.set(
                phase=f"{p.done} of {p.total} variants done"[:40],
                message=f"{p.done} of {p.total} done, {p.running} running, {p.failed} failed"
                + (f", {p.skipped} kept" if p.skipped else ""),
            )
        except Superseded:
            os._exit(0)  # cancelled or taken over: stop now (Ray's processes share our fate)

    out = folder / "out"
    result = run_sweep(
        plan,
        out,
        ray_address=limits.get("ray_address"),
        jobs=options.get("jobs"),
        workers=options.get("workers") or limits.get("solver_workers"),
        on_progress=progress,
        prepared=prepared,
    )
    keep = ("sweep.csv", "sweep.html")
    artifacts = [
        a
        for a in artifacts_of(out)
        if a.name in keep or a.name.endswith(("/summary.json", "/report.html"))
    ]
    solved = [r for r in result.rows if r.solved]
    front = [r.variant for r in result.rows if r.pareto]
    summary: dict[str, Any] = {
        "variants": len(result.rows),
        "solved": len(solved),
        "failed": {r.variant: r.reason or r.status for r in result.rows if not r.solved},
        "front": front,
        "wall_time_s": round(result.wall_time_s, 2),
        "cluster": result.cluster,
        "parallel": result.parallel,
        "workers": result.workers,
    }
    with session_scope(job.factory) as s2:
        done = _store_finished(s2, job, artifacts, summary)
        done.message = (
            f"{len(solved)} of {len(result.rows)} variants solved, "
            f"{len(front)} on the front, in {result.wall_time_s:.1f} s"
        )
        append_history(done, f"finished: {done.message}")


def _store_finished(
    session: Session, job: _Job, artifacts: Sequence[ArtifactRow], summary: dict[str, Any]
) -> JobRow:
    """A finished job's outputs stored (replacing any stored before) and its row marked
    finished with its summary; returns the row for the kind's own fields."""
    job.update(session, phase="storing")
    session.execute(delete(ArtifactRow).where(ArtifactRow.job_id == job.job_id))
    for a in artifacts:
        a.job_id = job.job_id
        session.add(a)
    row = session.get(JobRow, job.job_id)
    assert row is not None
    row.status = JobStatus.finished.value
    row.phase = "finished"
    row.finished_at = utcnow()
    row.summary = _finite(summary)
    return row


def _fetch(session: Session, job_id: str, folder: Path, names: Sequence[str]) -> None:
    """Another job's stored outputs, written into ``folder`` as its output folder held them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        stored = session.execute(
            select(ArtifactRow).where(ArtifactRow.job_id == job_id, ArtifactRow.name == name)
        ).scalar_one_or_none()
        if stored is not None:
            (folder / name).write_bytes(stored.content)


def _local(where: str, folder: Path) -> str:
    """A problem's place without the job's scratch folder (``previous/roster.csv:3``)."""
    return where.replace(str(folder) + os.sep, "").replace("--previous ", "")


def _lower_priority(nice: int) -> None:
    """Run this worker (and the solver threads it starts) below the API's priority, so reads
    stay fast while a solve takes the cores (WFM_WORKER_NICE)."""
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:  # not permitted here: run at the server's priority
            log.warning("could not lower the worker's priority by %d", nice)


def run_job(
    job_id: str,
    attempt: int,
    database_url: str,
    data_dir: str,
    limits: dict[str, Any],
    server_pid: int,
) -> None:
    """Entry point of a worker process (``server_pid``: the process that started it)."""
    _watch_parent(server_pid)
    _lower_priority(int(limits.get("nice") or 0))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = make_engine(database_url, pooled=False)
    job = _Job(make_sessionmaker(engine), job_id, attempt)
    folder = Path(data_dir).resolve() / "jobs" / job_id / f"a{attempt}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        _solve(job, folder, limits)
    except Superseded:
        log.info("job %s attempt %d is no longer ours; stopping", job_id, attempt)
    except InputError as exc:
        job.fail("the scenario could not be prepared or solved as given", exc.problems)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        job.fail(f"internal error in the worker: {type(exc).__name__}: {exc}", [])
    finally:
        os.chdir(Path(data_dir).resolve())
        shutil.rmtree(folder.parent, ignore_errors=True)
        engine.dispose()
