"""Leave: HR imports (CSV or JSON, all or nothing), listing, approval, and the impact of requests
on the current roster. Importing and changing leave: hr. Reading and impact: any role."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import ValidationError

from api.errors import InputError, Problem
from api.service.deps import HR, AnyRole, SessionDep, SettingsDep
from api.service.handlers import CONFLICT, ERROR_RESPONSES, NOT_FOUND
from api.service.impact import leave_impact
from api.service.schemas import (
    ErrorBody,
    LeaveImpactRequest,
    LeaveImpactResponse,
    LeaveImport,
    LeaveImportResult,
    LeaveList,
    LeaveRecord,
    LeaveUpdate,
)
from api.store.db import LeaveRow
from api.store.leave import (
    delete_leave,
    import_leave,
    list_leave,
    parse_leave_csv,
    parse_leave_records,
    update_status,
)
from api.store.scenarios import get_revision
from common.enums import LeaveStatus

router = APIRouter(tags=["leave"], responses={**ERROR_RESPONSES, **NOT_FOUND})

LeaveId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Leave record id")]

IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LeaveImport.model_json_schema()},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "agent_id,start,end,kind,status[,weight] with a header row",
                }
            },
        },
    }
}


CSV_TYPES = ("text/csv", "text/plain", "application/csv")


async def _body(request: Request) -> tuple[str, bytes]:
    """The content type and bytes of an import (JSON or CSV)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (*CSV_TYPES, "application/json", ""):
        raise HTTPException(415, f"expected application/json or text/csv, got {ctype!r}")
    return ctype, await request.body()


def _record(r: LeaveRow) -> LeaveRecord:
    return LeaveRecord.model_validate(r, from_attributes=True)


def _agents(session: Any, scenario_id: int | None) -> list[str] | None:
    if scenario_id is None:
        return None
    return list(get_revision(session, scenario_id, None).overview["agents"])


@router.post(
    "/leave",
    operation_id="importLeave",
    status_code=201,
    response_model=LeaveImportResult,
    openapi_extra=IMPORT_BODY,
    responses={415: {"model": ErrorBody, "description": "Neither JSON nor text/csv"}},
)
def import_leave_route(
    caller: HR,
    body: Annotated[tuple[str, bytes], Depends(_body)],
    session: SessionDep,
    scenario_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="CSV: check agent ids against this scenario"),
    ] = None,
) -> LeaveImportResult:
    """Import leave (the HR export): every row is checked, problems name the line (CSV) or row
    (JSON), and nothing is stored when any row is bad."""
    ctype, content = body
    if ctype in CSV_TYPES:
        specs = parse_leave_csv(content, "leave.csv", _agents(session, scenario_id))
    else:
        try:
            data = LeaveImport.model_validate_json(content)
        except ValidationError as exc:
            raise InputError(
                [
                    Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                    for e in exc.errors()
                ]
            ) from None
        specs = parse_leave_records(data.records, _agents(session, data.scenario_id or scenario_id))
    rows = import_leave(session, specs, caller.label)
    return LeaveImportResult(
        batch_id=rows[0].batch_id, imported=len(rows), records=[_record(r) for r in rows]
    )


@router.get("/leave", operation_id="listLeave", response_model=LeaveList)
def list_leave_route(
    session: SessionDep,
    _: AnyRole,
    agent_id: Annotated[str | None, Query(max_length=100)] = None,
    status: LeaveStatus | None = None,
    day_from: Annotated[
        date | None, Query(alias="from", description="Touching this day or later")
    ] = None,
    day_to: Annotated[
        date | None, Query(alias="to", description="Touching this day or earlier")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> LeaveList:
    """Stored leave, by first day."""
    rows, total = list_leave(session, agent_id, status, day_from, day_to, limit, offset)
    return LeaveList(items=[_record(r) for r in rows], total=total)


@router.patch("/leave/{leave_id}", operation_id="updateLeave", response_model=LeaveRecord)
def update_leave(leave_id: LeaveId, body: LeaveUpdate, session: SessionDep, _: HR) -> LeaveRecord:
    """Approve a request (status approved), or set it back to requested."""
    return _record(update_status(session, leave_id, body.status))


@router.delete("/leave/{leave_id}", operation_id="deleteLeave", status_code=204)
def delete_leave_route(leave_id: LeaveId, session: SessionDep, _: HR) -> Response:
    """Withdraw a leave record."""
    delete_leave(session, leave_id)
    return Response(status_code=204)


@router.post(
    "/leave/impact",
    operation_id="leaveImpact",
    response_model=LeaveImpactResponse,
    responses=CONFLICT,
)
def impact(
    body: LeaveImpactRequest, session: SessionDep, settings: SettingsDep, _: AnyRole
) -> LeaveImpactResponse:
    """What granting leave would do to the current roster: coverage and service level per
    channel before and after, hard floors and role cover it would break; for each request and
    for all of them together. Nothing is stored."""
    return leave_impact(session, body, settings.data_dir)
