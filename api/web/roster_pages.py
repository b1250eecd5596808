"""Roster and coverage of a finished solve: the agents x days grid with filters and totals, each
agent's day timeline, the hard-rule check and penalties by rule, the coverage charts and the
intervals under target, and the downloads (the HTTP API's own result routes)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.errors import NotFoundError
from api.service.deps import SessionDep, SettingsDep
from api.service.routes import solves as api
from api.store.db import JobRow
from api.store.jobs import get_job
from api.store.models import JobKind, JobStatus
from api.web.pages import PREFIX, ReaderUser, WebRoute, render
from api.web.views import RosterView, epoch, roster_view

router = APIRouter(route_class=WebRoute, include_in_schema=False)

JobId = Annotated[str, Path(min_length=1, max_length=64, description="Job id")]
AgentId = Annotated[str, Path(min_length=1, max_length=100)]
Filter = Annotated[str, Query(max_length=100)]


def _finished(session: Session, limit: int = 20) -> list[JobRow]:
    """The latest finished solves (variants of comparisons included), newest first."""
    return list(
        session.scalars(
            select(JobRow)
            .where(
                JobRow.kind == JobKind.solve.value,
                JobRow.status == JobStatus.finished.value,
            )
            .order_by(JobRow.finished_at.desc())
            .limit(limit)
        )
    )


def _latest(request: Request, session: Session, page: str, solve: str | None) -> Response:
    if solve:
        job = get_job(session, solve)
    else:
        jobs = _finished(session, 1)
        if not jobs:
            return render(request, "no_roster.html.j2", active=page, page=page)
        job = jobs[0]
    return RedirectResponse(f"{PREFIX}/solves/{job.id}/{page}", status_code=303)


Solve = Annotated[str | None, Query(max_length=64, description="A solve id (the picker)")]


@router.get(f"{PREFIX}/roster", name="roster_latest")
def roster_latest(
    request: Request, session: SessionDep, _: ReaderUser, solve: Solve = None
) -> Response:
    """The latest finished solve's roster (or the one picked)."""
    return _latest(request, session, "roster", solve)


@router.get(f"{PREFIX}/coverage", name="coverage_latest")
def coverage_latest(
    request: Request, session: SessionDep, _: ReaderUser, solve: Solve = None
) -> Response:
    """The latest finished solve's coverage (or the one picked)."""
    return _latest(request, session, "coverage", solve)


def _view(request: Request, session: Session, settings: Any, job_id: str) -> RosterView:
    return roster_view(request, session, settings, get_job(session, job_id))


@router.get(f"{PREFIX}/solves/{{job_id}}/roster", name="roster")
def roster_page(
    request: Request,
    job_id: JobId,
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderUser,
    team: Filter = "",
    skill: Filter = "",
    contract: Filter = "",
    role: Filter = "",
) -> Response:
    view = _view(request, session, settings, job_id)
    rows = [
        r
        for r in view.rows
        if (not team or r.team == team)
        and (not skill or skill in r.skills)
        and (not contract or r.contract == contract)
        and (not role or role in r.roles)
    ]
    return render(
        request,
        "roster.html.j2",
        active="roster",
        view=view,
        rows=rows,
        filters={"team": team, "skill": skill, "contract": contract, "role": role},
        options={
            "team": view.options("team"),
            "skill": view.options("skills"),
            "contract": view.options("contract"),
            "role": view.options("roles"),
        },
        solves=_finished(session),
    )


@router.get(f"{PREFIX}/solves/{{job_id}}/roster/{{agent_id}}/{{day}}", name="day")
def day_page(
    request: Request,
    job_id: JobId,
    agent_id: AgentId,
    day: date,
    session: SessionDep,
    settings: SettingsDep,
    _: ReaderUser,
    partial: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    """One agent's day: briefing, work per channel, breaks, lunch, training, leave."""
    view = _view(request, session, settings, job_id)
    row = next((r for r in view.rows if r.id == agent_id), None)
    if row is None:
        raise NotFoundError(f"agent in solve {job_id}", agent_id)
    if day not in view.days:
        raise NotFoundError(f"day of solve {job_id}", day.isoformat())
    d = view.days.index(day)
    items = view.timelines.get((agent_id, d), [])
    lo = min((i.start for i in items), default=None)
    hi = max((i.end for i in items), default=None)
    segments = []
    if lo is not None and hi is not None:
        span = (hi - lo).total_seconds() or 1.0
        for i in items:
            segments.append(
                {
                    "item": i,
                    "left": round(100 * (i.start - lo).total_seconds() / span, 3),
                    "width": round(100 * (i.end - i.start).total_seconds() / span, 3),
                }
            )
    return render(
        request,
        "day_partial.html.j2" if partial else "day.html.j2",
        active="roster",
        view=view,
        row=row,
        cell=row.cells[d],
        day=day,
        items=items,
        segments=segments,
        start=lo,
        end=hi,
    )


@router.get(f"{PREFIX}/solves/{{job_id}}/coverage", name="coverage")
def coverage_page(
    request: Request, job_id: JobId, session: SessionDep, settings: SettingsDep, _: ReaderUser
) -> Response:
    view = _view(request, session, settings, job_id)
    chart = {
        # wall-clock times as seconds since 1970 read as UTC; the page draws them in UTC
        "x": [epoch(t) for t in view.slot_starts],
        "interval_s": view.interval_minutes * 60,
        "channels": [
            {
                "id": c.id,
                "kind": c.kind,
                "deferred": c.deferred,
                "colour": c.colour,
                "target": c.target,
                "required": c.required,
                "scheduled": c.scheduled,
                "service_level": c.service_level,
                "backlog": c.backlog_items,
            }
            for c in view.channels
        ],
    }
    return render(
        request,
        "coverage.html.j2",
        active="coverage",
        view=view,
        chart=chart,
        under=view.under_target(),
        solves=_finished(session),
    )


def _attachment(response: Response, name: str) -> Response:
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(f"{PREFIX}/solves/{{job_id}}/roster.csv", name="roster_csv")
def roster_csv(job_id: JobId, session: SessionDep, caller: ReaderUser) -> Response:
    out: Response = api.roster(job_id, session, caller, "text/csv")
    return _attachment(out, f"roster-{job_id}.csv")


@router.get(f"{PREFIX}/solves/{{job_id}}/coverage.csv", name="coverage_csv")
def coverage_csv(job_id: JobId, session: SessionDep, caller: ReaderUser) -> Response:
    out: Response = api.coverage(job_id, session, caller, "text/csv")
    return _attachment(out, f"coverage-{job_id}.csv")


@router.get(f"{PREFIX}/solves/{{job_id}}/roster.xlsx", name="roster_xlsx")
def roster_xlsx(job_id: JobId, session: SessionDep, caller: ReaderUser) -> Response:
    return api.xlsx(job_id, session, caller)


@router.get(f"{PREFIX}/solves/{{job_id}}/report.html", name="report")
def report(job_id: JobId, session: SessionDep, caller: ReaderUser) -> Response:
    return api.report(job_id, session, caller)


@router.get(f"{PREFIX}/solves/{{job_id}}/calendars/{{agent_id}}.ics", name="calendar")
def calendar(job_id: JobId, agent_id: AgentId, session: SessionDep, caller: ReaderUser) -> Response:
    out = api.calendar(job_id, agent_id, session, caller)
    return _attachment(out, f"{agent_id}.ics")
