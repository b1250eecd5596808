"""Solve: start a solve, its live progress (polled from ``progress.json``), cancel, the job list
with states and queue positions. Each action calls the HTTP API's own route function."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.errors import ConflictError, InputError, NotFoundError, Problem
from api.service.deps import RunnerDep, SessionDep, SettingsDep
from api.service.routes import scenarios as scenario_api
from api.service.routes import solves as api
from api.store.jobs import get_job
from api.store.models import JobKind, JobOut, JobStatus, ReplanRequest, SolveRequest
from api.web.pages import PREFIX, CsrfChecked, ReaderUser, WebRoute, problems_of, render
from api.web.views import RosterView, roster_view, what_if_chart

router = APIRouter(route_class=WebRoute, include_in_schema=False)

JobId = Annotated[str, Path(min_length=1, max_length=64, description="Job id")]
ACTIVE = (JobStatus.queued, JobStatus.running)


def _problems(exc: ValidationError) -> InputError:
    return InputError(
        [
            Problem(
                ".".join(str(p) for p in e["loc"]) or "form",
                str(e["msg"]).removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
    )


def _number(value: str, name: str, kind: type[int] | type[float]) -> Any:
    """A form field as a number (None when left empty); InputError naming the field."""
    text = value.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InputError.one(name, f"expected {what}, got {text!r}") from None


def _jobs(session: Any, caller: Any) -> list[JobOut]:
    listing = api.list_solves(session, caller, None, None, None, 100, 0)
    return [j for j in listing.items if j.parent_id is None]


@router.get(f"{PREFIX}/solves", name="solves")
def solves_page(
    request: Request,
    session: SessionDep,
    caller: ReaderUser,
    scenario_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    scenarios = scenario_api.list_scenarios(session, caller, limit=500, offset=0).items
    return render(
        request,
        "solves.html.j2",
        active="solves",
        scenarios=scenarios,
        chosen=scenario_id,
        jobs=_jobs(session, caller),
        problems=[],
    )


@router.get(f"{PREFIX}/solves/table", name="solves_table")
def solves_table(request: Request, session: SessionDep, caller: ReaderUser) -> Response:
    """The job list alone (the page refreshes it while jobs are queued or running)."""
    return render(request, "solves_table.html.j2", jobs=_jobs(session, caller))


@router.post(f"{PREFIX}/solves", name="start_solve")
def start_solve(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: ReaderUser,
    _: CsrfChecked,
    scenario_id: Annotated[str, Form(max_length=20)] = "",
    revision: Annotated[str, Form(max_length=20)] = "",
    time_limit_s: Annotated[str, Form(max_length=20)] = "",
    include_stored_leave: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Queue a solve (``POST /solves``) and open its progress page."""
    try:
        try:
            body = SolveRequest(
                scenario_id=_number(scenario_id, "scenario_id", int),
                revision=_number(revision, "revision", int),
                time_limit_s=_number(time_limit_s, "time_limit_s", float),
                include_stored_leave=include_stored_leave is not None,
            )
        except ValidationError as exc:
            raise _problems(exc) from None
        job = api.create_solve(body, session, settings, runner, caller)
    except InputError as exc:
        session.rollback()
        scenarios = scenario_api.list_scenarios(session, caller, limit=500, offset=0).items
        return render(
            request,
            "solves.html.j2",
            422,
            active="solves",
            scenarios=scenarios,
            chosen=None,
            jobs=_jobs(session, caller),
            problems=problems_of(exc),
        )
    return RedirectResponse(f"{PREFIX}/solves/{job.id}", status_code=303)


@router.get(f"{PREFIX}/solves/{{job_id}}", name="solve")
def solve_page(
    request: Request,
    job_id: JobId,
    session: SessionDep,
    settings: SettingsDep,
    caller: ReaderUser,
) -> Response:
    job = api.get_solve(job_id, session, caller)
    children = [api.get_solve(c, session, caller) for c in job.children]
    comparison = None
    what_if = None
    if job.kind == JobKind.compare and job.status == JobStatus.finished:
        comparison = api.comparison(job_id, session, caller, None)
        what_if = what_if_chart(_variant_views(request, session, settings, children))
    changes = None
    if job.kind == JobKind.solve and job.status == JobStatus.finished:
        try:  # a re-plan's changes (other solves have none)
            changes = api.changes(job_id, session, caller, None)
        except (NotFoundError, ConflictError):
            changes = None
    return render(
        request,
        "solve.html.j2",
        active="solves",
        job=job,
        children=children,
        comparison=comparison,
        what_if=what_if,
        changes=changes,
        active_states=ACTIVE,
    )


