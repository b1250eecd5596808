"""Solves and comparisons: submit (202 + job id), poll, cancel, and read the outputs.

Submitting a solve and reading rosters: planner or supervisor. Comparisons (what-ifs): planner.
Tables answer JSON, or CSV when the Accept header prefers text/csv.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.service.deps import Planner, Reader, RunnerDep, SessionDep, SettingsDep
from api.service.handlers import CONFLICT, ERROR_RESPONSES, NOT_FOUND, QUEUE_FULL
from api.service.results import artifact, csv_models, wants_csv
from api.service.schemas import (
    ActivityRow,
    ChangeRow,
    ComparisonTable,
    CoverageOut,
    JobList,
    LeaveDecisionRow,
    LedgerRowOut,
    RosterRow,
    SolveSummary,
)
from api.store.db import ArtifactRow, JobRow
from api.store.jobs import get_job, job_out, submit_compare, submit_replan, submit_solve
from api.store.models import (
    CompareRequest,
    JobKind,
    JobOut,
    JobStatus,
    ReplanRequest,
    SolveRequest,
)
from api.store.scenarios import get_revision

router = APIRouter(tags=["solves"], responses={**ERROR_RESPONSES, **NOT_FOUND})

JobId = Annotated[str, Path(min_length=1, description="Job id from POST /solves")]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def _csv_or_json(accept: str | None, content: bytes, model: Any) -> Any:
    if wants_csv(accept):
        return Response(content, media_type="text/csv; charset=utf-8")
    return csv_models(content, model)


def _stored(session: Session, job_id: str, name: str) -> ArtifactRow:
    """A finished job's stored file (404 for an unknown job, 409 while it has none)."""
    return artifact(session, get_job(session, job_id), name)


def _table(session: Session, job_id: str, name: str, model: Any, accept: str | None) -> Any:
    """A stored CSV table as CSV or as JSON rows of ``model``, as the Accept header asks."""
    return _csv_or_json(accept, _stored(session, job_id, name).content, model)


def _table_responses(description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description + " (JSON, or CSV with Accept: text/csv)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **CONFLICT,
    }


@router.post(
    "/solves",
    operation_id="createSolve",
    status_code=202,
    response_model=JobOut,
    responses={**QUEUE_FULL},
)
def create_solve(
    body: SolveRequest,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: Reader,
) -> JobOut:
    """Queue a solve of a scenario revision; poll GET /solves/{id} for its progress."""
    revision = get_revision(session, body.scenario_id, body.revision)
    row = submit_solve(session, settings, body, revision, caller.label)
    session.commit()
    runner.wake()
    return job_out(session, row)


@router.post(
    "/solves/{job_id}/replan",
    operation_id="createReplan",
    status_code=202,
    response_model=JobOut,
    responses={**QUEUE_FULL, **CONFLICT},
)
def create_replan(
    job_id: JobId,
    body: ReplanRequest,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: Reader,
) -> JobOut:
    """Re-plan a finished solve's roster after absences and demand changes (``wfm replan``):
    nothing before ``frozen_until`` moves, each later change costs, and the new job's
    ``/changes`` says what changed. Its calendars keep the published UIDs with a higher
    SEQUENCE. 409 when the solve has no roster."""
    published = get_job(session, job_id)
    row = submit_replan(session, settings, published, body, caller.label)
    session.commit()
    runner.wake()
    return job_out(session, row)


@router.post(
    "/compare",
    operation_id="createComparison",
    status_code=202,
    response_model=JobOut,
    responses={**QUEUE_FULL},
)
def create_comparison(
    body: CompareRequest,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: Planner,
) -> JobOut:
    """What-ifs of one scenario, solved as one job: each variant is the scenario with its
    overrides merged in (like an extends: file); the job's comparison table puts their KPIs side
    by side with deltas against the first."""
    revision = get_revision(session, body.scenario_id, body.revision)
    row = submit_compare(session, settings, body, revision, caller.label)
    session.commit()
    runner.wake()
    return job_out(session, row)


