"""The lead list's filters given as a mapping (``{"status": "new", "fields.Edad_gte": "18"}``)
instead of query parameters: bulk operations and background exports take them in a JSON
body and jobs keep them. They are checked by the list endpoint's own dependency
(``endpoints.lead_filter``), so every filter means exactly what it means on
``GET /api/v1/leads``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, get_type_hints
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from starlette.requests import Request

from leadbase.kit.errors import ValidationFailed
from leadbase.leads import endpoints
from leadbase.leads.repository import LeadFilter


def _params_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    hints = get_type_hints(endpoints.lead_filter, include_extras=True)
    for name, param in inspect.signature(endpoints.lead_filter).parameters.items():
        if name == "request":
            continue
        fields[name] = (hints[name], param.default)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "LeadFilterParams", __config__=ConfigDict(extra="forbid"), **fields)
    return model


_Model: type[BaseModel] | None = None


def _model() -> type[BaseModel]:
    global _Model
    if _Model is None:
        _Model = _params_model()
    return _Model


async def lead_filter_from(params: Mapping[str, Any] | None) -> LeadFilter:
    """A ``LeadFilter`` from the list's query parameters given as a mapping (values as
    strings, numbers or booleans; lists are joined with commas)."""
    raw = {k: (",".join(str(x) for x in v) if isinstance(v, list) else v)
           for k, v in (params or {}).items()}
    custom = {k: str(v) for k, v in raw.items() if k.startswith("fields.")}
    plain = {k: v for k, v in raw.items() if not k.startswith("fields.")}
    try:
        parsed = _model().model_validate(plain)
    except ValidationError as exc:
        errors = [{"field": "filter." + ".".join(str(p) for p in e["loc"]),
                   "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed("Invalid filter: " + ", ".join(e["field"] for e in errors[:5]),
                               code="INVALID_FILTER", errors=errors) from exc
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [],
                       "query_string": urlencode(list(custom.items())).encode()})
    result: LeadFilter = await endpoints.lead_filter(request, **parsed.model_dump())
    return result
