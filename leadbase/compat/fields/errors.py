"""Errors as a FastAPI service answers them: ``{"detail": ...}``.

- Request validation: FastAPI's own handler, ``{"detail": [{"type", "loc", "msg",
  "input", ...}]}`` with status 422.
- HTTP errors (unknown route, wrong method): FastAPI's own handler (``{"detail": "Not
  Found"}``...).
- Service errors (``AppError``): ``{"detail": <message>, "code": <stable code>}`` with
  the error's status and headers (``WWW-Authenticate``, ``Retry-After``). A message
  that starts with a canonical attribute name (``section_id: ...``) is given the
  profile's name for it (``lead_field_section_id: ...``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from leadbase.kit.errors import AppError

log = logging.getLogger("leadbase.compat.fields")
M = TypeVar("M", bound=BaseModel)

_PREFIX = re.compile(r"^([a-z_]+): ")

# Canonical attribute → profile name, per resource (set on the request by its router).
FIELD_NAMES = {"list_id": "campaign_id", "section_id": "lead_field_section_id",
               "code_list_id": "nomenclator_id", "related_list_id": "related_campaign_id",
               "type": "field_type_code", "subtype": "field_subtype_code",
               "position": "order", "template_code": "field_template_code"}
RULE_NAMES = {"field_id": "lead_field_id", "type": "rule_type_code", "position": "order"}
SECTION_NAMES = {"position": "order"}
NOMENCLATOR_NAMES = {"label": "name", "position": "order"}
CAMPAIGN_NAMES: dict[str, str] = {}


def names(mapping: Mapping[str, str]) -> Any:
    """A router dependency naming the canonical attributes in the profile's words."""

    def dependency(request: Request) -> None:
        request.state.compat_names = mapping

    return Depends(dependency)


def _profile_detail(request: Request, detail: str) -> str:
    mapping: Mapping[str, str] = getattr(request.state, "compat_names", None) or {}
    found = _PREFIX.match(detail)
    if found and found.group(1) in mapping:
        return mapping[found.group(1)] + detail[found.end(1):]
    return detail


def canonical(model: type[M], mapping: Mapping[str, str], values: dict[str, Any]) -> M:
    """Build a canonical request model; its validation errors become FastAPI's 422 with
    the body's own names in ``loc``."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *(mapping.get(p, p) if isinstance(p, str) else p
                                            for p in err["loc"]))}
                  for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


def missing(*fields: str, body: Any = None) -> RequestValidationError:
    """FastAPI's error for required body attributes left out."""
    return RequestValidationError([{"type": "missing", "loc": ("body", f), "msg":
                                    "Field required", "input": body} for f in fields])


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return JSONResponse({"detail": _profile_detail(request, exc.detail), "code": exc.code},
                        status_code=exc.status, headers=exc.headers or None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged by the parent application's ServerErrorMiddleware, which the error reaches.
    return JSONResponse({"detail": "Internal Server Error"}, status_code=500)


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await request_validation_exception_handler(request, exc)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
