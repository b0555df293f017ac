"""Checking a rule for a user: parse it, put it in words and count what it selects among
the leads they can read; the fields a workspace's rules can use."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.leads.repository import T, readable
from leadbase.rules.catalog import BUILTIN, TASK_COUNTS, load_catalog
from leadbase.rules.parse import parse
from leadbase.rules.schemas import RuleChecked, RuleField
from leadbase.rules.sql import to_sql
from leadbase.rules.words import describe

COUNT_CAP = 10_000


async def check(session: AsyncSession, *, ctx: Context, condition: Any) -> RuleChecked:
    catalog = await load_catalog(session, tenant_id=ctx.tenant_id)
    rule = parse(condition, catalog)
    now = datetime.now(UTC)
    matching = (select(T.c.id)
                .where(*readable(ctx).where(), T.c.deleted_at.is_(None),
                       to_sql(rule, now=now, tenant_id=ctx.tenant_id))
                .limit(COUNT_CAP + 1).subquery())
    count = int((await session.execute(select(func.count()).select_from(matching))).scalar_one())
    return RuleChecked(condition=rule.to_json(), description=describe(rule),
                       count=min(count, COUNT_CAP), count_is_capped=count > COUNT_CAP)


async def fields(session: AsyncSession, *, ctx: Context) -> list[RuleField]:
    catalog = await load_catalog(session, tenant_id=ctx.tenant_id)
    out = [RuleField(field=f.name, label=f.label, kind=f.kind, ops=sorted(f.ops),
                     choices=sorted(f.choices) if f.choices else None)
           for f in BUILTIN.values()]
    for definition in catalog.fields.values():
        if definition is not None:
            out.append(RuleField(field=definition.name, label=definition.label,
                                 kind=definition.kind, ops=sorted(definition.ops)))
    for name in sorted(catalog.activity_types):
        f = catalog.lookup(f"activities.{name}")
        assert not isinstance(f, str)
        out.append(RuleField(field=f.name, label=f.label, kind=f.kind, ops=sorted(f.ops),
                             takes_within_days=True))
    for name in TASK_COUNTS:
        f = catalog.lookup(f"tasks.{name}")
        assert not isinstance(f, str)
        out.append(RuleField(field=f.name, label=f.label, kind=f.kind, ops=sorted(f.ops)))
    return out
