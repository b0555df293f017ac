"""Errors in the document's shape: ``{"code": "<CODE>", "message": "<text>"}``.

- The document's table: ``LEAD_NOT_FOUND`` 404, ``CAR_NOT_FOUND`` 404,
  ``UNAUTHORIZED_LEAD_ACCESS`` 403, ``INVALID_LEAD_STATUS`` 400, ``VALIDATION_ERROR`` 400.
- Request validation (body, query, path) is a 400 ``VALIDATION_ERROR`` with ``errors:
  [{field, message}]`` in the document's names (``targetInfo``, ``leadOrders.0.order``);
  when a ``status`` is what is wrong, a 400 ``INVALID_LEAD_STATUS``. Every 422 of a service
  (a contact that is no phone or email, a VIN whose check digit fails, an Idempotency-Key
  reused with another body) is a 400 ``VALIDATION_ERROR`` too, its ``errors`` named so.
- Not found: a task → ``LEAD_NOT_FOUND``; a listing (or one that is no vehicle) →
  ``CAR_NOT_FOUND``. A task of the workspace the caller may not see (an agent, another
  agent's lead: the tasks service's ``NotYours``) and a contact that is another agent's
  lead → 403 ``UNAUTHORIZED_LEAD_ACCESS``. Another workspace's ids are plain 404s.
- Everything else keeps the service's status and stable code (401 ``AUTH_REQUIRED``,
  403 ``ROLE_REQUIRED`` / ``INSUFFICIENT_SCOPE``, 412, 429 ``RATE_LIMITED``...), and
  unknown routes and methods answer ``NOT_FOUND`` 404 / ``METHOD_NOT_ALLOWED`` 405.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from leadbase.kit.errors import AppError
from leadbase.tasks.service import NotYours

LEAD_NOT_FOUND = "LEAD_NOT_FOUND"
CAR_NOT_FOUND = "CAR_NOT_FOUND"
UNAUTHORIZED = "UNAUTHORIZED_LEAD_ACCESS"
INVALID_STATUS = "INVALID_LEAD_STATUS"
VALIDATION = "VALIDATION_ERROR"

# Canonical code → the document's (status, code).
_CODES = {
    "TASK_NOT_FOUND": (404, LEAD_NOT_FOUND),
    "LISTING_NOT_FOUND": (404, CAR_NOT_FOUND),
    "CONTACT_NOT_YOURS": (403, UNAUTHORIZED),
    "TASK_NOT_YOURS": (403, UNAUTHORIZED),
}
# Canonical field names → the document's.
FIELDS = {"title": "action", "tag": "tag", "note": "note", "status": "status",
          "position": "order", "email": "targetInfo", "phone": "targetInfo",
          "listing_id": "carId", "attributes.year": "overviewYear",
          "attributes.make": "make", "attributes.model": "model",
          "attributes.location": "location", "attributes.trim": "trim",
          "attributes.mileage": "mileage", "attributes.vin": "vin",
          "attributes.condition": "condition"}

_HTTP = {404: ("NOT_FOUND", "Not Found"), 405: ("METHOD_NOT_ALLOWED", "Method Not Allowed")}


class ProfileError(AppError):
    """An error the profile itself raises, in the document's codes."""


def lead_not_found() -> ProfileError:
    return ProfileError("Lead not found.", code=LEAD_NOT_FOUND, status=404)


def car_not_found() -> ProfileError:
    return ProfileError("Car not found.", code=CAR_NOT_FOUND, status=404)


def invalid_status(value: object) -> ProfileError:
    return ProfileError(f"Invalid lead status {value!r}: use NEW, COMPLETED or NOT_NEEDED.",
                        code=INVALID_STATUS, status=400)


def respond(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers or None)


def _field(name: str) -> str:
    return FIELDS.get(name, name)


def translate(exc: AppError) -> tuple[int, str]:
    if isinstance(exc, NotYours):
        return 403, UNAUTHORIZED
    if exc.code in _CODES:
        return _CODES[exc.code]
    if exc.status == 422:
        return 400, VALIDATION
    return exc.status, exc.code


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    status, code = translate(exc)
    errors = [{"field": _field(str(e.get("field", ""))), "message": str(e.get("message", ""))}
              for e in exc.errors or []]
    return respond(status, code, exc.detail, errors, exc.headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _loc(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
              for e in exc.errors()]
    about_leads = "/leads" in request.url.path
    if about_leads and any(e["field"] == "status" for e in errors):
        bad = [e for e in errors if e["field"] == "status"]
        return respond(400, INVALID_STATUS,
                       "Invalid lead status: use NEW, COMPLETED or NOT_NEEDED.", bad)
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors[:5]))
    return respond(400, VALIDATION, f"Validation failed: {fields}", errors)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP.get(exc.status_code, ("HTTP_ERROR", str(exc.detail)))
    return respond(exc.status_code, code, message, headers=dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged by the parent application's ServerErrorMiddleware, which the error reaches.
    return respond(500, "INTERNAL_ERROR", "Internal server error.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
