"""Rules for segments.

- A segment is ``dynamic`` (a condition of the rule language, evaluated whenever the
  segment is used) or ``static`` (a fixed list of leads, added and removed by id). The
  kind stays as created.
- A dynamic segment's condition is checked when it is saved (``rules.parse``: a bad rule
  is 422 ``INVALID_RULE`` naming ``condition....`` paths) and stored normalised. It is
  parsed again when used: a rule naming something removed since is 422
  ``SEGMENT_RULE_INVALID`` then (and its ``problems`` show on the segment).
- Names are unique per workspace among live segments (case-insensitive, 409).
- Anyone reads segments; managers and up write them (the endpoints say so). Counts and
  members are always within the reader's readable set: an agent sees the members that
  are their own leads.
- Deleting is soft; a static segment's member list goes with it. A deleted segment's id
  is 404 here and 422 ``INVALID_FILTER`` as a lead filter (``segment_id=``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.kit.sorting import order_by, parse_sort
from leadbase.leads import listing
from leadbase.leads import service as leads_service
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import LeadSet, readable
from leadbase.segments import repository, resolve
from leadbase.segments.schemas import SegmentCreate, SegmentPreview, SegmentRead, SegmentUpdate


def not_found() -> NotFound:
    return NotFound("Segment not found.", code="SEGMENT_NOT_FOUND")


def _name_taken() -> Conflict:
    return Conflict("A segment with this name already exists.", code="SEGMENT_NAME_TAKEN",
                    errors=[{"field": "name", "message": "already used by another segment"}])


def _invalid(field: str, message: str, code: str = "INVALID_SEGMENT") -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


async def with_summaries(session: AsyncSession, ctx: Context,
                         rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with ``summary`` (its condition in words) and ``problems`` (why it no
    longer parses, or None); one catalog for all."""
    catalog = None
    out = []
    for row in rows:
        summary, problems = None, None
        if row["condition"] is not None:
            if catalog is None:
                catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
            try:
                summary = rules.describe(rules.parse(row["condition"], catalog,
                                                     path="condition"))
            except ValidationFailed as exc:
                problems = exc.errors or [{"field": "condition", "message": exc.detail}]
        else:
            summary = "the leads added to this static segment"
        out.append({**row, "summary": summary, "problems": problems})
    return out


def payload(row: dict[str, Any]) -> dict[str, Any]:
    return SegmentRead.model_validate(row).model_dump(mode="json")


async def _record(session: AsyncSession, ctx: Context, row: dict[str, Any], action: str,
                  fields: list[str]) -> dict[str, Any]:
    shown = (await with_summaries(session, ctx, [row]))[0]
    await audit.record(session, ctx=ctx, action=f"segment.{action}", entity_type="segment",
                       entity_id=row["id"], changes={"fields": sorted(fields)},
                       event=outbox.event(tenant_id=ctx.tenant_id, type=f"segment.{action}",
                                          entity_type="segment", entity_id=row["id"],
                                          payload=payload(shown)))
    return shown


async def _checked_rule(session: AsyncSession, ctx: Context,
                        condition: dict[str, Any]) -> dict[str, Any]:
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    return rules.parse(condition, catalog, path="condition").to_json()


async def _check_members(session: AsyncSession, ctx: Context, lead_ids: list[uuid.UUID],
                         field: str = "lead_ids") -> list[uuid.UUID]:
    """The ids, once each; 422 ``LEAD_NOT_FOUND`` naming each one that is no live lead
    the writer may read."""
    ids = list(dict.fromkeys(lead_ids))
    live = await repository.live_leads(session, scope=readable(ctx), lead_ids=ids)
    bad = [{"field": f"{field}[{i}]", "message": "not a live lead of this workspace"}
           for i, lead_id in enumerate(lead_ids) if lead_id not in live]
    if bad:
        raise ValidationFailed(f"{len(bad)} of the lead ids name no live lead of this "
                               "workspace.", code="LEAD_NOT_FOUND", errors=bad[:100])
    return ids


