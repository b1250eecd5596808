"""GET /health: liveness and the state of the solve queue (no API key needed)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from sqlalchemy import func, select

from api.service.deps import SessionDep, SettingsDep
from api.service.schemas import Health
from api.store.db import JobRow
from api.store.models import JobKind, JobStatus

router = APIRouter(tags=["service"])


@cache
def _version() -> str:
    try:
        return version("wfm-optimizer")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health", operation_id="getHealth", response_model=Health)
def health(session: SessionDep, settings: SettingsDep) -> Health:
    """The service is up and its database answers."""
    counts = dict(
        session.execute(
            select(JobRow.status, func.count())
            .where(
                JobRow.status.in_((JobStatus.queued.value, JobStatus.running.value)),
                JobRow.kind == JobKind.solve.value,
            )
            .group_by(JobRow.status)
        ).all()
    )
    # both from the jobs' own states (the runner's worker count lags a finished job by a poll)
    return Health(
        status="ok",
        database=session.get_bind().dialect.name,
        queued=int(counts.get(JobStatus.queued.value, 0)),
        running=int(counts.get(JobStatus.running.value, 0)),
        max_concurrent_solves=settings.max_concurrent_solves,
        version=_version(),
    )
