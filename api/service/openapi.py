"""The OpenAPI document, with local wall-clock times described as they are.

Interval starts, history rows, leave bounds and forecast starts are local times of the centre
without a UTC offset (``2026-12-07T08:15``); pydantic documents them as RFC 3339 ``date-time``,
which requires an offset. They are documented here as ``local-date-time`` strings with a pattern
instead. Time stamps of the service itself (``created_at`` ...) are UTC and stay ``date-time``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["LOCAL_TIME_FIELDS", "install"]

LOCAL_TIME_FIELDS = {
    "ChannelPlan": ("interval_start",),
    "IntervalForecast": ("interval_start",),
    "HistoryRow": ("interval_start",),
    "ForecastRequest": ("start",),
    "LeaveRequestIn": ("start", "end"),
}
LOCAL = {
    "type": "string",
    "format": "local-date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
    "description": "Local wall-clock time without a UTC offset, e.g. 2026-12-07T08:15",
}


def _localise(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            return {**LOCAL}
        return {k: _localise(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_localise(v) for v in node]
    return node


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with local times described."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = doc.get("components", {}).get("schemas", {})
            for name, fields in LOCAL_TIME_FIELDS.items():
                for key in (name, f"{name}-Input", f"{name}-Output"):
                    props = schemas.get(key, {}).get("properties", {})
                    for f in fields:
                        if f in props:
                            props[f] = _localise(props[f])
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
