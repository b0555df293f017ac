"""All SQL for exports: the leads to write (a server-side cursor), the custom fields
that become columns, and the export jobs. Every statement is tenant-scoped; the leads are
those of a ``LeadSet`` (within the caller's readable set)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import (
    ColumnElement,
    Row,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.exports.formats import Column
from leadbase.kit import crud
from leadbase.leads.repository import LeadSet, conditions
from leadbase.models import ExportJob, FieldDefinition, Lead, LeadList

JOBS = table_of(ExportJob)
LEADS = table_of(Lead)
FIELDS = table_of(FieldDefinition)
LISTS = table_of(LeadList)

# The lead columns an export reads, in the order the column plan expects them.
LEAD_COLUMNS = (
    "id", "number", "list_id", "first_name", "last_name", "email", "phone", "company",
    "job_title", "source", "status", "score", "temperature", "owner_id", "tags", "notes",
    "do_not_contact", "consent", "timezone", "country", "last_contacted_at", "created_at",
    "updated_at", "deleted_at", "fields",
)


async def export_fields(session: AsyncSession, *, tenant_id: uuid.UUID,
                        list_ids: list[uuid.UUID] | None) -> list[dict[str, Any]]:
    """Active custom fields of the live lists (or of ``list_ids``): the default list first,
    then the others by number; within a list, in the list's order (position, number)."""
    q = (select(FIELDS.c.list_id, FIELDS.c.code, FIELDS.c.name, FIELDS.c.type,
                FIELDS.c.subtype)
         .join(LISTS, (LISTS.c.id == FIELDS.c.list_id) & (LISTS.c.tenant_id == tenant_id))
         .where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.active.is_(True),
                LISTS.c.deleted_at.is_(None))
         .order_by(LISTS.c.is_default.desc(), LISTS.c.number, FIELDS.c.position,
                   FIELDS.c.number))
    if list_ids:
        q = q.where(FIELDS.c.list_id.in_(list_ids))
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def count_leads(session: AsyncSession, *, leads: LeadSet) -> int:
    q = select(func.count()).select_from(LEADS).where(*conditions(leads))
    return int((await session.execute(q)).scalar_one())


async def stream_leads(session: AsyncSession, *, leads: LeadSet,
                       batch: int) -> AsyncIterator[Sequence[Row[Any]]]:
    """The matching leads in batches, newest first, through a server-side cursor (one
    snapshot, constant memory). Timestamps come back in UTC."""
    await session.execute(text("SET LOCAL TIME ZONE 'UTC'"))
    q = (select(*[LEADS.c[name] for name in LEAD_COLUMNS])
         .where(*conditions(leads))
         .order_by(LEADS.c.created_at.desc(), LEADS.c.id.desc())
         .execution_options(yield_per=batch))
    result = await session.stream(q)
    async for part in result.partitions(batch):
        yield part


async def insert_job(session: AsyncSession, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, JOBS, tenant_id=tenant_id, values=values)


async def get_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  created_by: uuid.UUID | None = None,
                  for_update: bool = False) -> dict[str, Any] | None:
    where = [JOBS.c.created_by == created_by] if created_by is not None else []
    return await crud.get_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                              for_update=for_update, where=where)


async def list_jobs(session: AsyncSession, *, tenant_id: uuid.UUID,
                    created_by: uuid.UUID | None, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    where = [JOBS.c.created_by == created_by] if created_by is not None else []
    return await crud.list_rows(session, JOBS, tenant_id=tenant_id, where=where,
                                order=[JOBS.c.created_at.desc(), JOBS.c.id.desc()],
                                offset=offset, limit=limit)


async def update_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                                 values=values)


async def mark_expired(session: AsyncSession, *, tenant_id: uuid.UUID,
                       job_ids: list[uuid.UUID]) -> int:
    q = (update(JOBS).where(JOBS.c.tenant_id == tenant_id, JOBS.c.id.in_(job_ids),
                            JOBS.c.status == "completed")
         .values(status="expired", updated_at=func.now()))
    result = await session.execute(q)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- CSV by COPY

_NUMBERISH_RE = "^[+-][0-9][0-9 ().-]*$"  # formats._NUMBERISH, for PostgreSQL
_TS_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def _neutral(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    """formats.neutralise in SQL: ``ascii()`` is a cheap first test, the pattern only runs
    on text starting with + or -."""
    first = func.ascii(expr)
    return case(
        (first.in_([61, 64, 9, 13]), literal("'") + expr),  # = @ tab CR
        (first.in_([43, 45]) & expr.op("!~")(_NUMBERISH_RE), literal("'") + expr),  # + -
        else_=expr)


def _text(column: Column) -> ColumnElement[Any]:
    """The CSV text of one column, as formats.csv_text would write it."""
    if column.code is not None:
        value = LEADS.c.fields.op("->")(column.code)
        if column.kind == "list":
            joined = func.array_to_string(func.array(
                select(func.jsonb_array_elements_text(value)).scalar_subquery()), ",")
            expr: ColumnElement[Any] = case(
                (func.jsonb_typeof(value) == "array", joined),
                else_=LEADS.c.fields.op("->>")(column.code))
        else:
            expr = LEADS.c.fields.op("->>")(column.code)
        return _neutral(expr) if column.kind in ("str", "list") else expr
    col = LEADS.c[column.header]
    if column.kind == "datetime":
        return func.to_char(func.timezone("UTC", col), _TS_FORMAT)
    if column.kind == "bool":
        return case((col, "true"), else_="false")
    if column.kind == "list":
        return _neutral(func.array_to_string(col, ","))
    if column.kind in ("uuid", "int"):
        return cast(col, Text)
    if column.header in ("status", "temperature", "timezone", "country"):
        return col  # set by Leadbase, never user text
    return _neutral(col)


def _copy_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}


async def copy_csv(session: AsyncSession, *, leads: LeadSet,
                   columns: list[Column]) -> AsyncIterator[bytes]:
    """The CSV body (no header) as PostgreSQL writes it with ``COPY (SELECT ...) TO
    STDOUT``: one snapshot, formatted and quoted by the server, read as it is produced.
    Row-level security applies to the query as to any SELECT."""
    q = (select(*[_text(c).label(f"c{i}") for i, c in enumerate(columns)])
         .where(*conditions(leads))
         .order_by(LEADS.c.created_at.desc(), LEADS.c.id.desc()))
    conn = await session.connection()
    compiled = q.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    async with raw.cursor() as cur, cur.copy(
            f"COPY ({compiled}) TO STDOUT (FORMAT csv)",
            _copy_params(compiled.params)) as copy:
        async for data in copy:
            yield bytes(data)
