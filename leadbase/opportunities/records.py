"""The list of opportunities, and changing or deleting one.

- ``list_opportunities(session, *, ctx, f: OpportunityQuery, sort=None, params,
  count_cap=1000) -> OpportunityList``
- ``update_opportunity(session, *, ctx, opportunity_id, body, expected_version=None)``
- ``delete_opportunity(session, *, ctx, opportunity_id, expected_version=None)``

The stage and the status do not change here (``leadbase.opportunities.stages``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor, keyset_after
from leadbase.kit.sorting import order_by, parse_sort
from leadbase.opportunities import repository
from leadbase.opportunities.repository import OpportunityFilter
from leadbase.opportunities.schemas import OpportunityUpdate
from leadbase.opportunities.service import (
    check_customer,
    check_owner,
    event_payload,
    get_opportunity,
    invalid,
    log_timeline,
    read_any,
    readable_lead,
    scope_of,
)
from leadbase.pipelines import repository as pipelines_repository

DEFAULT_SORT = "-created_at"


@dataclass(frozen=True)
class OpportunityQuery:
    """The list's filters as asked: ``stages`` are ids or codes (resolved here)."""

    filter: OpportunityFilter
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpportunityList:
    rows: list[dict[str, Any]]
    total: int | None
    next_cursor: str | None


async def _stage_ids(session: AsyncSession, ctx: Context, f: OpportunityFilter,
                     refs: tuple[str, ...]) -> tuple[uuid.UUID, ...]:
    """Stage ids and codes of the deal pipelines (of ``f.pipeline_ids`` when one is
    given) as ids; an unknown code is 422 ``INVALID_FILTER`` (an unknown id matches
    nothing)."""
    pipeline_id = f.pipeline_ids[0] if len(f.pipeline_ids) == 1 else None
    found = await pipelines_repository.find_stages(
        session, tenant_id=ctx.tenant_id, refs=[*refs, *(r.lower() for r in refs)],
        pipeline_id=pipeline_id, kind="deal")
    known = {str(s["id"]) for s in found} | {s["code"].casefold() for s in found}
    for ref in refs:
        if ref.casefold() not in known and not _is_uuid(ref):
            raise ValidationFailed(f"Unknown stage '{ref}'.", code="INVALID_FILTER",
                                   errors=[{"field": "stage", "message": "unknown stage"}])
    return tuple(s["id"] for s in found)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _cursor_values(values: list[Any], names: list[str]) -> list[Any]:
    """A cursor's dates come back as strings: dates again."""
    return [date.fromisoformat(v) if n == "expected_close_date" and isinstance(v, str)
            else v for v, n in zip(values, names, strict=False)]


async def list_opportunities(session: AsyncSession, *, ctx: Context, f: OpportunityQuery,
                             sort: str | None = None, params: PageParams,
                             count_cap: int = 1000) -> OpportunityList:
    """A page of the opportunities ``ctx`` reaches (newest first unless ``sort`` says
    otherwise, ties by id): page or cursor pagination; ``total`` exact up to
    ``count_cap`` (then ``count_cap + 1``), none on cursor pages or with
    ``count=none``."""
    filt = f.filter
    if f.stages:
        filt = replace(filt, stage_ids=await _stage_ids(session, ctx, filt, f.stages))
    sort_key, columns = parse_sort(sort, repository.SORTABLE, default=DEFAULT_SORT,
                                   tiebreak=("id", repository.ID_COLUMN))
    after = None
    if params.cursor:
        values = _cursor_values(decode_cursor(params.cursor, sort_key),
                                [c.name for c in columns])
        after = keyset_after(columns, values)
    scope = scope_of(ctx)
    offset = 0 if after is not None else params.offset
    rows = await repository.page(session, scope=scope, f=filt, order=order_by(columns),
                                 after=after, offset=offset, limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        last = rows[-1]
        next_cursor = encode_cursor(sort_key, [last[c.name] for c in columns])
    total: int | None = None
    if after is None and params.count != "none":
        if offset == 0 and next_cursor is None:
            total = len(rows)
        else:
            total = await repository.count(session, scope=scope, f=filt, cap=count_cap)
    return OpportunityList(rows=rows, total=total, next_cursor=next_cursor)


_NOT_NULL = ("name", "value", "currency", "metadata")


async def update_opportunity(session: AsyncSession, *, ctx: Context,
                             opportunity_id: uuid.UUID, body: OpportunityUpdate,
                             expected_version: int | None = None) -> dict[str, Any]:
    """Change what is sent (``probability: null``: back to the stage's default). The
    references sent are checked as on create; an agent keeps its opportunities its own."""
    current = await get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                                    for_update=True)
    check_version(current, expected_version, what="opportunity")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in _NOT_NULL:
        if key in patch and patch[key] is None:
            raise invalid("NULL_NOT_ALLOWED", key, "cannot be null")
    if patch.get("lead_id") is not None and patch["lead_id"] != current["lead_id"]:
        await readable_lead(session, ctx, patch["lead_id"])
    if patch.get("customer_id") is not None and patch["customer_id"] != current["customer_id"]:
        await check_customer(session, ctx, patch["customer_id"])
    if "owner_id" in patch and patch["owner_id"] != current["owner_id"]:
        await check_owner(session, ctx, patch["owner_id"])
    if "probability" in patch:  # compare with the one set, not the effective one
        current_own = None if current["probability_is_default"] else current["probability"]
        if patch["probability"] == current_own:
            del patch["probability"]
    changed = {k: v for k, v in patch.items()
               if k == "probability" or current.get(k) != v}
    if not changed:
        return current
    await repository.update_opportunity(session, tenant_id=ctx.tenant_id,
                                        opportunity_id=opportunity_id, values=changed)
    row = await read_any(session, ctx, opportunity_id)
    fields = sorted(changed)
    await log_timeline(session, ctx, row, "updated", {"fields": fields})
    await audit.record(session, ctx=ctx, action="opportunity.updated",
                       entity_type="opportunity", entity_id=opportunity_id,
                       changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="opportunity.updated",
                                          entity_type="opportunity",
                                          entity_id=opportunity_id,
                                          payload={"opportunity": event_payload(row),
                                                   "changed": fields}))
    return row


async def delete_opportunity(session: AsyncSession, *, ctx: Context,
                             opportunity_id: uuid.UUID,
                             expected_version: int | None = None) -> None:
    """Soft delete (its history and activities stay)."""
    current = await get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                                    for_update=True)
    check_version(current, expected_version, what="opportunity")
    await repository.update_opportunity(session, tenant_id=ctx.tenant_id,
                                        opportunity_id=opportunity_id,
                                        values={"deleted_at": func.now()})
    await log_timeline(session, ctx, current, "deleted")
    await audit.record(session, ctx=ctx, action="opportunity.deleted",
                       entity_type="opportunity", entity_id=opportunity_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="opportunity.deleted",
                                          entity_type="opportunity",
                                          entity_id=opportunity_id,
                                          payload={"id": str(opportunity_id),
                                                   "lead_id": _str(current["lead_id"])}))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
