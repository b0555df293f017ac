"""Errors under /app answer as pages, not problem+json: sign-in required → the sign-in
page (``HX-Redirect`` for htmx), 403/404 and others → an error page with the status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from leadbase.console.csrf import CsrfRefused
from leadbase.console.render import PREFIX, redirect, render
from leadbase.console.session import anonymous, current, replace_session
from leadbase.kit.errors import AppError, Unauthorized

Handler = Callable[[Request, Any], Awaitable[Response]]
BaseHandler = Callable[[Request, Any], Response | Awaitable[Response]]


def in_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(request: Request, status: int, message: str, code: str = "") -> Response:
    if isinstance(status, int) and status == 401:
        status = 403
    return render(request, "error.html", {"status": status, "message": message,
                                          "code": code}, status=status)


def console_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        # Signed out, deactivated, or the session was revoked: start again.
        replace_session(request, anonymous(current(request).lang))
        target = f"{PREFIX}/login"
        if request.method == "GET" and request.url.path != target:
            target += f"?next={request.url.path}"
        return redirect(request, target)
    if isinstance(exc, CsrfRefused):
        return error_page(request, 403, "error.csrf", exc.code)
    if isinstance(exc, AppError):
        key = {403: "error.403", 404: "error.404"}.get(exc.status)
        return error_page(request, exc.status, key or exc.detail, exc.code)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 422, "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()[:5]), "VALIDATION_FAILED")
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code,
                          "error.404" if exc.status_code == 404 else str(exc.detail))
    raise exc


def install(app: FastAPI) -> None:
    """Wrap the application's handlers: console paths get pages, the rest as before."""
    for kind in (AppError, RequestValidationError, StarletteHTTPException):
        base: BaseHandler = app.exception_handlers[kind]

        def make(base: BaseHandler) -> Handler:
            async def handler(request: Request, exc: Any) -> Response:
                if in_console(request):
                    return console_error(request, exc)
                answer = base(request, exc)
                return answer if isinstance(answer, Response) else await answer
            return handler

        app.add_exception_handler(kind, make(base))
