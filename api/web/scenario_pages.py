"""Scenarios: the list, uploads (the YAML and its CSVs, every problem located), revisions and the
diff between two of them. Each page calls the HTTP API's own route functions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from api.errors import InputError
from api.service.deps import SessionDep, SettingsDep
from api.service.routes import scenarios as api
from api.store.scenarios import MAX_FILES, clean_path
from api.web.pages import PREFIX, AnyUser, CsrfChecked, PlannerUser, WebRoute, problems_of, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ScenarioId = api.ScenarioId


async def _form_upload(request: Request, settings: SettingsDep) -> api.Upload | InputError:
    """The files of the upload form: the YAML (field ``scenario``) and the other files (field
    ``files``, several); an empty file field (nothing chosen) is no file."""
    try:
        form = await request.form(
            max_files=MAX_FILES + 1, max_fields=20, max_part_size=settings.max_request_bytes
        )
        scenario = form.get("scenario")
        if not isinstance(scenario, UploadFile) or not scenario.filename:
            raise InputError.one("scenario", "choose the scenario's YAML file")
        items = [(scenario.filename, await scenario.read())]
        for f in form.getlist("files"):
            if isinstance(f, UploadFile) and f.filename:
                items.append((f.filename, await f.read()))
        comment = form.get("comment")
        files = api.clean_all(items)
        return api.Upload(
            clean_path(scenario.filename), files, comment if isinstance(comment, str) else ""
        )
    except InputError as exc:
        return exc


FormUpload = Annotated[api.Upload | InputError, Depends(_form_upload)]


@router.get(f"{PREFIX}/scenarios", name="scenarios")
def scenarios_page(request: Request, session: SessionDep, caller: AnyUser) -> Response:
    listing = api.list_scenarios(session, caller, limit=500, offset=0)
    return render(request, "scenarios.html.j2", active="scenarios", listing=listing, problems=[])


@router.post(f"{PREFIX}/scenarios", name="upload_scenario")
def upload(
    request: Request,
    caller: PlannerUser,
    _: CsrfChecked,
    upload: FormUpload,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Check and store the upload as a new scenario; on any problem the page lists them all
    (file, line, key path) and nothing is stored."""
    try:
        if isinstance(upload, InputError):
            raise upload
        out = api.upload_scenario(caller, upload, session, settings)
    except InputError as exc:
        session.rollback()
        listing = api.list_scenarios(session, caller, limit=500, offset=0)
        return render(
            request,
            "scenarios.html.j2",
            422,
            active="scenarios",
            listing=listing,
            problems=problems_of(exc),
        )
    return RedirectResponse(f"{PREFIX}/scenarios/{out.id}?uploaded=1", status_code=303)


@router.get(f"{PREFIX}/scenarios/{{scenario_id}}", name="scenario")
def scenario_page(
    request: Request,
    scenario_id: ScenarioId,
    session: SessionDep,
    caller: AnyUser,
    uploaded: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    scenario = api.get_one(scenario_id, session, caller)
    return render(
        request,
        "scenario.html.j2",
        active="scenarios",
        scenario=scenario,
        uploaded=bool(uploaded),
        problems=[],
    )


@router.post(f"{PREFIX}/scenarios/{{scenario_id}}/revisions", name="upload_revision")
def upload_revision(
    request: Request,
    scenario_id: ScenarioId,
    caller: PlannerUser,
    _: CsrfChecked,
    upload: FormUpload,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    try:
        if isinstance(upload, InputError):
            raise upload
        api.upload_revision(caller, scenario_id, upload, session, settings)
    except InputError as exc:
        session.rollback()
        scenario = api.get_one(scenario_id, session, caller)
        return render(
            request,
            "scenario.html.j2",
            422,
            active="scenarios",
            scenario=scenario,
            uploaded=False,
            problems=problems_of(exc),
        )
    return RedirectResponse(f"{PREFIX}/scenarios/{scenario_id}?uploaded=1", status_code=303)


@router.get(f"{PREFIX}/scenarios/{{scenario_id}}/diff", name="scenario_diff")
def diff_page(
    request: Request,
    scenario_id: ScenarioId,
    session: SessionDep,
    caller: AnyUser,
    from_revision: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    to_revision: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    scenario = api.get_one(scenario_id, session, caller)
    diff = api.diff(scenario_id, session, caller, from_revision, to_revision)
    return render(request, "diff.html.j2", active="scenarios", scenario=scenario, diff=diff)
