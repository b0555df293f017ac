"""Loading what in-memory checks read, for many leads at once: the lead rows and, per
aggregate a rule needs, one count per lead — one query for the leads, one for the activity
counts (a ``count(*) FILTER`` per type and window), one for the task counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.leads.repository import T
from leadbase.rules.catalog import Aggregate
from leadbase.rules.memory import Facts
from leadbase.rules.sql import counts_of


async def count_aggregates(session: AsyncSession, *, tenant_id: uuid.UUID,
                           lead_ids: Sequence[uuid.UUID], needs: Iterable[Aggregate],
                           now: datetime) -> dict[uuid.UUID, dict[Aggregate, int]]:
    """``{lead_id: {aggregate: count}}`` for the leads that have any (others: zero): one
    grouped query per source (:func:`leadbase.rules.sql.counts_of`, which the
    recalculation joins in SQL)."""
    out: dict[uuid.UUID, dict[Aggregate, int]] = {}
    if not lead_ids:
        return out
    for sub, columns in counts_of(needs, tenant_id=tenant_id, now=now,
                                  lead_ids=list(lead_ids)):
        aggs = list(columns)
        rows = await session.execute(select(sub.c.lead_id, *columns.values()))
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