@router.get("/solves", operation_id="listSolves", response_model=JobList)
def list_solves(
    session: SessionDep,
    _: Reader,
    status: JobStatus | None = None,
    kind: JobKind | None = None,
    scenario_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> JobList:
    """Jobs, newest first."""
    stmt = select(JobRow)
    if status is not None:
        stmt = stmt.where(JobRow.status == status.value)
    if kind is not None:
        stmt = stmt.where(JobRow.kind == kind.value)
    if scenario_id is not None:
        stmt = stmt.where(JobRow.scenario_id == scenario_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(JobRow.created_at.desc(), JobRow.position.desc()).limit(limit).offset(offset)
    ).all()
    return JobList(items=[job_out(session, r) for r in rows], total=total)


@router.get("/solves/{job_id}", operation_id="getSolve", response_model=JobOut)
def get_solve(job_id: JobId, session: SessionDep, _: Reader) -> JobOut:
    """Status and progress: phase, best objective, bound, gap, elapsed time; the result and
    links to the outputs once finished."""
    return job_out(session, get_job(session, job_id))


@router.delete(
    "/solves/{job_id}", operation_id="cancelSolve", response_model=JobOut, responses=CONFLICT
)
def cancel_solve(job_id: JobId, runner: RunnerDep, _: Reader) -> JobOut:
    """Cancel a queued or running solve (or a whole comparison); its worker is stopped."""
    return runner.cancel(job_id)


@router.get(
    "/solves/{job_id}/summary",
    operation_id="getSolveSummary",
    response_model=SolveSummary,
    responses=CONFLICT,
)
def summary(job_id: JobId, session: SessionDep, _: Reader) -> SolveSummary:
    """summary.json: status, objective, bound, gap, KPIs, penalties, explanation."""
    row = _stored(session, job_id, "summary.json")
    return SolveSummary.model_validate(json.loads(row.content))


@router.get(
    "/solves/{job_id}/roster",
    operation_id="getSolveRoster",
    response_model=list[RosterRow],
    responses=_table_responses("One row per agent-day worked"),
)
def roster(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    return _table(session, job_id, "roster.csv", RosterRow, accept)


@router.get(
    "/solves/{job_id}/activities",
    operation_id="getSolveActivities",
    response_model=list[ActivityRow],
    responses=_table_responses("Briefings, work per channel, breaks, lunch, training, leave"),
)
def activities(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    return _table(session, job_id, "activities.csv", ActivityRow, accept)


@router.get(
    "/solves/{job_id}/coverage",
    operation_id="getSolveCoverage",
    response_model=list[CoverageOut],
    responses=_table_responses("Required and scheduled agents, projected service level"),
)
def coverage(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    return _table(session, job_id, "coverage.csv", CoverageOut, accept)


@router.get(
    "/solves/{job_id}/leave-decisions",
    operation_id="getSolveLeaveDecisions",
    response_model=list[LeaveDecisionRow],
    responses=_table_responses("Every requested leave, granted or not, with the reason"),
)
def leave_decisions(
    job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None
) -> Any:
    return _table(session, job_id, "leave_decisions.csv", LeaveDecisionRow, accept)


@router.get(
    "/solves/{job_id}/changes",
    operation_id="getSolveChanges",
    response_model=list[ChangeRow],
    responses=_table_responses("A re-plan's changes against the published roster, in words"),
)
def changes(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    return _table(session, job_id, "changes.csv", ChangeRow, accept)


@router.get(
    "/solves/{job_id}/ledger",
    operation_id="getSolveLedger",
    response_model=list[LedgerRowOut],
    responses=_table_responses(
        "The fairness ledger: the rows carried in from the previous solve and this horizon's"
    ),
)
def ledger(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    return _table(session, job_id, "ledger.csv", LedgerRowOut, accept)


@router.get(
    "/solves/{job_id}/comparison",
    operation_id="getSolveComparison",
    response_model=ComparisonTable,
    responses=_table_responses("KPIs of each variant, deltas against the first"),
)
def comparison(job_id: JobId, session: SessionDep, _: Reader, accept: AcceptHeader = None) -> Any:
    content = _stored(session, job_id, "comparison.csv").content
    if wants_csv(accept):
        return Response(content, media_type="text/csv; charset=utf-8")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    return ComparisonTable(header=rows[0] if rows else [], rows=rows[1:])


def _file(media: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {media: {"schema": {"type": "string"}}}},
        **CONFLICT,
    }


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/solves/{job_id}/report",
    operation_id="getSolveReport",
    response_class=Response,
    responses=_file("text/html", "The self-contained HTML report (a comparison's table)"),
)
def report(job_id: JobId, session: SessionDep, _: Reader) -> Response:
    row = _stored(session, job_id, "report.html")
    return Response(row.content, media_type="text/html; charset=utf-8")


@router.get(
    "/solves/{job_id}/xlsx",
    operation_id="getSolveXlsx",
    response_class=Response,
    responses=_file(XLSX, "roster.xlsx: the agents x days grid and every table"),
)
def xlsx(job_id: JobId, session: SessionDep, _: Reader) -> Response:
    row = _stored(session, job_id, "roster.xlsx")
    return Response(
        row.content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="roster-{job_id}.xlsx"'},
    )


@router.get(
    "/solves/{job_id}/calendars/{agent_id}.ics",
    operation_id="getSolveCalendar",
    response_class=Response,
    responses=_file("text/calendar", "One agent's shifts, breaks and leave (iCalendar)"),
)
def calendar(
    job_id: JobId,
    agent_id: Annotated[str, Path(min_length=1, max_length=100)],
    session: SessionDep,
    _: Reader,
) -> Response:
    row = _stored(session, job_id, f"calendars/{agent_id}.ics")
    return Response(row.content, media_type="text/calendar; charset=utf-8")
