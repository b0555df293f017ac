"""Loading what in-memory checks read, for many leads at once: the lead rows and, per
aggregate a rule needs, one count per lead — one query for the leads, one for the activity
counts (a ``count(*) FILTER`` per type and window), one for the task counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.leads.repository import T
from leadbase.rules.catalog import Aggregate
from leadbase.rules.memory import Facts
from leadbase.rules.sql import A, K

DAY = timedelta(days=1)


def _filter(agg: Aggregate, now: datetime) -> ColumnElement[bool]:
    source, detail, days = agg
    if source == "activities":
        conds = [A.c.type == detail]
        if days is not None:
            conds.append(A.c.occurred_at >= now - days * DAY)
        return and_(*conds)
    return K.c.due_at < now if detail == "overdue" else K.c.id.is_not(None)


async def count_aggregates(session: AsyncSession, *, tenant_id: uuid.UUID,
                           lead_ids: Sequence[uuid.UUID], needs: Iterable[Aggregate],
                           now: datetime) -> dict[uuid.UUID, dict[Aggregate, int]]:
    """``{lead_id: {aggregate: count}}`` for the leads that have any (others: zero)."""
    out: dict[uuid.UUID, dict[Aggregate, int]] = {}
    wanted = sorted(set(needs), key=lambda a: (a[0], a[1], a[2] or 0))
    if not lead_ids or not wanted:
        return out
    for source, table in (("activities", A), ("tasks", K)):
        aggs = [a for a in wanted if a[0] == source]
        if not aggs:
            continue
        where = [table.c.tenant_id == tenant_id, table.c.lead_id.in_(list(lead_ids)),
                 table.c.deleted_at.is_(None)]
        if source == "activities":
            where.append(A.c.occurred_at <= now)
        else:
            where.append(K.c.status == "open")
        cols = [func.count().filter(_filter(a, now)).label(f"c{i}") for i, a in enumerate(aggs)]
        rows = await session.execute(
            select(table.c.lead_id, *cols).where(*where).group_by(table.c.lead_id))
        for row in rows:
            counts = out.setdefault(row[0], {})
            for i, agg in enumerate(aggs):
                counts[agg] = int(row[i + 1])
    return out


async def load_facts(session: AsyncSession, *, tenant_id: uuid.UUID,
                     lead_ids: Sequence[uuid.UUID], needs: Iterable[Aggregate] = (),
                     now: datetime,
                     leads: Iterable[Mapping[str, Any]] | None = None
                     ) -> dict[uuid.UUID, Facts]:
    """The facts of each lead found (deleted ones too: the caller decides), by id. Pass
    ``leads`` (rows with every leads column) when they are loaded already."""
    ids = list(dict.fromkeys(lead_ids))
    if leads is None:
        rows = (await session.execute(
            select(T).where(T.c.tenant_id == tenant_id, T.c.id.in_(ids)))).mappings()
        leads = [dict(r) for r in rows]
    counts = await count_aggregates(session, tenant_id=tenant_id, lead_ids=ids, needs=needs,
                                    now=now)
    return {lead["id"]: Facts(lead=lead, counts=counts.get(lead["id"], {}))
            for lead in leads}
