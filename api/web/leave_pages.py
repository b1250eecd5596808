"""Leave: HR's import of the leave CSV (every row's problem listed, all rows or none), the list
with status, the impact preview of one or several records on a roster, and approve or withdraw.
Each action calls the HTTP API's own route function (``api.service.routes.leave``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from api.errors import InputError, Problem
from api.service.deps import SessionDep, SettingsDep
from api.service.routes import leave as api
from api.service.routes import scenarios as scenario_api
from api.service.schemas import LeaveImpactRequest, LeaveUpdate
from api.web.pages import PREFIX, AnyUser, CsrfChecked, HRUser, WebRoute, problems_of, render
from common.enums import LeaveStatus

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LeaveId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_CSV_BYTES = 5 * 1024 * 1024


async def _import_form(request: Request) -> tuple[bytes, int | None] | InputError:
    """The CSV (a chosen file, else the pasted text) and the scenario to check agents against."""
    form = await request.form()
    data = b""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_CSV_BYTES + 1)
    text = form.get("text")
    if not data and isinstance(text, str):
        data = text.strip().encode("utf-8")
    if not data:
        return InputError.one("file", "choose the HR export (a leave CSV) or paste its rows")
    if len(data) > MAX_CSV_BYTES:
        return InputError.one("file", f"at most {MAX_CSV_BYTES // 1024 // 1024} MiB")
    sid = form.get("scenario_id")
    scenario_id = None
    if isinstance(sid, str) and sid.strip():
        if not sid.strip().isdigit():
            return InputError.one("scenario_id", f"expected a scenario id, got {sid!r}")
        scenario_id = int(sid)
    return data, scenario_id


ImportForm = Annotated[tuple[bytes, int | None] | InputError, Depends(_import_form)]


def _page(
    request: Request,
    session: SessionDep,
    caller: AnyUser,
    status_code: int = 200,
    **context: object,
) -> Response:
    listing = api.list_leave_route(session, caller, None, None, None, None, 1000, 0)
    scenarios = scenario_api.list_scenarios(session, caller, limit=500, offset=0).items
    context.setdefault("problems", [])
    context.setdefault("imported", None)
    return render(
        request,
        "leave.html.j2",
        status_code,
        active="leave",
        listing=listing,
        scenarios=scenarios,
        **context,
    )


@router.get(f"{PREFIX}/leave", name="leave")
def leave_page(
    request: Request,
    session: SessionDep,
    caller: AnyUser,
    imported: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> Response:
    return _page(request, session, caller, imported=imported)


@router.post(f"{PREFIX}/leave/import", name="import_leave")
def import_leave(
    request: Request,
    session: SessionDep,
    caller: HRUser,
    _: CsrfChecked,
    form: ImportForm,
) -> Response:
    """Import the HR export (``POST /leave``): all rows or none, every bad row listed."""
    try:
        if isinstance(form, InputError):
            raise form
        data, scenario_id = form
        result = api.import_leave_route(caller, ("text/csv", data), session, scenario_id)
    except InputError as exc:
        session.rollback()
        return _page(request, session, caller, 422, problems=problems_of(exc))
    return RedirectResponse(f"{PREFIX}/leave?imported={result.imported}", status_code=303)


@router.post(f"{PREFIX}/leave/{{leave_id}}/status", name="leave_status")
def set_status(
    leave_id: LeaveId,
    session: SessionDep,
    caller: HRUser,
    _: CsrfChecked,
    status: Annotated[LeaveStatus, Form()],
) -> Response:
    """Approve a request, or set it back to requested (``PATCH /leave/{id}``)."""
    api.update_leave(leave_id, LeaveUpdate(status=status), session, caller)
    return RedirectResponse(f"{PREFIX}/leave", status_code=303)


@router.post(f"{PREFIX}/leave/{{leave_id}}/withdraw", name="leave_withdraw")
def withdraw(leave_id: LeaveId, session: SessionDep, caller: HRUser, _: CsrfChecked) -> Response:
    """Withdraw a leave record (``DELETE /leave/{id}``)."""
    api.delete_leave_route(leave_id, session, caller)
    return RedirectResponse(f"{PREFIX}/leave", status_code=303)


@router.post(f"{PREFIX}/leave/impact", name="leave_impact")
def impact(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: AnyUser,
    _: CsrfChecked,
    leave_id: Annotated[list[int] | None, Form()] = None,
    solve_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """What approving the chosen records would do to a roster (``POST /leave/impact``)."""
    try:
        try:
            body = LeaveImpactRequest(leave_ids=leave_id or [], solve_id=solve_id.strip() or None)
        except ValidationError as exc:
            raise InputError(
                [
                    Problem(
                        "leave_id" if not leave_id else "form",
                        "choose at least one leave record"
                        if not leave_id
                        else str(e["msg"]).removeprefix("Value error, "),
                    )
                    for e in exc.errors()
                ]
            ) from None
        result = api.impact(body, session, settings, caller)
    except InputError as exc:
        return _page(request, session, caller, 422, problems=problems_of(exc))
    records = {
        r.id: r
        for r in api.list_leave_route(session, caller, None, None, None, None, 1000, 0).items
    }
    return render(
        request,
        "impact.html.j2",
        active="leave",
        result=result,
        records=records,
        chosen=leave_id or [],
    )
