"""A lead's timeline: its activities (system entries included) and its own audited
changes, newest first, one keyset-paged stream (see ``repository.timeline_page``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import repository, types
from leadbase.activities.service import after_of, invalid, lead_not_found, paged
from leadbase.auth.context import Context
from leadbase.leads.repository import readable

CHANGE = "change"  # the type of an audited change of the lead on its timeline
TIMELINE_TYPES = types.ALL_TYPES | {CHANGE}
SORT = "-at,-id"


def parse_types(raw: str | None) -> tuple[list[str] | None, bool]:
    """``types=call,change``: (the activity types, None for all; whether changes)."""
    if not raw:
        return None, True
    wanted = {t.strip() for t in raw.split(",") if t.strip()}
    unknown = sorted(wanted - TIMELINE_TYPES)
    if unknown:
        raise invalid("types", f"unknown timeline types: {', '.join(unknown)}")
    return sorted(wanted - {CHANGE}), CHANGE in wanted


async def page(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
               types_filter: str | None, cursor: str | None,
               limit: int) -> tuple[list[dict[str, Any]], str | None]:
    activity_types, changes = parse_types(types_filter)
    rows = await repository.timeline_page(
        session, scope=readable(ctx), lead_id=lead_id, activity_types=activity_types,
        changes=changes, after=after_of(cursor, SORT), limit=limit + 1)
    if rows is None:
        raise lead_not_found()
    return paged(rows, limit, SORT, ("at", "id"))
