"""The workspace's page machinery: templates, the top bar by role, role checks shared with the
HTTP API, and one route class that turns domain errors into pages (never a traceback)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from api.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    QueueFullError,
)
from api.service.deps import (
    ANY_ROLES,
    HR_ROLES,
    PLANNER_ROLES,
    READER_ROLES,
    Caller,
    allows,
    require,
)
from api.settings import Role
from api.store.jobs import problem_out
from api.store.models import ProblemOut
from api.web.session import SessionCookie, SignInNeeded, WebSession

__all__ = [
    "PREFIX",
    "AnyUser",
    "HRUser",
    "PlannerUser",
    "ReaderUser",
    "WebRoute",
    "check_csrf",
    "problems_of",
    "render",
]

log = logging.getLogger("wfm.web")

PREFIX = "/ui"
HERE = Path(__file__).resolve().parent
_ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    roles: tuple[Role, ...]
    key: str


NAV = (
    NavItem("Scenarios", f"{PREFIX}/scenarios", ANY_ROLES, "scenarios"),
    NavItem("Solve", f"{PREFIX}/solves", READER_ROLES, "solves"),
    NavItem("Roster", f"{PREFIX}/roster", READER_ROLES, "roster"),
    NavItem("Coverage", f"{PREFIX}/coverage", READER_ROLES, "coverage"),
    NavItem("Leave", f"{PREFIX}/leave", ANY_ROLES, "leave"),
    NavItem("What-ifs", f"{PREFIX}/what-ifs", PLANNER_ROLES, "what-ifs"),
)


@dataclass(frozen=True)
class May:
    """What the signed-in caller may do: the templates show only these actions."""

    upload: bool
    solve: bool
    read_rosters: bool
    change_leave: bool
    compare: bool

    @classmethod
    def of(cls, caller: Caller | None) -> May:
        if caller is None:
            return cls(False, False, False, False, False)
        return cls(
            upload=allows(caller, *PLANNER_ROLES),
            solve=allows(caller, *READER_ROLES),
            read_rosters=allows(caller, *READER_ROLES),
            change_leave=allows(caller, *HR_ROLES),
            compare=allows(caller, *PLANNER_ROLES),
        )


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 1) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:,.{digits}f}"


_ENV.filters["pct"] = _pct
_ENV.filters["num"] = _num
_ENV.filters["tojson_attr"] = lambda v: json.dumps(v, separators=(",", ":"))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page with the top bar for the signed-in caller (if any)."""
    session: WebSession | None = getattr(request.state, "web_session", None)
    caller = session.caller if session is not None else None
    nav = [n for n in NAV if caller is not None and allows(caller, *n.roles)]
    html = _ENV.get_template(template).render(
        request=request,
        caller=caller,
        nav=nav,
        may=May.of(caller),
        csrf=getattr(request.state, "csrf", ""),
        prefix=PREFIX,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def problems_of(exc: InputError) -> list[ProblemOut]:
    """The problems of an input error, located (file, line, path) as the API answers them."""
    return [problem_out(p) for p in exc.problems]


def _error_page(
    request: Request, status: int, title: str, message: str, problems: list[ProblemOut]
) -> Response:
    if request.url.path.endswith(".json"):
        body = {"error": title, "message": message, "problems": [p.model_dump() for p in problems]}
        return JSONResponse(body, status_code=status)
    return render(request, "error.html.j2", status, title=title, message=message, problems=problems)


def sign_in_redirect(request: Request, code: str) -> Response:
    if request.url.path.endswith(".json"):
        return JSONResponse(
            {"error": "unauthorized", "message": "sign in again", "sign_in": f"{PREFIX}/sign-in"},
            status_code=401,
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.headers.get("referer", "") or "/"
        target = "/" + target.split("/", 3)[-1] if "://" in target else target
    return RedirectResponse(
        f"{PREFIX}/sign-in?why={code}&next={quote(target, safe='')}", status_code=303
    )


class WebRoute(APIRoute):
    """Runs a page and answers its errors as pages: sign-in needed -> the sign-in page (303),
    a role that may not -> 403, unknown ids -> 404, a state that does not allow it -> 409,
    bad input -> 422 with every problem located, a full queue -> 429."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded as exc:
                return sign_in_redirect(request, exc.code)
            except PermissionDeniedError as exc:
                return _error_page(request, 403, "Not allowed", str(exc), [])
            except NotFoundError as exc:
                return _error_page(request, 404, "Not found", str(exc), [])
            except ConflictError as exc:
                return _error_page(request, 409, "Not possible now", str(exc), [])
            except QueueFullError as exc:
                return _error_page(request, 429, "Queue full", str(exc), [])
            except InputError as exc:
                n = len(exc.problems)
                msg = f"{n} problem{'s' if n != 1 else ''} found; nothing was stored"
                return _error_page(request, 422, "Invalid input", msg, problems_of(exc))
            except RequestValidationError as exc:
                problems = [
                    problem_out(
                        Problem(
                            ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                            str(e.get("msg", "invalid value")).removeprefix("Value error, "),
                        )
                    )
                    for e in exc.errors()
                ]
                return _error_page(
                    request, 422, "Invalid input", "the request has invalid values", problems
                )

        return run


def web_require(*allowed: Role) -> Callable[..., Awaitable[Caller]]:
    """The API's own role check (``api.service.deps.require``) on the session's caller."""
    check = require(*allowed)

    async def dep(session: SessionCookie) -> Caller:
        return await check(session.caller)

    return dep


AnyUser = Annotated[Caller, Depends(web_require(*ANY_ROLES))]
HRUser = Annotated[Caller, Depends(web_require(*HR_ROLES))]
PlannerUser = Annotated[Caller, Depends(web_require(*PLANNER_ROLES))]
ReaderUser = Annotated[Caller, Depends(web_require(*READER_ROLES))]


async def check_csrf(request: Request, session: SessionCookie) -> WebSession:
    """A form post must carry this session's token (field ``csrf`` or header ``X-CSRF-Token``)."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    expected: str = request.state.csrf
    if not sent or not hmac.compare_digest(sent, expected):
        raise PermissionDeniedError(
            "the form is out of date or came from another site (no valid CSRF token); reload "
            "the page and try again"
        )
    return session


CsrfChecked = Annotated[WebSession, Depends(check_csrf)]