async def create_segment(session: AsyncSession, *, ctx: Context,
                         body: SegmentCreate) -> dict[str, Any]:
    if body.kind == "dynamic":
        if body.condition is None:
            raise _invalid("condition", "a dynamic segment needs a condition")
        if body.lead_ids:
            raise _invalid("lead_ids", "only a static segment has a member list")
        condition: dict[str, Any] | None = await _checked_rule(session, ctx, body.condition)
    else:
        if body.condition is not None:
            raise _invalid("condition", "a static segment is a member list: no condition "
                                        "(or make it dynamic)")
        condition = None
    members = await _check_members(session, ctx, body.lead_ids) if body.lead_ids else []
    await repository.lock_name(session, tenant_id=ctx.tenant_id, name=body.name)
    if await repository.name_taken(session, tenant_id=ctx.tenant_id, name=body.name):
        raise _name_taken()
    row = await repository.ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "name": body.name, "description": body.description or None, "kind": body.kind,
        "condition": condition, "created_by": ctx.actor_user_id})
    if members:
        await repository.add_members(session, tenant_id=ctx.tenant_id, segment_id=row["id"],
                                     lead_ids=members, added_by=ctx.actor_user_id)
    return await _record(session, ctx, row, "created",
                         ["name", "kind", "description", "condition"]
                         + (["members"] if members else []))


async def get_row(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                  for_update: bool = False) -> dict[str, Any]:
    """A live segment of the workspace (404 ``SEGMENT_NOT_FOUND``)."""
    return found(await repository.get(session, tenant_id=ctx.tenant_id,
                                      segment_id=segment_id, for_update=for_update),
                 not_found)


async def get_segment(session: AsyncSession, *, ctx: Context,
                      segment_id: uuid.UUID) -> dict[str, Any]:
    row = await get_row(session, ctx=ctx, segment_id=segment_id)
    return (await with_summaries(session, ctx, [row]))[0]


async def list_segments(session: AsyncSession, *, ctx: Context, params: PageParams,
                        q: str | None, kind: str | None,
                        sort: str | None) -> tuple[list[dict[str, Any]], int]:
    _, columns = parse_sort(sort, repository.SORTABLE, default="number",
                            tiebreak=("id", repository.ID_COLUMN))
    rows, total = await repository.list_segments(
        session, tenant_id=ctx.tenant_id, q=q, kind=kind, order=order_by(columns),
        offset=params.offset, limit=params.per_page)
    return await with_summaries(session, ctx, rows), total


async def update_segment(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                         body: SegmentUpdate, expected_version: int | None) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("name", "condition"):
        if key in patch and patch[key] is None:
            raise _invalid(key, "cannot be null; leave it out to keep it", "NULL_NOT_ALLOWED")
    current = await get_row(session, ctx=ctx, segment_id=segment_id, for_update=True)
    check_version(current, expected_version, what="segment")
    if "condition" in patch:
        if current["kind"] == "static":
            raise _invalid("condition", "a static segment is a member list: no condition")
        patch["condition"] = await _checked_rule(session, ctx, patch["condition"])
    if "description" in patch:
        patch["description"] = patch["description"] or None
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return (await with_summaries(session, ctx, [current]))[0]
    if "name" in changed:
        await repository.lock_name(session, tenant_id=ctx.tenant_id, name=changed["name"])
        if await repository.name_taken(session, tenant_id=ctx.tenant_id,
                                       name=changed["name"], exclude_id=segment_id):
            raise _name_taken()
    try:
        row = await repository.ROWS.update(session, tenant_id=ctx.tenant_id,
                                           row_id=segment_id, values=changed)
    except IntegrityError:  # a concurrent rename took the name
        raise _name_taken() from None
    return await _record(session, ctx, row, "updated", list(changed))


async def delete_segment(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                         expected_version: int | None) -> None:
    current = await get_row(session, ctx=ctx, segment_id=segment_id, for_update=True)
    check_version(current, expected_version, what="segment")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, segment_id=segment_id)
    if current["kind"] == "static":
        await repository.drop_members(session, tenant_id=ctx.tenant_id, segment_id=segment_id)
    await audit.record(session, ctx=ctx, action="segment.deleted", entity_type="segment",
                       entity_id=segment_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="segment.deleted",
                                          entity_type="segment", entity_id=segment_id,
                                          payload={"id": str(segment_id)}))


# --------------------------------------------------------------------------- members

