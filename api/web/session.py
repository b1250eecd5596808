"""Sign-in for the web workspace: an API key becomes a signed, HTTP-only session cookie.

The cookie never holds the key: it holds a fingerprint of it (SHA-256), an expiry and an HMAC of
both under a secret kept in the data folder (``web-session.key``, created on first use, so
sessions survive a restart). Each request looks the fingerprint up among ``WFM_API_KEYS``: a key
taken out of the settings ends its sessions. Roles are the key's, checked by
``api.service.deps`` exactly as for the HTTP API. Forms carry a CSRF token derived from the
session (the cookie is also ``SameSite=Strict``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from api.service.deps import Caller, SettingsDep, authenticate
from api.settings import Settings

__all__ = [
    "COOKIE",
    "REASONS",
    "SESSION_S",
    "SignInNeeded",
    "WebSession",
    "clear_cookie",
    "csrf_token",
    "make_cookie",
    "read_cookie",
    "secret_of",
    "set_cookie",
]

COOKIE = "wfm_session"
SESSION_S = 8 * 3600
"""How long a sign-in lasts (a working day)."""
SECRET_FILE = "web-session.key"


REASONS = {
    "none": "Sign in with your API key.",
    "invalid": "Your session is not valid; sign in again.",
    "expired": "Your session has expired; sign in again.",
    "gone": "The API key of your session is no longer configured; sign in with a current key.",
    "signed-out": "You have signed out.",
}
"""Why the sign-in page is shown (the ``why`` query parameter: a code, never free text)."""


class SignInNeeded(Exception):
    """No session, an expired one, or one whose key is no longer configured: sign in again."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(REASONS[code])


@dataclass(frozen=True)
class WebSession:
    """The signed-in caller and the cookie value (for the CSRF token)."""

    caller: Caller
    token: str
    expires: int


def secret_of(data_dir: Path) -> bytes:
    """The signing secret of this data folder (32 random bytes, created once, mode 0600)."""
    path = data_dir / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{SECRET_FILE}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    try:
        os.link(tmp, path)  # the first writer wins; later ones read its secret
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()


def _secret(request: Request, settings: Settings) -> bytes:
    state = request.app.state
    secret: bytes | None = getattr(state, "web_secret", None)
    if secret is None:
        secret = secret_of(settings.data_dir)
        state.web_secret = secret
    return secret


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _sign(secret: bytes, payload: str) -> str:
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make_cookie(secret: bytes, key: str, now: float | None = None) -> str:
    """The cookie value of a session of ``key`` starting at ``now``."""
    expires = int((time.time() if now is None else now) + SESSION_S)
    payload = f"v1.{_fingerprint(key)}.{expires}"
    return f"{payload}.{_sign(secret, payload)}"


def read_cookie(secret: bytes, settings: Settings, value: str | None) -> WebSession:
    """The session a cookie stands for; SignInNeeded with the reason otherwise."""
    if not value:
        raise SignInNeeded("none")
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != "v1" or not parts[2].isdigit():
        raise SignInNeeded("invalid")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_sign(secret, payload), parts[3]):
        raise SignInNeeded("invalid")
    expires = int(parts[2])
    if expires < time.time():
        raise SignInNeeded("expired")
    for key in settings.api_keys:
        if hmac.compare_digest(_fingerprint(key), parts[1]):
            return WebSession(authenticate(settings, key), value, expires)
    raise SignInNeeded("gone")


def csrf_token(secret: bytes, session: WebSession) -> str:
    """The token every form of this session sends back."""
    return _sign(secret, "csrf:" + session.token)[:32]


def set_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_S,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")


async def _session(request: Request, settings: SettingsDep) -> WebSession:
    secret = _secret(request, settings)
    session = read_cookie(secret, settings, request.cookies.get(COOKIE))
    request.state.web_session = session
    request.state.csrf = csrf_token(secret, session)
    return session


SessionCookie = Annotated[WebSession, Depends(_session)]


async def secret_dep(request: Request, settings: SettingsDep) -> bytes:
    return _secret(request, settings)


SecretDep = Annotated[bytes, Depends(secret_dep)]
