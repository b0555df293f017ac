"""Activities on an opportunity: the activity model of leads (``leadbase.activities``),
an activity carrying ``opportunity_id`` (and its opportunity's lead, so that the lead's
timeline shows it). Logging one moves the opportunity's ``last_activity_at``.

- ``list_activities(session, *, ctx, opportunity_id, types, cursor, limit)``
- ``log_activity(session, *, ctx, opportunity_id, body)`` / ``schedule_follow_up(...)``
Rows are as ``ctx`` may see them (an agent: no lead it may not read is named).

- ``upcoming(session, *, ctx, owner_id, cursor, limit)``: scheduled, not completed
  activities of the opportunities ``ctx`` reaches (of ``owner_id``: their author),
  soonest first.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import repository as activities_repository
from leadbase.activities import service as activities
from leadbase.activities import types as activity_types
from leadbase.activities.schemas import ActivityCreate
from leadbase.auth.context import Context
from leadbase.kit.errors import NotFound
from leadbase.leads.repository import readable
from leadbase.opportunities.schemas import FollowUpBody, OpportunityActivityCreate
from leadbase.opportunities.service import get_opportunity, scope_of
from leadbase.users import repository as users_repository


async def _presented(session: AsyncSession, ctx: Context,
                     rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The activities as ``ctx`` may see them: for an agent, a lead it may not read (of
    its own deal's entries) is not named (``lead_id`` null)."""
    if not ctx.sees_only_own_leads:
        return rows
    ids = list({r["lead_id"] for r in rows if r["lead_id"] is not None})
    seen = await activities_repository.readable_leads(session, scope=readable(ctx),
                                                      lead_ids=ids)
    return [r if r["lead_id"] is None or r["lead_id"] in seen else {**r, "lead_id": None}
            for r in rows]


async def list_activities(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                          types: tuple[str, ...], cursor: str | None,
                          limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The opportunity's activities (its system entries too), newest first."""
    await get_opportunity(session, ctx=ctx, opportunity_id=opportunity_id,
                          include_deleted=True)
    unknown = sorted(set(types) - activity_types.ALL_TYPES)
    if unknown:
        raise activities.invalid("type", f"unknown activity types: {', '.join(unknown)}")
    rows = await activities_repository.list_page(
        session, scope=readable(ctx),
        f={"opportunity_id": opportunity_id, "types": list(types) or None},
        after=activities.after_of(cursor, activities.LIST_SORT), limit=limit + 1)
    page, next_cursor = activities.paged(rows, limit, activities.LIST_SORT,
                                         ("occurred_at", "id"))
    return await _presented(session, ctx, page), next_cursor


async def log_activity(session: AsyncSession, *, ctx: Context, opportunity_id: uuid.UUID,
                       body: OpportunityActivityCreate) -> dict[str, Any]:
    """The activity as ``ctx`` may see it."""
    row = await activities.create(session, ctx=ctx, body=ActivityCreate(
        **body.model_dump(), opportunity_id=opportunity_id))
    return (await _presented(session, ctx, [row]))[0]


async def schedule_follow_up(session: AsyncSession, *, ctx: Context,
                             opportunity_id: uuid.UUID, body: FollowUpBody
                             ) -> dict[str, Any]:
    """A scheduled activity (open until completed) of the caller on the opportunity."""
    row = await activities.create(session, ctx=ctx, body=ActivityCreate(
        type=body.type, description=body.description, attributes=body.attributes,
        scheduled_for=body.scheduled_for, opportunity_id=opportunity_id))
    return (await _presented(session, ctx, [row]))[0]


async def upcoming(session: AsyncSession, *, ctx: Context, owner_id: uuid.UUID | None,
                   cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    if owner_id is not None and owner_id != ctx.actor_user_id and await users_repository.get(
            session, tenant_id=ctx.tenant_id, user_id=owner_id) is None:
        raise NotFound("User not found.", code="USER_NOT_FOUND")
    rows = await activities_repository.upcoming_page(
        session, scope=readable(ctx), user_id=owner_id, until=None,
        after=activities.after_of(cursor, activities.UPCOMING_SORT), limit=limit + 1,
        opportunity_scope=scope_of(ctx))
    page, next_cursor = activities.paged(rows, limit, activities.UPCOMING_SORT,
                                         ("scheduled_for", "id"))
    return await _presented(session, ctx, page), next_cursor
