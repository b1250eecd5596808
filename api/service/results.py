"""The stored outputs of finished jobs: files by name, and the CSV tables as typed rows.

The CSV files written by ``api.reports`` are the one source; JSON answers are those rows typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ConflictError, NotFoundError
from api.store.db import ArtifactRow, JobRow
from api.store.models import JobKind, JobStatus

__all__ = ["artifact", "csv_models", "wants_csv"]

M = TypeVar("M", bound=BaseModel)
ROSTER_FILES = ("roster.xlsx", "calendars/")


def _ready(job: JobRow, name: str) -> None:
    if job.status == JobStatus.failed:
        raise ConflictError(f"solve {job.id} failed ({job.error}); it has no outputs")
    if job.status != JobStatus.finished:
        raise ConflictError(
            f"solve {job.id} is {job.status}; its outputs are there once it has finished"
        )
    compare_only = name.startswith("comparison")
    if job.kind == JobKind.compare and not compare_only and name != "report.html":
        raise ConflictError(
            f"{job.id} is a comparison; its variants (GET /solves/{job.id}, children) have the "
            "rosters"
        )
    if job.kind == JobKind.solve and compare_only:
        raise ConflictError(f"{job.id} is a single solve, not a comparison")


def artifact(session: Session, job: JobRow, name: str) -> ArtifactRow:
    """A stored output of a finished job; 409 while it runs or when the solve has no roster."""
    _ready(job, name)
    if job.kind == JobKind.compare and name == "report.html":
        name = "comparison.html"
    row = session.scalar(
        select(ArtifactRow).where(ArtifactRow.job_id == job.id, ArtifactRow.name == name)
    )
    if row is not None:
        return row
    if name.startswith("calendars/"):
        agent = name.removeprefix("calendars/").removesuffix(".ics")
        if job.result_status in ("optimal", "feasible"):
            raise NotFoundError(f"agent in solve {job.id}", agent)
    raise ConflictError(
        f"solve {job.id} has no {name}: it ended {job.result_status}, without a roster; "
        f"GET /solves/{job.id}/summary says why"
    )


def wants_csv(accept: str | None) -> bool:
    """True when the Accept header prefers text/csv to JSON."""
    if not accept:
        return False
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        best[media.lower()] = max(q, best.get(media.lower(), 0.0))
    csv_q = best.get("text/csv", 0.0)
    json_q = max(
        best.get("application/json", 0.0),
        best.get("*/*", 0.0) - 0.001,
        best.get("application/*", 0.0) - 0.001,
    )
    return csv_q > 0 and csv_q > json_q


def _cell(value: str, kind: Callable[[str], Any]) -> Any:
    if value == "":
        return None
    return kind(value)


def _bool(value: str) -> bool:
    return value.lower() == "true"


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "paid_minutes": int,
    "scheduled": lambda v: int(float(v)),
    "required": float,
    "under": float,
    "over": float,
    "projected_service_level": float,
    "granted": _bool,
}


def csv_models(content: bytes, model: type[M]) -> list[M]:
    """The rows of one of the output CSV files as models (empty cells -> null)."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    out = []
    for row in reader:
        values = {
            k: _cell(v, CONVERTERS.get(k, str)) for k, v in row.items() if k in model.model_fields
        }
        for k in ("required", "under", "over"):
            if k in values and values[k] is None:
                values[k] = 0.0
        for k in ("name", "reason"):
            if k in values and values[k] is None:
                values[k] = ""
        out.append(model.model_validate(values))
    return out
