"""CSRF protection for every state-changing console request.

The token lives in the session cookie (sealed, HTTP-only); pages carry it in a meta tag
(htmx sends it as ``X-CSRF-Token`` on every request, see static/console.js) and in a
hidden ``csrf_token`` field of every form. A post without the matching token is refused
with 403 and changes nothing (the check runs before the route's transaction opens)."""

from __future__ import annotations

import hmac

from fastapi import Request

from leadbase.console.session import current
from leadbase.kit.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FIELD = "csrf_token"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRefused(Forbidden):
    code = "CSRF_FAILED"
    title = "CSRF check failed"


async def csrf_protect(request: Request) -> None:
    """Router dependency of the console: refuse unsafe methods without the token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if not sent:
        kind = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
        if kind in FORM_TYPES:
            value = (await request.form()).get(FIELD)
            sent = value if isinstance(value, str) else None
    expected = current(request).csrf
    if not sent or getattr(request.state, "console_session_new", False) or \
            not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused("The form is out of date or was not sent by this site; reload the "
                          "page and try again.")
