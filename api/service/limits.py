"""ASGI middleware: request bodies above ``WFM_MAX_REQUEST_BYTES`` refused with 413 (from the
Content-Length header or while the body streams in); JSON bodies nested deeper than
``MAX_JSON_DEPTH`` refused with 422 before they are parsed; any unexpected error answered with
a 500 that carries an error id, logged once and briefly under that id."""

from __future__ import annotations

import json
import logging
import traceback
import uuid

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_JSON_DEPTH", "BodySizeLimit", "Guard", "json_depth"]

log = logging.getLogger("wfm.http")

MAX_JSON_DEPTH = 64
"""Nesting levels a JSON request body may have (the deepest request needs about 6)."""


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped), without
    parsing it (Python's parser recurses per level)."""
    data = np.frombuffer(body, dtype=np.uint8)
    if not data.size:
        return 0
    quote = data == ord('"')
    if quote.any():
        # a quote escaped by an odd run of backslashes does not end a string
        backslash = np.concatenate(([False], data[:-1] == ord("\\")))
        if backslash.any():
            idx = np.flatnonzero(quote)
            for i in idx:
                run = 0
                j = i - 1
                while j >= 0 and data[j] == ord("\\"):
                    run += 1
                    j -= 1
                if run % 2:
                    quote[i] = False
        inside = (np.cumsum(quote) % 2 == 1) & ~quote
    else:
        inside = np.zeros(data.size, dtype=bool)
    opens = ((data == ord("[")) | (data == ord("{"))) & ~inside
    closes = ((data == ord("]")) | (data == ord("}"))) & ~inside
    return int(np.max(np.cumsum(opens.astype(np.int64) - closes.astype(np.int64)), initial=0))


async def _send_json(
    send: Send, status: int, payload: dict[str, object], close: bool = False
) -> None:
    """A whole JSON response; ``close``: it ends the connection and says so."""
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Tracked:
    """``send`` that remembers whether the response has started (after which no error
    response can be sent in its place)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class Guard:
    """JSON depth before parsing, and the last word on unexpected errors: a 500 with an error
    id in the body, the error logged once (one line and the last frames), the connection left
    usable (the response is complete, so keep-alive clients carry on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_json(scope):
            chunks: list[bytes] = []
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            if json_depth(body) > MAX_JSON_DEPTH:
                await _send_json(
                    send,
                    422,
                    {
                        "error": "invalid_input",
                        "message": f"the JSON body nests arrays and objects more than "
                        f"{MAX_JSON_DEPTH} levels deep; nothing was stored",
                        "problems": [
                            {
                                "where": "body",
                                "message": f"expected at most {MAX_JSON_DEPTH} levels of nesting",
                            }
                        ],
                    },
                )
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            receive = replay
        tracked = _Tracked(send)
        try:
            await self.app(scope, receive, tracked)
        except _TooLarge:
            raise
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            frames = "".join(traceback.format_exception(exc, limit=-4)).rstrip()
            log.error(
                "error %s on %s %s: %s: %s\n%s",
                error_id,
                scope.get("method", ""),
                scope.get("path", ""),
                type(exc).__name__,
                str(exc)[:300],
                frames[-4000:],
            )
            if tracked.started:
                raise
            await _send_json(
                send,
                500,
                {
                    "error": "internal",
                    "message": f"unexpected error (a bug, logged by the server as {error_id}); "
                    "nothing was stored",
                    "error_id": error_id,
                    "problems": [],
                },
            )


def _is_json(scope: Scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        await _send_json(
            send,
            413,
            {
                "error": "payload_too_large",
                "message": f"the request body is larger than {self.max_bytes} bytes "
                "(WFM_MAX_REQUEST_BYTES)",
                "problems": [],
            },
            close=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    await self._refuse(send)
                    return
        seen = 0
        tracked = _Tracked(send)

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, tracked)
        except _TooLarge:
            if not tracked.started:
                await self._refuse(send)
