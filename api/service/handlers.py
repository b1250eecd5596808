"""Domain errors -> HTTP responses, in one place: every error body is an ``ErrorBody``.

InputError -> 422 with every located problem; NotFoundError -> 404; ConflictError -> 409;
QueueFullError -> 429 (Retry-After); AuthenticationError -> 401; PermissionDeniedError -> 403;
request validation -> 422 naming the field. An unexpected exception becomes a 500 with an error
id in ``api.service.limits.Guard`` (logged once, briefly).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    Problem,
    QueueFullError,
)
from api.service.schemas import ErrorBody
from api.store.jobs import problem_out

__all__ = ["ERROR_RESPONSES", "error_response", "install"]

log = logging.getLogger("wfm.http")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or an unknown one"},
    403: {"model": ErrorBody, "description": "The key's roles do not allow this"},
    413: {"model": ErrorBody, "description": "The request body is too large"},
    422: {"model": ErrorBody, "description": "Invalid input: every problem, located"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No such resource"}
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Not possible in the resource's current state"}
}
QUEUE_FULL: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "The solve queue is full; retry later"}
}


def error_response(
    status: int,
    error: str,
    message: str,
    problems: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=error, message=message, problems=[problem_out(p) for p in problems or []]
    )
    # error_id belongs to 500s only (api.service.limits.Guard)
    content = body.model_dump(mode="json", exclude={"error_id"})
    return JSONResponse(content, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body",) or len(loc) == 1]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _validation_message(e: dict[str, Any]) -> str:
    msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
    if e.get("type") == "missing":
        return "required"
    return msg


async def _input_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    n = len(exc.problems)
    return error_response(
        422,
        "invalid_input",
        f"{n} problem{'s' if n != 1 else ''} found; nothing was stored",
        exc.problems,
    )


async def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        Problem(_field(tuple(e.get("loc", ()))), _validation_message(e)) for e in exc.errors()
    ]
    n = len(problems)
    return error_response(
        422, "invalid_input", f"{n} problem{'s' if n != 1 else ''} in the request", problems
    )


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "not_found", str(exc))


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return error_response(409, "conflict", str(exc))


async def _queue_full(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, QueueFullError)
    return error_response(
        429, "queue_full", str(exc), headers={"Retry-After": str(exc.retry_after_s)}
    )


async def _unauthorized(_: Request, exc: Exception) -> JSONResponse:
    return error_response(401, "unauthorized", str(exc), headers={"WWW-Authenticate": "ApiKey"})


async def _forbidden(_: Request, exc: Exception) -> JSONResponse:
    return error_response(403, "forbidden", str(exc))


_HTTP_ERRORS = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error = _HTTP_ERRORS.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = "no such route; the routes are listed at /docs"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, error, message, headers=headers)


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(QueueFullError, _queue_full)
    app.add_exception_handler(AuthenticationError, _unauthorized)
    app.add_exception_handler(PermissionDeniedError, _forbidden)
    app.add_exception_handler(StarletteHTTPException, _http)
