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
- An id in a body that names nothing the caller may use (``leadId`` of an opportunity,
  ``customerId`` of a conversion, ``assignedToId``) is a 404 in the same words.
- Everything else keeps the service's status and message (403 for a role, 409 for a
  conflict, 412 for a stale ``If-Match``...). Two conflicts carry what a client needs to
  go on: ``CUSTOMER_MATCH_FOUND`` its ``candidates`` (``[{id: "cus_…", kind, name, email,
  emailDomain, assignedToId, matchedOn}]``, and ``hiddenCandidates``: how many more the
  caller may not see), ``LEAD_CANNOT_CONVERT`` its ``reasons`` (``[{code, message,
  field}]``).

Every error also carries the service's stable ``code`` (``LEAD_NOT_FOUND``,
``RATE_LIMITED``...): an extra key, harmless to clients that read ``statusCode``.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from leadbase.compat.crm import ids
from leadbase.kit.errors import AppError

INVALID = "Invalid input data"
# Canonical 422s about an id a body gives: the document's 404 for that kind of id.
BODY_NOT_FOUND: dict[str, ids.Kind] = {"OWNER_NOT_FOUND": "agent", "CUSTOMER_NOT_FOUND": "customer",
                  "OPPORTUNITY_LEAD_NOT_FOUND": "lead"}
MATCH_MESSAGE = ("Existing customers match this lead: reuse one with customerId, or "
                 "create a new one with createCustomer: true")
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
            headers: dict[str, str] | None = None,
            extra: dict[str, Any] | None = None) -> Response:
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if errors is not None:
        body["errors"] = errors
    if code:
        body["code"] = code
    body.update(extra or {})
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
    if exc.code == "CUSTOMER_MATCH_FOUND":
        return MATCH_MESSAGE
    if status == 404 and (exc.code in ids.NOT_FOUND_KINDS or exc.code in BODY_NOT_FOUND):
        kind = BODY_NOT_FOUND.get(exc.code) or ids.NOT_FOUND_KINDS[exc.code]
        raw = ids.named(request, kind)
        if exc.detail.startswith(ids.LABEL[kind] + " ") and exc.detail.endswith(" not found"):
            return exc.detail  # already in the document's words
        return f"{ids.LABEL[kind]} {raw} not found" if raw else f"{ids.LABEL[kind]} not found"
    if status == 400 and exc.errors:
        return INVALID
    return exc.detail


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _candidate(found: dict[str, Any]) -> dict[str, Any]:
    return {"id": ids.encode("customer", _uuid(found["id"])),
            "kind": str(found["kind"]).upper(), "name": found["name"],
            "email": found["email"], "emailDomain": found["email_domain"],
            "assignedToId": ids.encode("agent", _uuid(found["owner_id"])),
            "matchedOn": [camel(m) for m in found["matched_on"]]}


def reason(found: dict[str, Any]) -> dict[str, Any]:
    out = {"code": found["code"], "message": found["message"]}
    if found.get("field"):
        out["field"] = field_name(str(found["field"]))
    return out


def _extra(exc: AppError) -> dict[str, Any]:
    """What a conflict carries that a client needs, in the document's names."""
    if exc.code == "CUSTOMER_MATCH_FOUND":
        return {"candidates": [_candidate(c) for c in exc.extra.get("candidates", [])],
                "hiddenCandidates": exc.extra.get("hidden_candidates", 0)}
    if exc.code == "LEAD_CANNOT_CONVERT":
        return {"reasons": [reason(r) for r in exc.extra.get("reasons", [])]}
    return {}


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    status = 400 if exc.status == 422 else exc.status
    if exc.code in BODY_NOT_FOUND:
        status = 404  # an id in the body that names nothing the caller may use
    return respond(status, message_of(request, exc, status), code=exc.code,
                   errors=_field_errors(exc) if status == 400 else None,
                   headers=exc.headers, extra=_extra(exc))


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
