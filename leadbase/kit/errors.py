"""RFC 9457 problem+json errors with a stable ``code``."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM = "application/problem+json"


class AppError(Exception):
    """A failure the client can act on. Services raise these; endpoints never catch them."""

    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        if status:
            self.status = status
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://leadbase.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class NotFound(AppError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"


class ValidationFailed(AppError):
    status = 422
    code = "VALIDATION_ERROR"
    title = "Validation failed"


class Unauthorized(AppError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Unauthorized"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class PreconditionFailed(AppError):
    status = 412
    code = "PRECONDITION_FAILED"
    title = "Precondition failed"


class TooManyRequests(AppError):
    status = 429
    code = "RATE_LIMITED"
    title = "Too many requests"


def problem_response(error: AppError, request: Request | None = None) -> Response:
    instance = request.url.path if request is not None else None
    return Response(
        orjson.dumps(error.body(instance)),
        status_code=error.status,
        media_type=PROBLEM,
        headers=error.headers,
    )


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        out.append({"field": _loc_to_field(tuple(err.get("loc", ()))), "message": msg,
                    "type": err.get("type")})
    return out


_STATUS_CODES = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
}


def install(app: FastAPI) -> None:
    """Register handlers so that every error reaches the client as problem+json (an
    unhandled one: :class:`leadbase.middleware.ServerErrorMiddleware`)."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = validation_errors(exc)
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem_response(
            ValidationFailed(f"Invalid input: {fields}", errors=errors), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, ("HTTP_ERROR", "HTTP error"))
        err = AppError(str(exc.detail) if exc.detail else title, code=code, status=exc.status_code)
        err.title = title
        err.headers = dict(exc.headers or {})
        return problem_response(err, request)
