"""Per user: what is planned (upcoming), what was done lately (recent), and a summary of a
period (activities by type, tasks completed and pending).

Agents (who read only their own leads) ask about themselves; every other role about
anyone in the workspace. Lists and counts only reach the activities of leads the caller
reads. An activity belongs to its *author* (who logged or planned it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import repository
from leadbase.activities.service import LIST_SORT, UPCOMING_SORT, after_of, invalid, paged
from leadbase.auth.context import Context
from leadbase.kit.errors import Forbidden, NotFound
from leadbase.leads.repository import readable
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository

Period = Literal["day", "week", "month", "custom"]
MAX_DAYS = 366


async def whose(session: AsyncSession, ctx: Context, user_id: uuid.UUID | None) -> uuid.UUID:
    """The user asked about: the caller by default; an agent only themselves."""
    if user_id is None:
        if ctx.actor_user_id is None:
            raise invalid("user_id", "required when signed in with an API key")
        return ctx.actor_user_id
    if ctx.sees_only_own_leads and user_id != ctx.actor_user_id:
        raise Forbidden("An agent sees only their own activities.",
                        code="ONLY_OWN_ACTIVITIES")
    if user_id != ctx.actor_user_id and await users_repository.get(
            session, tenant_id=ctx.tenant_id, user_id=user_id) is None:
        raise NotFound("User not found.", code="USER_NOT_FOUND")
    return user_id


async def upcoming(session: AsyncSession, *, ctx: Context, user_id: uuid.UUID | None,
                   until: datetime | None, cursor: str | None,
                   limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Scheduled and not completed, soonest first: overdue ones (planned in the past)
    first, then the coming ones up to ``until``."""
    user = await whose(session, ctx, user_id)
    rows = await repository.upcoming_page(session, scope=readable(ctx), user_id=user,
                                          until=until, after=after_of(cursor, UPCOMING_SORT),
                                          limit=limit + 1)
    return paged(rows, limit, UPCOMING_SORT, ("scheduled_for", "id"))


async def recent(session: AsyncSession, *, ctx: Context, user_id: uuid.UUID | None,
                 days: int, cursor: str | None,
                 limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """What the user logged that happened in the last ``days`` days, newest first."""
    user = await whose(session, ctx, user_id)
    now = datetime.now(UTC)
    f = {"author_id": user, "start": now - timedelta(days=days), "end": now + timedelta(
        seconds=1)}
    rows = await repository.list_page(session, scope=readable(ctx), f=f,
                                      after=after_of(cursor, LIST_SORT), limit=limit + 1)
    return paged(rows, limit, LIST_SORT, ("occurred_at", "id"))


def period_bounds(period: Period, now: datetime, zone: ZoneInfo, start: datetime | None,
                  end: datetime | None) -> tuple[datetime, datetime]:
    """[start, end) of the period containing ``now`` in the workspace's time zone: the
    day, the ISO week (from Monday), the calendar month; or ``custom`` from/to."""
    if period == "custom":
        if start is None or end is None:
            raise invalid("from", "custom periods need from and to")
        if end <= start:
            raise invalid("to", "must be after from")
        if end - start > timedelta(days=MAX_DAYS):
            raise invalid("to", f"a period spans at most {MAX_DAYS} days")
        return start, end
    local = now.astimezone(zone)
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    first = datetime.combine(day, time(), zone)
    if period == "day":
        last = datetime.combine(day + timedelta(days=1), time(), zone)
    elif period == "week":
        last = datetime.combine(day + timedelta(days=7), time(), zone)
    else:
        last = datetime.combine((day + timedelta(days=32)).replace(day=1), time(), zone)
    return first.astimezone(UTC), last.astimezone(UTC)


@dataclass(frozen=True)
class Summary:
    user_id: uuid.UUID
    period: str
    starts_at: datetime
    ends_at: datetime
    total: int
    by_type: dict[str, int]
    tasks_completed: int
    tasks_pending: int


async def summary(session: AsyncSession, *, ctx: Context, user_id: uuid.UUID | None,
                  period: Period, start: datetime | None,
                  end: datetime | None) -> Summary:
    """Completed activities the user logged in the period, by type (system entries are
    not counted); tasks assigned to them completed in the period, and open ones due
    before its end (overdue included) or without a due date."""
    user = await whose(session, ctx, user_id)
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    first, last = period_bounds(period, datetime.now(UTC), ZoneInfo(ws.timezone or "UTC"),
                                start, end)
    scope = readable(ctx)
    by_type = await repository.counts_by_type(session, scope=scope, user_id=user,
                                              start=first, end=last)
    done, pending = await repository.task_counts(session, scope=scope, user_id=user,
                                                 start=first, end=last)
    return Summary(user_id=user, period=period, starts_at=first, ends_at=last,
                   total=sum(by_type.values()), by_type=dict(sorted(by_type.items())),
                   tasks_completed=done, tasks_pending=pending)
