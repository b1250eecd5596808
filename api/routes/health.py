"""GET /health: liveness and the state of the solve queue (no API key needed)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from sqlalchemy import func, select

from api.db import JobRow
from api.deps import RunnerDep, SessionDep, SettingsDep
from api.schemas import Health, JobKind, JobStatus

router = APIRouter(tags=["service"])


def _version() -> str:
    try:
        return version("wfm-optimizer")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health", operation_id="getHealth", response_model=Health)
def health(session: SessionDep, settings: SettingsDep, runner: RunnerDep) -> Health:
    """The service is up and its database answers."""
    queued = session.scalar(
        select(func.count())
        .select_from(JobRow)
        .where(JobRow.status == JobStatus.queued.value, JobRow.kind == JobKind.solve.value)
    )
    return Health(
        status="ok",
        database=session.get_bind().dialect.name,
        queued=int(queued or 0),
        running=runner.running,
        max_concurrent_solves=settings.max_concurrent_solves,
        version=_version(),
    )
