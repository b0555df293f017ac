"""SQL for auto-advance rules (always tenant-scoped)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import AdvanceRule

R = table_of(AdvanceRule)
ROWS = crud.Rows(R)

# A rule with its target stage's code, and whether the target is still a live stage.
_COLUMNS = ("r.id, r.number, r.tenant_id, r.pipeline_id, r.stage_id, r.target_stage_id, "
            "r.name, r.condition, r.position, r.enabled, r.created_at, r.updated_at, "
            "r.deleted_at, r.version, t.code AS target_stage, "
            "(t.deleted_at IS NULL) AS target_live")
_SELECT = (f"SELECT {_COLUMNS} FROM stage_advance_rules r JOIN pipeline_stages t "
           "ON t.tenant_id = r.tenant_id AND t.id = r.target_stage_id "
           "WHERE r.tenant_id = %(t)s AND t.tenant_id = %(t)s AND r.deleted_at IS NULL ")


async def rules_of_stage(session: AsyncSession, *, tenant_id: uuid.UUID,
                         stage_id: uuid.UUID) -> list[dict[str, Any]]:
    """The live rules of a stage, in order (at most MAX_RULES_PER_STAGE)."""
    return await raw.fetch_all(session, _SELECT + "AND r.stage_id = %(s)s "
                               "ORDER BY r.position, r.id", {"t": tenant_id, "s": stage_id})


async def get_rule(session: AsyncSession, *, tenant_id: uuid.UUID, stage_id: uuid.UUID,
                   rule_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    return await raw.fetch_one(session, _SELECT + "AND r.stage_id = %(s)s AND r.id = %(r)s"
                               + (" FOR UPDATE OF r" if for_update else ""),
                               {"t": tenant_id, "s": stage_id, "r": rule_id})


async def lock_stage(session: AsyncSession, *, tenant_id: uuid.UUID,
                     stage_id: uuid.UUID) -> None:
    """Serialise changes of one stage's rules (their order) until the transaction ends."""
    await raw.execute(session, "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                      (f"advance-rules:{tenant_id}:{stage_id}",))


async def set_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                        positions: dict[uuid.UUID, int]) -> None:
    """Give rules their new places (those whose place changed; a handful per stage)."""
    if not positions:
        return
    ids, places = list(positions), list(positions.values())
    await raw.execute(
        session, "UPDATE stage_advance_rules r SET position = p.n, updated_at = now() "
        "FROM unnest(%s::uuid[], %s::int[]) AS p(id, n) WHERE r.tenant_id = %s "
        "AND r.id = p.id AND r.position <> p.n", (ids, places, tenant_id))


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      rule_id: uuid.UUID) -> None:
    await session.execute(update(R).where(R.c.tenant_id == tenant_id, R.c.id == rule_id)
                          .values(deleted_at=func.now(), updated_at=func.now(),
                                  version=R.c.version + 1))


_LEAD_HAS_RULES = (
    "SELECT EXISTS (SELECT 1 FROM leads l JOIN stage_advance_rules r "
    "ON r.tenant_id = l.tenant_id AND r.stage_id = l.stage_id "
    "WHERE l.tenant_id = %(t)s AND r.tenant_id = %(t)s AND l.id = %(l)s "
    "AND l.deleted_at IS NULL AND r.deleted_at IS NULL AND r.enabled)")


async def lead_has_rules(session: AsyncSession, *, tenant_id: uuid.UUID,
                         lead_id: uuid.UUID) -> bool:
    """Whether the live lead's stage has an enabled rule (two index probes)."""
    row = await raw.fetch_row(session, _LEAD_HAS_RULES, {"t": tenant_id, "l": lead_id})
    return bool(row and row[0])
