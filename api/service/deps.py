"""Shared objects of the HTTP service as ``Annotated`` dependencies: settings, a database
session per request (committed before the response is sent), the job runner, and the caller's
roles from the API key."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.errors import AuthenticationError, PermissionDeniedError
from api.settings import Role, Settings
from api.store.runner import JobRunner

__all__ = [
    "Caller",
    "RunnerDep",
    "Services",
    "SessionDep",
    "SettingsDep",
    "allows",
    "authenticate",
    "require",
]


@dataclass
class Services:
    """What one app instance shares between requests (kept on ``app.state``)."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    runner: JobRunner


# The dependencies are ``async def`` (FastAPI runs a plain ``def`` dependency in the thread
# pool: one hop per dependency per request, which under 50 concurrent readers cost more than
# the queries). They only read ``app.state``; the session's commit and close, which may wait
# on the database, go to the thread pool, in one hop, shielded from cancellation.


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _settings(request: Request) -> Settings:
    return _services(request).settings


def _end(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _session(request: Request) -> AsyncIterator[Session]:
    """A session per request (no connection until its first query), committed before the
    response is sent, rolled back on an error."""
    session = _services(request).factory()
    ok = False
    try:
        yield session
        ok = True
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_end, session, ok)


async def _runner(request: Request) -> JobRunner:
    return _services(request).runner


SettingsDep = Annotated[Settings, Depends(_settings)]
SessionDep = Annotated[Session, Depends(_session, scope="function")]
RunnerDep = Annotated[JobRunner, Depends(_runner)]

api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from WFM_API_KEYS; its roles decide what it may do",
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the roles of their key (and a short label for the history)."""

    roles: frozenset[Role]

    @property
    def label(self) -> str:
        return "+".join(sorted(r.value for r in self.roles))


async def _caller(settings: SettingsDep, key: Annotated[str | None, Security(api_key)]) -> Caller:
    return authenticate(settings, key)


def authenticate(settings: Settings, key: str | None) -> Caller:
    """The caller an API key stands for (the header's, or the web workspace's sign-in);
    AuthenticationError for none or an unknown one."""
    if not settings.api_keys:
        raise AuthenticationError(
            "the service has no API keys configured; set WFM_API_KEYS (see docs/service.md)"
        )
    if not key:
        raise AuthenticationError("missing API key: send it in the X-API-Key header")
    roles: list[Role] | None = None
    for known, known_roles in settings.api_keys.items():
        if hmac.compare_digest(known.encode(), key.encode()):
            roles = known_roles
    if roles is None:
        raise AuthenticationError("unknown API key")
    return Caller(frozenset(roles))


def allows(caller: Caller, *allowed: Role) -> bool:
    """Whether the caller has one of ``allowed`` (or admin): the one rule of every role check."""
    return Role.admin in caller.roles or bool(caller.roles & set(allowed))


def require(*allowed: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency that lets callers with one of ``allowed`` (or admin) through, else 403."""

    async def check(caller: Annotated[Caller, Depends(_caller)]) -> Caller:
        if allows(caller, *allowed):
            return caller
        need = " or ".join(r.value for r in allowed)
        raise PermissionDeniedError(
            f"this operation needs the role {need}; your key has {caller.label}"
        )

    return check


# Who may do what: the role sets of the routes (the web workspace shows and checks the same)
HR_ROLES = (Role.hr,)
PLANNER_ROLES = (Role.planner,)
READER_ROLES = (Role.planner, Role.supervisor)
ANY_ROLES = (Role.hr, Role.planner, Role.supervisor)

HR = Annotated[Caller, Depends(require(*HR_ROLES))]
Planner = Annotated[Caller, Depends(require(*PLANNER_ROLES))]
Reader = Annotated[Caller, Depends(require(*READER_ROLES))]
AnyRole = Annotated[Caller, Depends(require(*ANY_ROLES))]
LeaveReader = Annotated[Caller, Depends(require(*ANY_ROLES))]
