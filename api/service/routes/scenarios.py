"""Scenarios: upload (multipart files or JSON), list, revisions, files and diffs.

Uploading needs the planner role; reading any role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from api.errors import InputError, NotFoundError, Problem
from api.service.deps import AnyRole, Planner, SessionDep, SettingsDep
from api.service.handlers import ERROR_RESPONSES, NOT_FOUND
from api.service.schemas import (
    ErrorBody,
    FileOut,
    RevisionOut,
    ScenarioList,
    ScenarioOut,
    ScenarioOverview,
    ScenarioUpload,
)
from api.store.db import RevisionRow, ScenarioRow
from api.store.models import ScenarioDiff
from api.store.scenarios import (
    MAX_FILES,
    add_revision,
    clean_path,
    create_scenario,
    diff_revisions,
    get_revision,
    get_scenario,
    validate_files,
)

router = APIRouter(tags=["scenarios"], responses={**ERROR_RESPONSES, **NOT_FOUND})

ScenarioId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Scenario id")]
RevisionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="Revision number")]


@dataclass(frozen=True)
class Upload:
    main_file: str
    files: dict[str, bytes]
    comment: str


def clean_all(names: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """Uploaded (name, bytes) pairs -> files by clean relative path; InputError with every
    problem (bad names, a name given twice with different content, too many files)."""
    problems: list[Problem] = []
    files: dict[str, bytes] = {}
    for name, data in names:
        try:
            path = clean_path(name)
        except InputError as exc:
            problems += exc.problems
            continue
        if path in files and files[path] != data:
            problems.append(Problem(path, "given twice with different content"))
        files[path] = data
    if len(files) > MAX_FILES:
        problems.append(Problem("files", f"at most {MAX_FILES} files, got {len(files)}"))
    if problems:
        raise InputError(problems)
    return files


async def _multipart(request: Request, limit: int) -> Upload:
    try:
        form = await request.form(max_files=MAX_FILES + 1, max_fields=20, max_part_size=limit)
    except HTTPException as exc:
        raise InputError.one("body", f"not a readable multipart form ({exc.detail})") from None
    scenario = form.get("scenario")
    if not isinstance(scenario, UploadFile):
        raise InputError.one("scenario", "expected the scenario YAML as the file field 'scenario'")
    main = scenario.filename or "scenario.yaml"
    items = [(main, await scenario.read())]
    for f in form.getlist("files"):
        if not isinstance(f, UploadFile):
            raise InputError.one("files", "expected files (each a file field named 'files')")
        items.append((f.filename or "", await f.read()))
    comment = form.get("comment")
    files = clean_all(items)
    return Upload(clean_path(main), files, comment if isinstance(comment, str) else "")


async def read_upload(request: Request, settings: SettingsDep) -> Upload:
    """The files of an upload, from a multipart form or a JSON body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        return await _multipart(request, settings.max_request_bytes)
    if ctype in ("application/json", ""):
        try:
            body = ScenarioUpload.model_validate_json(await request.body())
        except ValidationError as exc:
            raise InputError(
                [
                    Problem(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
                    for e in exc.errors()
                ]
            ) from None
        files = clean_all([(k, v.encode("utf-8")) for k, v in body.files.items()])
        return Upload(clean_path(body.main_file), files, body.comment)
    raise HTTPException(415, f"expected multipart/form-data or application/json, got {ctype!r}")


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["scenario"],
                    "properties": {
                        "scenario": {
                            "type": "string",
                            "format": "binary",
                            "description": "The scenario YAML (its file name is kept)",
                        },
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "Every other file: bases named by extends, CSVs; "
                            "give folders in the file name, e.g. demand/phone.csv",
                        },
                        "comment": {"type": "string"},
                    },
                }
            },
            "application/json": {"schema": ScenarioUpload.model_json_schema()},
        },
    }
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    415: {"model": ErrorBody, "description": "Neither multipart/form-data nor JSON"}
}


def _revision_out(r: RevisionRow) -> RevisionOut:
    return RevisionOut(
        number=r.number,
        name=r.name,
        description=r.description,
        main_file=r.main_file,
        comment=r.comment,
        sha256=r.sha256,
        created_at=r.created_at,
        created_by=r.created_by,
        overview=ScenarioOverview.model_validate(r.overview),
        files=[FileOut(path=f.path, size=f.size, sha256=f.sha256) for f in r.files],
    )


