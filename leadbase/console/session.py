"""The console's session: one encrypted, HTTP-only, SameSite=Lax cookie.

The cookie holds a Fernet token (AES-CBC + HMAC, from ``cryptography``; key derived from
the server secret) of a small JSON document: the CSRF token always, and once signed in
the user, workspace and sign-in session (a refresh-token family, so signing out, or the
API's revocation of every session of a user, ends it at once: ``workspace_scope`` checks
the family on every request). No token is ever readable by the page's scripts."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from starlette.responses import Response

from leadbase.config import Settings

COOKIE = "leadbase_console"
PATH = "/app"


@dataclass(frozen=True)
class ConsoleSession:
    csrf: str
    user_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    role: str | None = None
    name: str = ""
    email: str = ""
    workspace: str = ""
    lang: str | None = None
    issued_at: float = 0.0

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None and self.tenant_id is not None

    def to_json(self) -> bytes:
        return orjson.dumps({
            "c": self.csrf, "u": _s(self.user_id), "t": _s(self.tenant_id),
            "s": _s(self.session_id), "r": self.role, "n": self.name, "e": self.email,
            "w": self.workspace, "l": self.lang, "i": self.issued_at})

    @classmethod
    def from_json(cls, raw: bytes) -> ConsoleSession:
        d: dict[str, Any] = orjson.loads(raw)
        return cls(csrf=str(d["c"]), user_id=_u(d.get("u")), tenant_id=_u(d.get("t")),
                   session_id=_u(d.get("s")), role=d.get("r"), name=d.get("n") or "",
                   email=d.get("e") or "", workspace=d.get("w") or "", lang=d.get("l"),
                   issued_at=float(d.get("i") or 0))


def _s(value: uuid.UUID | None) -> str | None:
    return str(value) if value else None


def _u(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def anonymous(lang: str | None = None) -> ConsoleSession:
    return ConsoleSession(csrf=new_csrf(), lang=lang, issued_at=time.time())


class SessionCodec:
    """Seals and opens the cookie; the key is derived from the server's secret."""

    def __init__(self, settings: Settings) -> None:
        digest = hashlib.sha256(b"leadbase-console-session\x00"
                                + settings.jwt_secret().encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self.ttl = settings.console_session_ttl_seconds
        self.secure = settings.console_cookie_secure

    def seal(self, value: ConsoleSession) -> str:
        return self._fernet.encrypt(value.to_json()).decode()

    def open(self, token: str | None) -> ConsoleSession | None:
        if not token:
            return None
        try:
            raw = self._fernet.decrypt(token.encode(), ttl=self.ttl)
            return ConsoleSession.from_json(raw)
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    def write(self, request: Request, response: Response, value: ConsoleSession) -> None:
        secure = self.secure if self.secure is not None else request.url.scheme == "https"
        response.set_cookie(COOKIE, self.seal(value), max_age=self.ttl, path=PATH,
                            httponly=True, samesite="lax", secure=secure)

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path=PATH)


def codec(request: Request) -> SessionCodec:
    value: SessionCodec = request.app.state.console_sessions
    return value


def current(request: Request) -> ConsoleSession:
    """The request's session (an anonymous one, made once per request, when the cookie is
    absent, expired or tampered with; ``render`` then sets it)."""
    cached: ConsoleSession | None = getattr(request.state, "console_session", None)
    if cached is not None:
        return cached
    found = codec(request).open(request.cookies.get(COOKIE))
    if found is None:
        found = anonymous()
        request.state.console_session_new = True
    request.state.console_session = found
    return found


def replace_session(request: Request, value: ConsoleSession) -> None:
    """Make ``value`` the session written back with the response."""
    request.state.console_session = value
    request.state.console_session_new = True


def with_lang(value: ConsoleSession, lang: str) -> ConsoleSession:
    return replace(value, lang=lang)
