"""The lead list's filters given as a mapping (``{"status": "new", "fields.Edad_gte": "18"}``)
instead of query parameters: bulk operations and background exports take them in a JSON
body and jobs keep them. They are checked by the list endpoint's own dependency
(``endpoints.lead_filter``), so every filter means exactly what it means on
``GET /api/v1/leads``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, get_type_hints
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from leadbase.auth.context import Context
from leadbase.kit.errors import ValidationFailed
from leadbase.leads import endpoints, field_filters
from leadbase.leads.repository import LeadFilter
from leadbase.tenants import service as tenants_service


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


async def scoped(session: AsyncSession, *, ctx: Context, f: LeadFilter) -> LeadFilter:
    """A copy of ``f`` as the caller may use it: agents only reach their own leads, and
    custom-field filters are checked and turned into conditions (422 when invalid)."""
    f = replace(f, field_filters=list(f.field_filters), extra=list(f.extra))
    if ctx.sees_only_own_leads:
        f.restrict_owner = ctx.actor_user_id
    if f.field_filters:
        types = await field_filters.resolve_types(
            session, tenant_id=ctx.tenant_id, list_ids=f.list_ids,
            codes=sorted({c for c, _, _ in f.field_filters}))
        ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
        f.extra = field_filters.conditions(f.field_filters, types, ws.region)
    return f
