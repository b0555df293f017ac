"""Errors in the document's shape: ``{"statusCode", "message", "errors": [{field,
message}]}``.

- Validation (the request's body, query or path; a service's 422) is a **400** with
  ``message: "Invalid input data"`` and ``errors`` in the document's names (``firstName``,
  ``leadId``, ``updates.status``). A service's 422 without per-field errors keeps its
  message. An invalid email's message is the document's ``"Invalid email format"``.
- 401: ``"Invalid or expired token"`` (missing, malformed, expired or revoked).
- 404: ``"Lead lead_xxx not found"`` (``Activity act_…``, ``Agent agent_…``) naming the id
  the request gave; another workspace's ids and an agent's view of another agent's lead
  are 404s too. Unknown routes: ``"Cannot GET /path"``.
- 429: ``"Rate limit exceeded. Try again in N seconds"`` with ``Retry-After``.
- 500: ``"Internal server error"``.
- Everything else keeps the service's status and message (403 for a role, 409 for a
  conflict, 412 for a stale ``If-Match``...).

Every error also carries the service's stable ``code`` (``LEAD_NOT_FOUND``,
``RATE_LIMITED``...): an extra key, harmless to clients that read ``statusCode``.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from leadbase.compat.crm import ids
from leadbase.kit.errors import AppError

INVALID = "Invalid input data"
# Canonical field names → the document's (the rest: snake_case → camelCase).
FIELDS = {"owner_id": "assignedToId", "user_id": "agentId", "lead_id": "leadId",
          "ids": "leadIds", "changes": "updates", "due": "dueDate",
          "duration_seconds": "duration", "duration_minutes": "duration",
          "url": "documentUrl", "scheduled_for": "scheduledFor",
          "completed_at": "completedAt", "occurred_at": "occurredAt"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def field_name(path: str) -> str:
    """A canonical field path (``attributes.duration_seconds``) in the document's words."""
    parts = [p for p in path.split(".") if p not in ("attributes", "body", "query", "path")]
    return ".".join(FIELDS.get(p, camel(p)) for p in parts) or "body"


def respond(status: int, message: str, *, code: str | None = None,
            errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    if code:
        body["code"] = code
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers or None)


def _field_errors(exc: AppError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors or []:
        message = str(e.get("message", ""))
        if exc.code == "INVALID_EMAIL":
            message = "Invalid email format"
        out.append({"field": field_name(str(e.get("field", ""))), "message": message})
    return out


def message_of(request: Request, exc: AppError, status: int) -> str:
    if status == 401:
        return "Invalid or expired token"
    if status == 429:
        retry = exc.headers.get("Retry-After", "60")
        return f"Rate limit exceeded. Try again in {retry} seconds"
    if status == 404 and exc.code in ids.NOT_FOUND_KINDS:
        kind = ids.NOT_FOUND_KINDS[exc.code]
        raw = ids.named(request, kind)
        if exc.detail.startswith(ids.LABEL[kind] + " ") and exc.detail.endswith(" not found"):
            return exc.detail  # already in the document's words
        return f"{ids.LABEL[kind]} {raw} not found" if raw else f"{ids.LABEL[kind]} not found"
    if status == 400 and exc.errors:
        return INVALID
    return exc.detail


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    status = 400 if exc.status == 422 else exc.status
    if exc.code == "OWNER_NOT_FOUND":
        status = 404  # an agent id that names nobody of the workspace who can own leads
    return respond(status, message_of(request, exc, status), code=exc.code,
                   errors=_field_errors(exc) if status == 400 else None,
                   headers=exc.headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _loc(tuple(e.get("loc", ()))),
               "message": str(e.get("msg", "")).removeprefix("Value error, ")}
              for e in exc.errors()]
    return respond(400, INVALID, code="VALIDATION_ERROR", errors=errors)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"Cannot {request.method} {request.url.path}"
    else:
        message = str(exc.detail)
    return respond(exc.status_code, message, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged by the parent application's ServerErrorMiddleware, which the error reaches.
    return respond(500, "Internal server error", code="INTERNAL_ERROR")


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