def _variant_views(
    request: Request, session: Any, settings: Any, children: list[JobOut]
) -> list[tuple[str, RosterView]]:
    """The comparison's finished variants with a roster, as the roster pages see them."""
    out = []
    for c in children:
        if c.status != JobStatus.finished:
            continue
        try:
            view = roster_view(request, session, settings, get_job(session, c.id))
        except (NotFoundError, ConflictError):
            continue
        if view.solved:
            out.append((c.variant or c.id[:8], view))
    return out


@router.post(f"{PREFIX}/solves/{{job_id}}/replan", name="replan")
def replan(
    request: Request,
    job_id: JobId,
    session: SessionDep,
    settings: SettingsDep,
    runner: RunnerDep,
    caller: ReaderUser,
    _: CsrfChecked,
    frozen_until: Annotated[str, Form(max_length=40)] = "",
    pin: Annotated[list[str] | None, Form(max_length=200)] = None,
    absent_agent: Annotated[str, Form(max_length=64)] = "",
    absent_from: Annotated[str, Form(max_length=40)] = "",
    absent_to: Annotated[str, Form(max_length=40)] = "",
    time_limit_s: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Pin and re-solve from the roster grid: the ticked shifts (``AGENT|YYYY-MM-DD``) are
    kept exactly, an agent marked unavailable becomes an absence, and the solve is re-planned
    (``POST /solves/{id}/replan``); the new job's page lists what changed."""
    api.get_solve(job_id, session, caller)  # 404 first for an unknown id
    events: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for value in pin or []:
        agent, sep, day = value.partition("|")
        if not sep or not agent or not day:
            problems.append(Problem("pin", f"expected AGENT|YYYY-MM-DD, got {value!r}"))
        else:
            events.append({"pin": {"agent": agent, "date": day}})
    if absent_agent.strip():
        span = {"agent": absent_agent.strip(), "from": absent_from, "to": absent_to}
        events.append({"absence": span})
    elif absent_from.strip() or absent_to.strip():
        problems.append(Problem("absent_agent", "choose the agent who is unavailable"))
    if not events and not problems:
        problems.append(
            Problem("pin", "tick at least one shift to pin, or mark an agent unavailable")
        )
    if problems:
        raise InputError(problems)
    try:
        body = ReplanRequest.model_validate(
            {
                "frozen_until": frozen_until.strip() or None,
                "events": events,
                "time_limit_s": _number(time_limit_s, "time_limit_s", float),
            }
        )
    except ValidationError as exc:
        raise _problems(exc) from None
    job = api.create_replan(job_id, body, session, settings, runner, caller)
    return RedirectResponse(f"{PREFIX}/solves/{job.id}", status_code=303)


@router.get(f"{PREFIX}/solves/{{job_id}}/progress.json", name="solve_progress")
def progress(job_id: JobId, session: SessionDep, caller: ReaderUser) -> Response:
    """The job as ``GET /solves/{id}`` answers it (the progress panel polls this)."""
    job = api.get_solve(job_id, session, caller)
    return JSONResponse(job.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post(f"{PREFIX}/solves/{{job_id}}/cancel", name="cancel_solve")
def cancel(
    job_id: JobId, runner: RunnerDep, session: SessionDep, caller: ReaderUser, _: CsrfChecked
) -> Response:
    """Cancel a queued or running solve (``DELETE /solves/{id}``)."""
    api.get_solve(job_id, session, caller)  # 404 first for an unknown id
    api.cancel_solve(job_id, runner, caller)
    return RedirectResponse(f"{PREFIX}/solves/{job_id}", status_code=303)
