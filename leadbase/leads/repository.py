"""All SQL for leads: single leads and the conditions of lead sets (the listing queries are
in leads.listing). Every statement is filtered by the readable set of the principal
(:func:`readable`: its workspace, and an agent's own leads), and RLS checks the workspace
again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import (
    ColumnElement,
    Text,
    cast,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.leads.filters import LeadFilter
from leadbase.models import Activity, Event, Lead, Stage

T = table_of(Lead)
E = table_of(Event)
ACT = table_of(Activity)

COLUMNS = (
    T.c.id, T.c.number, T.c.list_id, T.c.first_name, T.c.last_name, T.c.email, T.c.phone,
    T.c.company, T.c.job_title, T.c.source, T.c.status, T.c.score, T.c.temperature,
    T.c.owner_id, T.c.tags, T.c.notes, T.c.fields, T.c.metadata.label("metadata"),
    T.c.do_not_contact, T.c.consent, T.c.timezone, T.c.country, T.c.last_contacted_at,
    T.c.created_at, T.c.updated_at, T.c.deleted_at, T.c.version,
    T.c.pipeline_id, T.c.stage_id, T.c.stage_entered_at, T.c.last_activity_at,
    # qualification and conversion (migrations 0021, 0023)
    T.c.qualified_at, T.c.unqualified_reason, T.c.customer_id, T.c.converted_at,
    T.c.converted_opportunity_id,
)
# The stage's code beside its id: one primary-key probe of the (small) stages table per
# row, in the same statement (pipelines own the stages; see leadbase.pipelines).
STAGE_CODE_SQL = ("(SELECT s.code FROM pipeline_stages s WHERE s.tenant_id = leads.tenant_id "
                  "AND s.id = leads.stage_id) AS stage")
_STAGES = table_of(Stage)
STAGE_CODE = (select(_STAGES.c.code)
              .where(_STAGES.c.tenant_id == T.c.tenant_id, _STAGES.c.id == T.c.stage_id)
              .correlate(T).scalar_subquery().label("stage"))
READ_COLUMNS = (*COLUMNS, STAGE_CODE)


def stage_code_of(leads: LeadSet, stage_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """STAGE_CODE for the ``stage_id`` column of a subquery of ``leads``."""
    return (select(_STAGES.c.code)
            .where(_STAGES.c.tenant_id == leads.scope.tenant_id, _STAGES.c.id == stage_id)
            .scalar_subquery().label("stage"))
# When a lead was last touched (the list's stale_days=). No index: stale leads are most
# leads, found quickly along any sort order, and an index over last_activity_at would
# make every timeline entry's touch of the lead a non-HOT update of all its indexes.
TOUCHED = func.greatest(T.c.last_activity_at, T.c.stage_entered_at, T.c.created_at)

# Public sort name -> (column, nullable)
SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "created_at": (T.c.created_at, False),
    "updated_at": (T.c.updated_at, False),
    "number": (T.c.number, False),
    "score": (T.c.score, False),
    "status": (T.c.status, False),
    "first_name": (T.c.first_name, True),
    "last_name": (T.c.last_name, True),
    "email": (T.c.email, True),
    "phone": (T.c.phone, True),
    "company": (T.c.company, True),
    "job_title": (T.c.job_title, True),
    "source": (T.c.source, True),
    "temperature": (T.c.temperature, False),
    "last_contacted_at": (T.c.last_contacted_at, True),
}
ID_COLUMN = T.c.id

# The hot statements (create, get, duplicate checks) run on the raw driver (see
# leadbase.db.raw) as constant SQL; the column list is the same as COLUMNS.
_RETURNING = ", ".join(c.name for c in COLUMNS) + ", " + STAGE_CODE_SQL
RETURNING = _RETURNING  # the lead columns for raw statements on ``leads`` (pipelines' moves)
_JSON_COLUMNS = frozenset({"fields", "metadata", "score_breakdown"})
_WRITABLE = frozenset(c.name for c in T.c) - {"id", "tenant_id", "number", "search_text"}
_GET_SQL = f"SELECT {_RETURNING} FROM leads WHERE id = %s AND "
_LIVE = " AND deleted_at IS NULL"
_FOR_UPDATE = " FOR UPDATE"
_LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
             "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys")
_DUPLICATE_SQL = (
    "SELECT id, matched FROM ("
    "(SELECT id, created_at, 'email' AS matched, 0 AS rank FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND email = %(email)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1) UNION ALL "
    "(SELECT id, created_at, 'phone', 1 FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND phone = %(phone)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1)) AS found ORDER BY rank LIMIT 1"
)
_NO_ID = uuid.UUID(int=0)


class PrimaryValueTaken(Exception):
    """The database refused a lead write: another live lead of the list holds the value
    of primary field ``code`` (raised by the ``lead_field_keys`` triggers, migration 0009)."""

    def __init__(self, code: str, existing_id: str) -> None:
        super().__init__(code, existing_id)
        self.code = code
        self.existing_id = existing_id


def _taken(exc: BaseException) -> PrimaryValueTaken | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, psycopg.errors.UniqueViolation) and \
            orig.diag.constraint_name == "lead_field_keys_taken":
        return PrimaryValueTaken(orig.diag.column_name or "", orig.diag.message_detail or "")
    return None


def _param(column: str, value: Any) -> Any:
    return raw.jsonb(value) if column in _JSON_COLUMNS and value is not None else value


@dataclass(frozen=True)
class Readable:
    """The leads a principal may read and write: its workspace's, and of those only its
    own (``owner_id``) when ``own``. Made by :func:`readable` and nowhere else."""

    tenant_id: uuid.UUID
    own: bool = False
    owner_id: uuid.UUID | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [T.c.tenant_id == self.tenant_id]
        if self.own:
            conds.append(T.c.owner_id == self.owner_id if self.owner_id else false())
        return conds

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        """:meth:`where` for the raw driver: ``tenant_id = %s ...`` and its parameters."""
        if not self.own:
            return "tenant_id = %s", (self.tenant_id,)
        if self.owner_id is None:
            return "tenant_id = %s AND false", (self.tenant_id,)
        return "tenant_id = %s AND owner_id = %s", (self.tenant_id, self.owner_id)

    def holds_owner(self, owner_id: uuid.UUID | None) -> bool:
        """Whether a lead owned by ``owner_id`` is in the set: a write may not put a lead
        out of the writer's reach (an agent's leads are theirs)."""
        return not self.own or (owner_id is not None and owner_id == self.owner_id)

    @property
    def default_owner(self) -> uuid.UUID | None:
        """The owner a new lead gets when none is given: the agent's self."""
        return self.owner_id if self.own else None


