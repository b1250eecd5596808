"""Sign in, sign out and the home page (``/``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from api.errors import AuthenticationError
from api.service.deps import READER_ROLES, SessionDep, SettingsDep, allows, authenticate
from api.store.db import JobRow, ScenarioRow
from api.store.jobs import job_out
from api.store.models import JobKind
from api.web.pages import PREFIX, WebRoute, render
from api.web.session import (
    REASONS,
    SecretDep,
    SessionCookie,
    clear_cookie,
    make_cookie,
    set_cookie,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def _safe_next(target: str | None) -> str:
    """Only a path of this site (never another origin)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/", name="home")
def home(request: Request, web: SessionCookie, session: SessionDep) -> Response:
    """The start page: what the caller may do, recent scenarios and solves."""
    scenarios = session.scalars(select(ScenarioRow).order_by(ScenarioRow.id.desc()).limit(5)).all()
    jobs = []
    if allows(web.caller, *READER_ROLES):
        rows = session.scalars(
            select(JobRow)
            .where(JobRow.parent_id.is_(None))
            .order_by(JobRow.created_at.desc(), JobRow.position.desc())
            .limit(5)
        ).all()
        jobs = [job_out(session, r) for r in rows]
    return render(
        request, "home.html.j2", active="home", scenarios=scenarios, jobs=jobs, JobKind=JobKind
    )


@router.get(f"{PREFIX}/sign-in", name="sign_in_page")
def sign_in_page(
    request: Request,
    why: Annotated[str | None, Query(max_length=20)] = None,
    next_: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> Response:
    return render(
        request,
        "sign_in.html.j2",
        active="sign-in",
        notice=REASONS.get(why or "", ""),
        next=_safe_next(next_),
        error="",
    )


@router.post(f"{PREFIX}/sign-in", name="sign_in")
def sign_in(
    request: Request,
    settings: SettingsDep,
    secret: SecretDep,
    api_key: Annotated[str, Form(max_length=500)] = "",
    next_: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    """Check the key as the API does; on success a session cookie, and on to ``next``."""
    key = api_key.strip()
    try:
        authenticate(settings, key)
    except AuthenticationError as exc:
        message = str(exc)
        if not key:
            message = "enter your API key"
        return render(
            request,
            "sign_in.html.j2",
            401,
            active="sign-in",
            notice="",
            next=_safe_next(next_),
            error=message,
        )
    host = (request.url.hostname or "").lower()
    if request.url.scheme != "https" and host not in LOOPBACK:
        return render(
            request,
            "sign_in.html.j2",
            400,
            active="sign-in",
            notice="",
            next=_safe_next(next_),
            error="the session cookie is only sent over HTTPS: open the workspace through a "
            "TLS proxy (docs/service.md), or on this machine at http://127.0.0.1",
        )
    response = RedirectResponse(_safe_next(next_), status_code=303)
    set_cookie(response, make_cookie(secret, key))
    return response


@router.post(f"{PREFIX}/sign-out", name="sign_out")
def sign_out() -> Response:
    """Clear the session cookie (nothing is kept on the server; signing out needs no CSRF
    token: it is always safe)."""
    response = RedirectResponse(f"{PREFIX}/sign-in?why=signed-out", status_code=303)
    clear_cookie(response)
    return response