def _scenario_out(row: ScenarioRow, with_revisions: bool = True) -> ScenarioOut:
    return ScenarioOut(
        id=row.id,
        name=row.name,
        latest_revision=max((r.number for r in row.revisions), default=0),
        created_at=row.created_at,
        updated_at=row.updated_at,
        revisions=[_revision_out(r) for r in row.revisions] if with_revisions else [],
    )


@router.post(
    "/scenarios",
    operation_id="createScenario",
    status_code=201,
    response_model=ScenarioOut,
    openapi_extra=UPLOAD_BODY,
    responses=UPLOAD_RESPONSES,
)
def upload_scenario(
    caller: Planner,
    upload: Annotated[Upload, Depends(read_upload)],
    session: SessionDep,
    settings: SettingsDep,
) -> ScenarioOut:
    """Upload a scenario (YAML + the CSV files it names): checked like `wfm validate`, stored as
    revision 1. Every problem is answered at once (422) with its file, line and key path."""
    prepared = validate_files(upload.main_file, upload.files, settings.data_dir)
    row = create_scenario(
        session, upload.main_file, upload.files, prepared, upload.comment, caller.label
    )
    return _scenario_out(row)


@router.post(
    "/scenarios/{scenario_id}/revisions",
    operation_id="createScenarioRevision",
    status_code=201,
    response_model=ScenarioOut,
    openapi_extra=UPLOAD_BODY,
    responses=UPLOAD_RESPONSES,
)
def upload_revision(
    caller: Planner,
    scenario_id: ScenarioId,
    upload: Annotated[Upload, Depends(read_upload)],
    session: SessionDep,
    settings: SettingsDep,
) -> ScenarioOut:
    """Upload a new revision of a scenario (all its files again); earlier ones stay."""
    get_scenario(session, scenario_id)
    prepared = validate_files(upload.main_file, upload.files, settings.data_dir)
    row = add_revision(
        session,
        scenario_id,
        upload.main_file,
        upload.files,
        prepared,
        upload.comment,
        caller.label,
    )
    return _scenario_out(row)


@router.get("/scenarios", operation_id="listScenarios", response_model=ScenarioList)
def list_scenarios(
    session: SessionDep,
    _: AnyRole,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> ScenarioList:
    """Scenarios, newest first (without their revisions' details)."""
    total = session.scalar(select(func.count()).select_from(ScenarioRow)) or 0
    rows = session.scalars(
        select(ScenarioRow).order_by(ScenarioRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return ScenarioList(items=[_scenario_out(r, with_revisions=False) for r in rows], total=total)


@router.get("/scenarios/{scenario_id}", operation_id="getScenario", response_model=ScenarioOut)
def get_one(scenario_id: ScenarioId, session: SessionDep, _: AnyRole) -> ScenarioOut:
    """A scenario with every revision: who uploaded what, when, and its files."""
    return _scenario_out(get_scenario(session, scenario_id))


@router.get(
    "/scenarios/{scenario_id}/revisions/{number}",
    operation_id="getScenarioRevision",
    response_model=RevisionOut,
)
def get_revision_route(
    scenario_id: ScenarioId, number: RevisionNumber, session: SessionDep, _: AnyRole
) -> RevisionOut:
    return _revision_out(get_revision(session, scenario_id, number))


@router.get(
    "/scenarios/{scenario_id}/revisions/{number}/files/{path:path}",
    operation_id="getScenarioFile",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/plain": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
def get_file(
    scenario_id: ScenarioId, number: RevisionNumber, path: str, session: SessionDep, _: AnyRole
) -> Response:
    """A file of a revision, as uploaded."""
    revision = get_revision(session, scenario_id, number)
    for f in revision.files:
        if f.path == path:
            media = "text/csv" if PurePosixPath(path).suffix.lower() == ".csv" else "text/plain"
            return Response(f.content, media_type=f"{media}; charset=utf-8")
    raise NotFoundError(f"file of revision {number}", path)


@router.get(
    "/scenarios/{scenario_id}/diff", operation_id="diffScenario", response_model=ScenarioDiff
)
def diff(
    scenario_id: ScenarioId,
    session: SessionDep,
    _: AnyRole,
    from_revision: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the one before to_revision")
    ] = None,
    to_revision: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Default: the latest")
    ] = None,
) -> ScenarioDiff:
    """What changed between two revisions, file by file (unified diffs)."""
    b = get_revision(session, scenario_id, to_revision)
    a = get_revision(session, scenario_id, from_revision or max(1, b.number - 1))
    return diff_revisions(a, b)
