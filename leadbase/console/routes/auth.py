"""Sign in, sign out, and the language choice.

Sign-in is the API's (``auth.service.login``: the password check, its throttles, the
account and workspace checks) and starts a session (a refresh-token family) whose id
the sealed cookie carries; sign-out revokes that family."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from leadbase.auth import service as auth_service
from leadbase.auth.deps import client_ip, get_db, get_limiter
from leadbase.auth.security import decode_access_token
from leadbase.console.i18n import LANGUAGES
from leadbase.console.render import PREFIX, redirect, render
from leadbase.console.session import ConsoleSession, anonymous, current, new_csrf, replace_session
from leadbase.kit.errors import AppError, TooManyRequests
from leadbase.tenants import repository as tenants_repository
from leadbase.users import repository as users_repository

router = APIRouter()

_LOGIN_ERRORS = {"INVALID_CREDENTIALS": "login.failed", "USER_INACTIVE": "login.inactive",
                 "WORKSPACE_SUSPENDED": "login.suspended", "LOGIN_THROTTLED": "login.throttled"}


def _safe_next(value: str | None) -> str:
    """Only a path of the console (no open redirect)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") \
            and "\\" not in value and "//" not in value:
        return value
    return PREFIX + "/leads"


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    if current(request).signed_in:
        return redirect(request, _safe_next(next))
    return render(request, "login.html", {"error": None, "email": "", "next": next or ""})


@router.post("/login")
async def login(request: Request, email: Annotated[str, Form(max_length=320)],
                password: Annotated[str, Form(max_length=1024)],
                next: Annotated[str, Form(max_length=500)] = "") -> Response:
    settings = request.app.state.settings
    limiter = get_limiter(request)
    issuer = request.app.state.issuer
    try:
        await limiter.hit(settings.login_rate_limit_ip, "login-ip", client_ip(request),
                          code="LOGIN_THROTTLED")
        await limiter.hit(settings.login_rate_limit_account, "login-account",
                          email.strip().lower(), code="LOGIN_THROTTLED")
        async with get_db(request).transaction(None, system=True) as session:
            pair = await auth_service.login(session, issuer=issuer, email=email.strip(),
                                            password=password)
            claims = decode_access_token(pair.access_token, secret=issuer.secret,
                                         audience=issuer.audience, issuer=issuer.issuer)
            if claims.tenant_id is None:
                await auth_service.end_session(session, session_id=claims.session_id)
                return render(request, "login.html", {"error": "login.platform",
                                                      "email": email, "next": next},
                              status=403)
            user = await users_repository.get_by_id_any(session, claims.user_id)
            tenant = await tenants_repository.get(session, claims.tenant_id)
    except (AppError, TooManyRequests) as exc:
        status = 429 if exc.status == 429 else 401 if exc.status == 401 else exc.status
        return render(request, "login.html", {
            "error": _LOGIN_ERRORS.get(exc.code, "login.failed"), "email": email,
            "next": next}, status=status, headers=exc.headers or None)
    previous = current(request)
    replace_session(request, ConsoleSession(
        csrf=new_csrf(), user_id=claims.user_id, tenant_id=claims.tenant_id,
        session_id=claims.session_id, role=claims.role,
        name=(user or {}).get("name") or "", email=(user or {}).get("email") or email,
        workspace=(tenant or {}).get("name") or "", lang=previous.lang,
        issued_at=previous.issued_at))
    return redirect(request, _safe_next(next))


@router.post("/logout")
async def logout(request: Request) -> Response:
    s = current(request)
    if s.signed_in and s.session_id is not None:
        async with get_db(request).transaction(s.tenant_id, system=True) as session:
            await auth_service.end_session(session, session_id=s.session_id)
    replace_session(request, anonymous(s.lang))
    return redirect(request, f"{PREFIX}/login?signed_out=1")


@router.post("/language")
async def choose_language(request: Request, lang: Annotated[str, Form(max_length=8)],
                          back: Annotated[str, Form(max_length=500)] = "") -> Response:
    s = current(request)
    if lang in LANGUAGES:
        replace_session(request, replace(s, lang=lang))
    return redirect(request, back if back == PREFIX + "/login" else _safe_next(back))