async def change_members(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                         lead_ids: list[uuid.UUID], add: bool) -> dict[str, Any]:
    """Add leads to (or remove them from) a static segment (409 ``SEGMENT_NOT_STATIC``
    for a dynamic one). Added leads must be live leads of the workspace; removing a lead
    that is no member changes nothing."""
    segment = await get_row(session, ctx=ctx, segment_id=segment_id, for_update=True)
    if segment["kind"] != "static":
        raise Conflict("A dynamic segment's members follow from its condition; only a "
                       "static segment has a member list.", code="SEGMENT_NOT_STATIC")
    ids = list(dict.fromkeys(lead_ids))
    if add:
        ids = await _check_members(session, ctx, lead_ids)
        done = await repository.add_members(session, tenant_id=ctx.tenant_id,
                                            segment_id=segment_id, lead_ids=ids,
                                            added_by=ctx.actor_user_id)
    else:
        done = await repository.remove_members(session, tenant_id=ctx.tenant_id,
                                               segment_id=segment_id, lead_ids=ids)
    if done:
        action = "members_added" if add else "members_removed"
        await audit.record(session, ctx=ctx, action=f"segment.{action}", entity_type="segment",
                           entity_id=segment_id, changes={"count": done},
                           event=outbox.event(
                               tenant_id=ctx.tenant_id, type="segment.members_changed",
                               entity_type="segment", entity_id=segment_id,
                               payload={"id": str(segment_id),
                                        "added" if add else "removed": done}))
    return {"segment_id": segment_id, "added": done if add else 0,
            "removed": 0 if add else done, "unchanged": len(ids) - done}


# ---------------------------------------------------------------------------- counts

async def count_set(session: AsyncSession, *, leads: LeadSet, exact: bool,
                    cap: int) -> dict[str, Any]:
    """How many leads ``leads`` holds: counted (``exact``), or counted up to ``cap`` when
    the planner expects no more, and the planner's estimate (``EXPLAIN``) beyond."""
    if exact:
        return {"count": await listing.count(session, leads=leads, cap=None),
                "is_estimate": False, "method": "exact", "cap": None}
    guess = await listing.estimate(session, leads=leads)
    if guess <= cap:
        counted = await listing.count(session, leads=leads, cap=cap)
        if counted <= cap:
            return {"count": counted, "is_estimate": False, "method": "capped", "cap": cap}
        guess = max(guess, cap + 1)
    return {"count": guess, "is_estimate": True, "method": "planner", "cap": cap}


async def segment_leads(session: AsyncSession, *, ctx: Context,
                        segment_id: uuid.UUID) -> LeadSet:
    """The live leads of the segment among those ``ctx`` may read."""
    segment = await get_row(session, ctx=ctx, segment_id=segment_id)
    cond = await resolve.condition_of(session, tenant_id=ctx.tenant_id, segment=segment,
                                      now=datetime.now(UTC))
    return LeadSet(scope=readable(ctx), extra=(cond,))


async def count_segment(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                        exact: bool, cap: int) -> dict[str, Any]:
    leads = await segment_leads(session, ctx=ctx, segment_id=segment_id)
    return {"segment_id": segment_id, **await count_set(session, leads=leads, exact=exact,
                                                        cap=cap)}


async def list_members(session: AsyncSession, *, ctx: Context, segment_id: uuid.UUID,
                       sort: str | None, params: PageParams,
                       count_cap: int) -> leads_service.LeadListing:
    """A page of the segment's live leads (those ``ctx`` may read), as the lead list
    answers ``GET /leads?segment_id=`` (sorts, keyset cursors, totals)."""
    segment = await get_row(session, ctx=ctx, segment_id=segment_id)
    cond = await resolve.condition_of(session, tenant_id=ctx.tenant_id, segment=segment)
    return await leads_service.list_leads(session, ctx=ctx, f=LeadFilter(), sort=sort,
                                          params=params, count_cap=count_cap, extra=(cond,))


async def preview(session: AsyncSession, *, ctx: Context, body: SegmentPreview,
                  cap: int) -> dict[str, Any]:
    """A draft condition's count and first page of leads (within the readable set),
    writing nothing."""
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    rule = rules.parse(body.condition, catalog, path="condition")
    cond = rules.to_sql(rule, now=datetime.now(UTC), tenant_id=ctx.tenant_id)
    page = await leads_service.list_leads(
        session, ctx=ctx, f=LeadFilter(), sort=body.sort,
        params=PageParams(page=1, per_page=body.per_page, cursor=None, count="none"),
        count_cap=cap, extra=(cond,))
    counted = await count_set(session, leads=LeadSet(scope=readable(ctx), extra=(cond,)),
                              exact=body.exact, cap=cap)
    return {"condition": rule.to_json(), "summary": rules.describe(rule), **counted,
            "data": page.rows, "has_more": page.next_cursor is not None}
