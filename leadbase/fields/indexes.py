"""Expression indexes on ``leads`` for the custom fields marked ``indexed``.

A JSONB value cannot be sorted or range-filtered through the GIN index on ``fields``: at a
million leads ``sort=fields.Edad`` sorted every match (0.2-2 s). An indexed field of list L
gets one btree on ``leads``::

    (tenant_id, lb_jsonb_numeric(fields -> 'Edad'), id) WHERE list_id = L AND deleted_at IS NULL

(``(fields ->> 'code')`` for text, date and other non-numeric types): the expression of
``leadbase.leads.repository.field_value_expr``, so list queries that name the list
(``list_id=``) sort along it and use it for ``fields.<code>_gte/_lte``. Ascending with
NULLS LAST, it serves both directions (see ``repository._custom_sort_query``).

Indexes are DDL on a shared table: they are built with ``CREATE INDEX CONCURRENTLY`` (no
write lock on ``leads``, and impossible inside a transaction) by the worker job
``sync_field_indexes``, which a field change queues through the outbox (``field.*`` events
with ``reindex``). :func:`sync_list` is idempotent: it makes a list's indexes match its
fields (drops the ones no longer wanted, rebuilds invalid ones), as the database's owner,
on its own autocommit connection; RLS does not apply to DDL and the index holds nothing a
query could not read anyway. The name holds the list's and the field's ``number`` and a
hash of the definition: ``ix_leads_l<list>_f<field>_<hash>``.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.session import Database
from leadbase.fields import repository
from leadbase.kit.errors import ValidationFailed

log = logging.getLogger(__name__)

NUMERIC_TYPES = ("INT", "DECIMAL", "CALCULATED")
"""Types that sort and compare as numbers (``lb_jsonb_numeric``); the others as text."""

_NOT_INDEXABLE_SUBTYPES = ("SELECTOR_MULTIPLE", "CHECKBOX_MULTIPLE")


def check_indexable(kind: str, subtype: str | None) -> None:
    """TEXT values (up to 10,000 characters) exceed what a btree entry holds, and lists of
    codes have no useful order: such fields cannot be indexed."""
    if kind == "TEXT" or subtype in _NOT_INDEXABLE_SUBTYPES:
        raise ValidationFailed(f"indexed: a {subtype or kind} field cannot be indexed",
                               code="INVALID_FIELD_DEFINITION",
                               errors=[{"field": "indexed",
                                        "message": "not for TEXT or multiple-choice fields"}])


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expression(code: str, kind: str) -> str:
    """The indexed expression, exactly as ``field_value_expr`` writes it."""
    if kind in NUMERIC_TYPES:
        return f"lb_jsonb_numeric(fields -> {_quote(code)})"
    return f"(fields ->> {_quote(code)})"


@dataclass(frozen=True)
class WantedIndex:
    name: str
    ddl: str


def wanted(list_row: dict[str, Any], fields: list[dict[str, Any]]) -> list[WantedIndex]:
    """The indexes a list's fields call for (none for a deleted list)."""
    if list_row.get("deleted_at") is not None:
        return []
    out = []
    for field in fields:
        if not (field["indexed"] and field["active"]):
            continue
        expr = expression(field["code"], field["type"])
        where = f"list_id = {_quote(str(list_row['id']))}::uuid AND deleted_at IS NULL"
        digest = hashlib.sha256(f"{expr} WHERE {where}".encode()).hexdigest()[:8]
        name = f"{prefix(list_row['number'])}{field['number']}_{digest}"
        out.append(WantedIndex(name, f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON leads "
                                     f"(tenant_id, {expr}, id) WHERE {where}"))
    return out


def prefix(list_number: int) -> str:
    return f"ix_leads_l{list_number}_f"


async def wanted_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                     list_id: uuid.UUID) -> tuple[int, list[WantedIndex]] | None:
    """The list's number and the indexes its fields want (None: no such list)."""
    list_row = await repository.list_row(session, tenant_id=tenant_id, list_id=list_id)
    if list_row is None:
        return None
    fields = await repository.list_fields(session, tenant_id=tenant_id, list_id=list_id)
    return list_row["number"], wanted(list_row, fields)


_EXISTING_SQL = """
SELECT c.relname, i.indisvalid FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'leads'::regclass AND c.relname LIKE %s
"""


async def sync_list(db: Database, *, tenant_id: uuid.UUID, list_id: uuid.UUID) -> list[str]:
    """Make the indexes of a list match its fields; returns what it did (``+name``,
    ``-name``). Safe to run twice and concurrently (a lock per list)."""
    async with db.transaction(tenant_id) as session:
        found = await wanted_for(session, tenant_id=tenant_id, list_id=list_id)
    if found is None:
        return []
    number, indexes = found
    like = prefix(number).replace("_", r"\_") + "%"
    done: list[str] = []
    async with await psycopg.AsyncConnection.connect(db.libpq, autocommit=True) as conn:
        lock = f"leadbase:field-indexes:{list_id}"
        await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (lock,))
        try:
            rows = await (await conn.execute(_EXISTING_SQL, (like,))).fetchall()
            existing = {name: valid for name, valid in rows}
            keep = {w.name for w in indexes}
            for name, valid in existing.items():
                if name not in keep or not valid:
                    await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}".encode())
                    done.append(f"-{name}")
            for index in indexes:
                if existing.get(index.name) is not True:
                    await conn.execute(index.ddl.encode())
                    done.append(f"+{index.name}")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (lock,))
    if done:
        log.info("field indexes of list %s: %s", list_id, ", ".join(done))
    return done