def readable(ctx: Context) -> Readable:
    """The readable set of leads of ``ctx``: the one visibility rule. Agents reach the
    leads they own (an agent without a user, e.g. an API key, none); every other role the
    whole workspace. Lists, reads, writes, exports, bulk operations and imports all go
    through it."""
    if ctx.sees_only_own_leads:
        return Readable(ctx.tenant_id, own=True, owner_id=ctx.actor_user_id)
    return Readable(ctx.tenant_id)


@dataclass(frozen=True)
class LeadSet:
    """The leads a query selects: ``f`` within the readable set ``scope``. ``extra`` holds
    the custom-field filters as conditions (the service resolves them against the field
    schema, see leads.field_filters)."""

    scope: Readable
    f: LeadFilter = field(default_factory=LeadFilter)
    extra: tuple[ColumnElement[bool], ...] = ()


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_pattern(q: str) -> ColumnElement[Any]:
    return func.lower(func.lb_unaccent("%" + escape_like(q) + "%"))


def conditions(leads: LeadSet, *, search: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``leads`` (without the ``q=`` search unless ``search``)."""
    f = leads.f
    conds = leads.scope.where()
    if f.only_deleted:
        conds.append(T.c.deleted_at.is_not(None))
    elif not f.include_deleted:
        conds.append(T.c.deleted_at.is_(None))
    if f.statuses:
        conds.append(T.c.status.in_(f.statuses) if len(f.statuses) > 1
                     else T.c.status == f.statuses[0])
    if f.owner_none and f.owner_ids:
        conds.append(T.c.owner_id.in_(f.owner_ids) | T.c.owner_id.is_(None))
    elif f.owner_none:
        conds.append(T.c.owner_id.is_(None))
    elif f.owner_ids:
        conds.append(T.c.owner_id.in_(f.owner_ids) if len(f.owner_ids) > 1
                     else T.c.owner_id == f.owner_ids[0])
    if f.tag_list:
        conds.append(T.c.tags.overlap(cast(f.tag_list, ARRAY(Text))))
    if f.sources:
        conds.append(T.c.source.in_(f.sources))
    if f.list_ids:
        conds.append(T.c.list_id.in_(f.list_ids))
    if f.score_gte is not None:
        conds.append(T.c.score >= f.score_gte)
    if f.score_lte is not None:
        conds.append(T.c.score <= f.score_lte)
    if f.created_after is not None:
        conds.append(T.c.created_at >= f.created_after)
    if f.created_before is not None:
        conds.append(T.c.created_at < f.created_before)
    if f.updated_after is not None:
        conds.append(T.c.updated_at >= f.updated_after)
    if f.stale_days is not None:
        conds.append(TOUCHED < func.now() - func.make_interval(0, 0, 0, f.stale_days))  # noqa: SIM300
    if search and f.search:
        conds.append(T.c.search_text.like(search_pattern(f.search)))
    conds.extend(leads.extra)
    return conds

async def insert_lead(session: AsyncSession, *, tenant_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    """Raises :class:`PrimaryValueTaken` for a primary value another live lead of the list
    holds."""
    unknown = set(values) - _WRITABLE
    if unknown:
        raise ValueError(f"not writable lead columns: {sorted(unknown)}")
    columns = ["id", "tenant_id", *values]
    sql = (f"INSERT INTO leads ({', '.join(columns)}) VALUES "
           f"({', '.join(['%s'] * len(columns))}) RETURNING {_RETURNING}")
    params = (new_id(), tenant_id, *(_param(k, v) for k, v in values.items()))
    try:
        row = await raw.fetch_one(session, sql, params)
    except psycopg.errors.UniqueViolation as exc:
        taken = _taken(exc)
        if taken is None:
            raise
        raise taken from None
    assert row is not None
    return row


async def get(session: AsyncSession, *, scope: Readable, lead_id: uuid.UUID,
              include_deleted: bool = False, for_update: bool = False) -> dict[str, Any] | None:
    """The lead, if it is in the readable set ``scope`` (and live unless
    ``include_deleted``)."""
    return await raw.fetch_one(session, *get_statement(
        scope, lead_id, include_deleted=include_deleted, for_update=for_update))


def get_statement(scope: Readable, lead_id: uuid.UUID, *, include_deleted: bool = False,
                  for_update: bool = False) -> raw.Statement:
    """The statement of :func:`get`, for a caller's ``raw.pipeline``."""
    where, params = scope.sql()
    sql = (_GET_SQL + where + ("" if include_deleted else _LIVE)
           + (_FOR_UPDATE if for_update else ""))
    return sql, (lead_id, *params)


async def merged_into(session: AsyncSession, *, scope: Readable,
                      lead_id: uuid.UUID) -> uuid.UUID | None:
    """The lead a lead of ``scope`` was merged into (None: not merged; leadbase.duplicates)."""
    where, params = scope.sql()
    row = await raw.fetch_row(session, "SELECT merged_into_id FROM leads WHERE id = %s AND "
                              + where + " AND merged_into_id IS NOT NULL", (lead_id, *params))
    return row[0] if row else None


async def find_duplicate(
    session: AsyncSession, *, tenant_id: uuid.UUID, email: str | None, phone: str | None,
    exclude_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str] | None:
    """The oldest live lead with this email (checked first) or phone, and what matched,
    after taking the transaction-scoped advisory locks of both identities (released at
    commit): concurrent writes of one email or phone in a workspace are serialised.

    Lock and lookup are two statements, because a statement's snapshot predates any lock
    it waits for (only the next statement sees a concurrent writer's row), sent in one
    round trip: the server runs them in order."""
    keys = ([f"email:{email}"] if email else []) + ([f"phone:{phone}"] if phone else [])
    if not keys:
        return None
    _, row = await raw.pipeline(session, [
        (_LOCK_SQL, ([f"lead:{tenant_id}:{k}" for k in keys],)),
        (_DUPLICATE_SQL, {"t": tenant_id, "email": email or None, "phone": phone or None,
                          "exclude": exclude_id or _NO_ID})])
    return (row[0], row[1]) if row else None


async def update_lead(session: AsyncSession, *, scope: Readable, lead_id: uuid.UUID,
                      values: dict[str, Any]) -> dict[str, Any]:
    """Raises :class:`PrimaryValueTaken` when the change gives the lead a primary value
    (or brings it back to life with one) that another live lead of its list holds."""
    q = (update(T).where(*scope.where(), T.c.id == lead_id)
         .values(**values, updated_at=func.now(), version=T.c.version + 1)
         .returning(*READ_COLUMNS))
    try:
        return dict((await session.execute(q)).mappings().one())
    except IntegrityError as exc:
        taken = _taken(exc)
        if taken is None:
            raise
        raise taken from None


async def purge(session: AsyncSession, *, scope: Readable, lead_id: uuid.UUID) -> None:
    await session.execute(delete(T).where(*scope.where(), T.c.id == lead_id))
    # Events may carry the lead's data: keep only the reference.
    await session.execute(
        update(E).where(E.c.tenant_id == scope.tenant_id, E.c.entity_id == lead_id)
        .values(payload=func.jsonb_build_object("id", str(lead_id), "purged", True))
    )


def field_value_expr(code: str, numeric: bool) -> ColumnElement[Any]:
    """``fields->>'code'``, as a number for numeric fields (NULL when not a number).

    The code is written into the SQL as a literal, so the expression is the one of the
    field's index (leadbase.fields.indexes) whatever plan PostgreSQL caches: a bound
    parameter would only match the index in plans made for the parameter's value."""
    key = literal(code, Text, literal_execute=True)
    if not numeric:
        return T.c.fields.op("->>")(key)  # type: ignore[no-any-return]
    return func.lb_jsonb_numeric(T.c.fields.op("->")(key))


def field_equals_any(code: str, values: list[Any]) -> ColumnElement[bool]:
    """Containment (served by the GIN index on ``fields``): any of the values."""
    return or_(*[T.c.fields.contains({code: v}) for v in values])


def field_compare(code: str, op: str, value: Any, numeric: bool) -> ColumnElement[bool]:
    expr = field_value_expr(code, numeric)
    result: ColumnElement[bool] = expr >= value if op == "gte" else expr <= value
    return result


async def with_merge(session: AsyncSession, *, scope: Readable, lead_id: uuid.UUID,
                     for_update: bool = False) -> dict[str, Any] | None:
    """The lead (deleted or not) in ``scope`` with ``merged_into_id`` (``for_update``: its
    row locked until the transaction ends): what qualification and conversion decide
    on."""
    q = select(*READ_COLUMNS, T.c.merged_into_id).where(*scope.where(), T.c.id == lead_id)
    if for_update:
        q = q.with_for_update(of=T)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def unqualified_reasons(session: AsyncSession, *, leads: Readable, start: Any,
                              end: Any, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """Unqualify decisions (``status_change`` entries to ``unqualified``) on the
    timelines of the leads ``leads`` may read, in [start, end): the total and the count
    per reason, most frequent first."""
    reason = ACT.c.attributes["reason"].astext.label("reason")  # NULL: none given
    conds = [ACT.c.tenant_id == leads.tenant_id, ACT.c.deleted_at.is_(None),
             ACT.c.occurred_at >= start, ACT.c.occurred_at < end,
             ACT.c.type == "status_change", ACT.c.attributes["to"].astext == "unqualified"]
    if leads.own:
        conds.append(ACT.c.lead_id.in_(select(T.c.id).where(*leads.where())))
    grouped = (select(reason, func.count().label("count")).where(*conds)
               .group_by(reason).subquery())
    rows = (await session.execute(
        select(grouped.c.reason, grouped.c.count, func.sum(grouped.c.count).over()
               .label("total")).order_by(grouped.c.count.desc(), grouped.c.reason.nulls_last())
        .limit(limit))).mappings().all()
    total = int(rows[0]["total"]) if rows else 0
    return total, [{"reason": r["reason"], "count": int(r["count"])} for r in rows]
