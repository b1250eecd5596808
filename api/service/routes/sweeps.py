"""What-if sweeps: submit (202 + job id), poll, and read sweep.csv and sweep.html.

Submitting: planner. Reading: planner or supervisor. The variants run on the Ray cluster of
``WFM_RAY_ADDRESS`` (a local Ray started for each sweep when unset), as ``wfm sweep`` runs them.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ConflictError, NotFoundError
from api.service.deps import Planner, Reader, RunnerDep, SessionDep, SettingsDep
from api.service.handlers import CONFLICT, ERROR_RESPONSES, NOT_FOUND, QUEUE_FULL
from api.service.results import wants_csv
from api.store.db import ArtifactRow, JobRow
from api.store.jobs import get_job, job_out, submit_sweep
from api.store.models import JobKind, JobOut, SweepRequest, SweepTable
from api.store.scenarios import get_revision

router = APIRouter(tags=["sweeps"], responses={**ERROR_RESPONSES, **NOT_FOUND})

SweepId = Annotated[str, Path(min_length=1, description="Job id from POST /sweeps")]
AcceptHeader = Annotated[str | None, Header(include_in_schema=False)]


def _sweep(session: Session, job_id: str) -> JobRow:
    row = get_job(session, job_id)
    if row.kind != JobKind.sweep:
        raise NotFoundError("sweep", job_id)
    return row


def _file(session: Session, job_id: str, name: str) -> bytes:
    row = _sweep(session, job_id)
    if row.status != "finished":
        raise ConflictError(
            f"sweep {row.id} is {row.status}"
            + (f" ({row.error})" if row.error else "")
            + f"; its {name} is there once it has finished"
        )
    stored = session.scalar(
        select(ArtifactRow).where(ArtifactRow.job_id == row.id, ArtifactRow.name == name)
    )
    if stored is None:
        raise ConflictError(f"sweep {row.id} has no {name}")
    return stored.content


@router.post(
    "/sweeps",
    operation_id="createSweep",
    status_code=202,
    response_model=JobOut,
    responses={**QUEUE_FULL},
)
def create_sweep(
    body: SweepRequest,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: Planner,
) -> JobOut:
    """A sweep of one scenario, run as one job: axes over its key paths (a list of values or
    a range) and head count per contract, crossed or zipped; each variant solved on Ray. The
    job's progress says how many variants are done, running and failed."""
    revision = get_revision(session, body.scenario_id, body.revision)
    row = submit_sweep(session, settings, body, revision, caller.label)
    session.commit()
    runner.wake()
    return job_out(session, row)


@router.get("/sweeps/{job_id}", operation_id="getSweep", response_model=JobOut)
def get_sweep(job_id: SweepId, session: SessionDep, _: Reader) -> JobOut:
    """The sweep's state: status, progress (variants done, running, failed), its summary
    once finished (solved, failed with the reasons, the non-dominated variants)."""
    return job_out(session, _sweep(session, job_id))


@router.get(
    "/sweeps/{job_id}/table",
    operation_id="getSweepTable",
    response_model=SweepTable,
    responses={
        200: {
            "description": "sweep.csv (JSON header and rows, or CSV with Accept: text/csv)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **CONFLICT,
    },
)
def sweep_table(
    job_id: SweepId, session: SessionDep, _: Reader, accept: AcceptHeader = None
) -> Any:
    """sweep.csv: per variant its axis values, status and reason, whether it is on the
    front, cost, paid hours, head count, service level per channel, cover, fairness spread."""
    content = _file(session, job_id, "sweep.csv")
    if wants_csv(accept):
        return Response(content, media_type="text/csv; charset=utf-8")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    return SweepTable(header=lines[0] if lines else [], rows=lines[1:])


@router.get(
    "/sweeps/{job_id}/report",
    operation_id="getSweepReport",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "sweep.html"}, **CONFLICT},
)
def sweep_report(job_id: SweepId, session: SessionDep, _: Reader) -> Response:
    """sweep.html: the table with the non-dominated variants marked, and the plot of cost
    against service level (fairness as colour)."""
    return Response(_file(session, job_id, "sweep.html"), media_type="text/html; charset=utf-8")
