"""SQL for the field schema and the lead queries the field engine needs (tenant-scoped)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.models import (
    CodeListItem,
    FieldDefinition,
    Lead,
    LeadFieldKey,
    LeadList,
    ValidationRule,
)

FIELDS = table_of(FieldDefinition)
RULES = table_of(ValidationRule)
ITEMS = table_of(CodeListItem)
LISTS = table_of(LeadList)
LEADS = table_of(Lead)

FIELD_ROWS = crud.Rows(FIELDS)  # a field's rules go with it (ON DELETE CASCADE)
RULE_ROWS = crud.Rows(RULES)


def on_live_list(tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """Fields whose list is not deleted (a deleted list's schema is out of sight)."""
    return FIELDS.c.list_id.in_(select(LISTS.c.id).where(LISTS.c.tenant_id == tenant_id,
                                                         LISTS.c.deleted_at.is_(None)))


# -- field definitions and validation rules (rows of live lists) ------------------------

async def page_fields(session: AsyncSession, *, tenant_id: uuid.UUID,
                      list_id: uuid.UUID | None, active: bool | None, offset: int = 0,
                      limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Fields of live lists by list and position (optionally of one list, active or not)."""
    where = [on_live_list(tenant_id)]
    if list_id is not None:
        where.append(FIELDS.c.list_id == list_id)
    if active is not None:
        where.append(FIELDS.c.active.is_(active))
    return await crud.list_rows(session, FIELDS, tenant_id=tenant_id, where=where,
                                order=[FIELDS.c.list_id, FIELDS.c.position], offset=offset,
                                limit=limit)


async def get_field(session: AsyncSession, *, tenant_id: uuid.UUID, field_id: uuid.UUID,
                    for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, FIELDS, tenant_id=tenant_id, row_id=field_id,
                              for_update=for_update, where=[on_live_list(tenant_id)])


async def get_field_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                              number: int) -> dict[str, Any] | None:
    return await crud.get_by_number(session, FIELDS, tenant_id=tenant_id, number=number,
                                    where=[on_live_list(tenant_id)])


async def page_rules(session: AsyncSession, *, tenant_id: uuid.UUID,
                     field_id: uuid.UUID | None, offset: int = 0,
                     limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_rows(session, RULES, tenant_id=tenant_id,
                                where=[RULES.c.field_id == field_id] if field_id else [],
                                order=[RULES.c.field_id, RULES.c.position], offset=offset,
                                limit=limit)


async def get_rule(session: AsyncSession, *, tenant_id: uuid.UUID, rule_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, RULES, tenant_id=tenant_id, row_id=rule_id,
                              for_update=for_update)


async def get_rule_by_number(session: AsyncSession, *, tenant_id: uuid.UUID,
                             number: int) -> dict[str, Any] | None:
    return await crud.get_by_number(session, RULES, tenant_id=tenant_id, number=number)


async def list_fields(session: AsyncSession, *, tenant_id: uuid.UUID,
                      list_id: uuid.UUID | None = None, active: bool | None = None,
                      codes: list[str] | None = None) -> list[dict[str, Any]]:
    q = select(FIELDS).where(FIELDS.c.tenant_id == tenant_id)
    if list_id is not None:
        q = q.where(FIELDS.c.list_id == list_id)
    if active is not None:
        q = q.where(FIELDS.c.active.is_(active))
    if codes:
        q = q.where(func.lower(FIELDS.c.code).in_([c.lower() for c in codes]))
    q = q.order_by(FIELDS.c.list_id, FIELDS.c.position, FIELDS.c.number)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def code_taken(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID,
                     code: str, exclude_id: uuid.UUID | None = None) -> bool:
    q = select(FIELDS.c.id).where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.list_id == list_id,
                                  func.lower(FIELDS.c.code) == code.lower())
    if exclude_id is not None:
        q = q.where(FIELDS.c.id != exclude_id)
    return (await session.execute(q)).first() is not None


async def rules_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                    field_ids: list[uuid.UUID],
                    active: bool | None = None) -> list[dict[str, Any]]:
    if not field_ids:
        return []
    q = select(RULES).where(RULES.c.tenant_id == tenant_id, RULES.c.field_id.in_(field_ids))
    if active is not None:
        q = q.where(RULES.c.active.is_(active))
    q = q.order_by(RULES.c.field_id, RULES.c.position, RULES.c.number)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def items_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                    code_list_ids: list[uuid.UUID],
                    active: bool | None = None) -> list[dict[str, Any]]:
    if not code_list_ids:
        return []
    q = select(ITEMS).where(ITEMS.c.tenant_id == tenant_id,
                            ITEMS.c.code_list_id.in_(code_list_ids))
    if active is not None:
        q = q.where(ITEMS.c.active.is_(active))
    q = q.order_by(ITEMS.c.code_list_id, ITEMS.c.position, ITEMS.c.number)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def list_row(session: AsyncSession, *, tenant_id: uuid.UUID,
                   list_id: uuid.UUID) -> dict[str, Any] | None:
    """id, number and deleted_at of a list, deleted or not."""
    q = select(LISTS.c.id, LISTS.c.number, LISTS.c.deleted_at).where(
        LISTS.c.tenant_id == tenant_id, LISTS.c.id == list_id)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def list_version(session: AsyncSession, *, tenant_id: uuid.UUID,
                       list_id: uuid.UUID) -> int | None:
    # Every lead write asks this (raw driver: see leadbase.db.raw).
    row = await raw.fetch_row(
        session, "SELECT schema_version FROM lead_lists "
                 "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL", (tenant_id, list_id))
    return int(row[0]) if row else None


async def lists_using_code_list(session: AsyncSession, *, tenant_id: uuid.UUID,
                                code_list_id: uuid.UUID) -> list[uuid.UUID]:
    q = select(FIELDS.c.list_id).where(FIELDS.c.tenant_id == tenant_id,
                                       FIELDS.c.code_list_id == code_list_id).distinct()
    return list((await session.execute(q)).scalars())


async def list_has_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                         list_id: uuid.UUID) -> bool:
    """Any lead row, deleted ones included (their values may be restored)."""
    q = select(exists().where(LEADS.c.tenant_id == tenant_id, LEADS.c.list_id == list_id))
    return bool((await session.execute(q)).scalar())


async def live_leads_in_list(session: AsyncSession, *, tenant_id: uuid.UUID,
                             list_id: uuid.UUID, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    q = select(LEADS.c.id).where(LEADS.c.tenant_id == tenant_id, LEADS.c.id.in_(ids),
                                 LEADS.c.list_id == list_id, LEADS.c.deleted_at.is_(None))
    return set((await session.execute(q)).scalars())


_ADD_KEYS_SQL = text("""
INSERT INTO lead_field_keys (tenant_id, list_id, code, value, lead_id)
SELECT tenant_id, list_id, CAST(:code AS text), lb_field_key(fields ->> CAST(:code AS text)), id
FROM leads WHERE tenant_id = :tenant AND list_id = :list AND deleted_at IS NULL
  AND lb_field_key(fields ->> CAST(:code AS text)) NOT IN ('', '[]')
ORDER BY created_at, id
ON CONFLICT DO NOTHING
""")


async def set_primary_keys(session: AsyncSession, *, tenant_id: uuid.UUID, list_id: uuid.UUID,
                           code: str, primary: bool) -> None:
    """Start (``primary``) or stop holding the keys of field ``code`` in ``lead_field_keys``.

    From then on the triggers of migration 0009 keep them. When leads already share a value,
    the oldest keeps it; the others are left as they are until their value changes. This
    reads every live lead of the list: call it only when the field turns primary."""
    if primary:
        await session.execute(_ADD_KEYS_SQL, {"tenant": tenant_id, "list": list_id,
                                              "code": code})
    else:
        keys = table_of(LeadFieldKey)
        await session.execute(delete(keys).where(keys.c.tenant_id == tenant_id,
                                                 keys.c.list_id == list_id,
                                                 keys.c.code == code))
