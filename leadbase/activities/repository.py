"""SQL for activities (always tenant-scoped), on the raw driver (see leadbase.db.raw).

An activity is reachable when its lead is: live and in the caller's readable set
(:class:`leadbase.leads.repository.Readable`), checked by an ``EXISTS`` on the lead's
primary key. Writing an activity moves its lead's ``last_activity_at`` (and, for a
completed contact, ``last_contacted_at``) forward, never back, in the same statement."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities.types import SYSTEM_TYPES
from leadbase.db import raw
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable
from leadbase.opportunities.repository import OppScope

_COLUMNS = ("id, number, type, lead_id, opportunity_id, description, attributes, occurred_at, "
            "scheduled_for, completed_at, author_user_id AS author_id, task_id, listing_id, "
            "created_at, updated_at, version")
_A_COLUMNS = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))
_SYSTEM = sorted(SYSTEM_TYPES)

# Move the lead's clocks forward (greatest() ignores NULLs), and write nothing when
# neither moves.
_TOUCH = (
    "UPDATE leads SET last_activity_at = greatest(last_activity_at, {touch}), "
    "last_contacted_at = greatest(last_contacted_at, %(contact)s) "
    "WHERE tenant_id = %(t)s AND id = {lead} AND ("
    "last_activity_at IS NULL OR last_activity_at < {touch} OR "
    "(%(contact)s::timestamptz IS NOT NULL AND "
    "(last_contacted_at IS NULL OR last_contacted_at < %(contact)s)))"
)
_GIVEN = "%(touch)s::timestamptz"
_NOW = "coalesce(%(touch)s::timestamptz, now())"


def _touch(touch: str = _GIVEN, lead: str = "%(lead)s") -> str:
    return _TOUCH.format(touch=touch, lead=lead)


_INSERT = (
    "WITH ins AS (INSERT INTO activities (id, tenant_id, lead_id, type, description, "
    "attributes, occurred_at, scheduled_for, completed_at, author_user_id, task_id, "
    "listing_id, opportunity_id) VALUES (%(id)s, %(t)s, %(lead)s, %(type)s, "
    "%(description)s, %(attributes)s, %(occurred_at)s, %(scheduled_for)s, "
    "%(completed_at)s, %(author)s, %(task)s, %(listing)s, %(opportunity)s) RETURNING "
    + _COLUMNS + "), "
    "touch AS (" + _touch() + ") SELECT * FROM ins"
)
_INSERT_SYSTEM = (
    "WITH ins AS (INSERT INTO activities (id, tenant_id, lead_id, type, description, "
    "attributes, occurred_at, completed_at, author_user_id, task_id, listing_id, "
    "opportunity_id) "
    "SELECT e.id, %(t)s, %(lead)s, e.type, e.description, e.attributes, " + _NOW + ", "
    + _NOW + ", %(author)s, %(task)s, %(listing)s, %(opportunity)s "
    "FROM unnest(%(ids)s::uuid[], %(types)s::text[], %(descriptions)s::text[], "
    "%(attrs)s::jsonb[]) AS e(id, type, description, attributes) RETURNING id), "
    "touch AS (" + _touch(_NOW) + ") SELECT count(*) FROM ins"
)


_INSERT_ENTRY = (
    "INSERT INTO activities (id, tenant_id, lead_id, type, description, attributes, "
    "occurred_at, completed_at, author_user_id, task_id, listing_id, opportunity_id) "
    "VALUES (%(id)s, %(t)s, %(lead)s, %(type)s, %(description)s, %(attributes)s, " + _NOW
    + ", " + _NOW + ", %(author)s, %(task)s, %(listing)s, %(opportunity)s)"
)


def entry_only_statement(*, tenant_id: uuid.UUID, lead_id: uuid.UUID, type: str,
                         attributes: dict[str, Any], description: str | None,
                         author_user_id: uuid.UUID | None, occurred_at: datetime | None,
                         task_id: uuid.UUID | None = None, listing_id: uuid.UUID | None = None,
                         opportunity_id: uuid.UUID | None = None
                         ) -> tuple[uuid.UUID, raw.Statement]:
    """One completed entry's INSERT alone, for a ``raw.pipeline`` of a caller that updates
    the lead in the same transaction and moves its ``last_activity_at`` with that write
    (the lead's clocks are the caller's: no second UPDATE of the lead)."""
    entry_id = new_id()
    return entry_id, (_INSERT_ENTRY, {
        "id": entry_id, "t": tenant_id, "lead": lead_id, "type": type,
        "description": description, "attributes": raw.jsonb(attributes),
        "touch": occurred_at, "author": author_user_id, "task": task_id,
        "listing": listing_id, "opportunity": opportunity_id})


def _reachable(scope: Readable, alias: str = "a",
               opportunities: bool = True) -> tuple[str, tuple[Any, ...]]:
    """The lead of ``alias`` is live and in ``scope`` (the readable set's own SQL: its
    unqualified columns are the subquery's, the lead's); with ``opportunities``, an entry
    of an opportunity without a lead is reachable when its opportunity is (the
    opportunities' visibility, :class:`leadbase.opportunities.repository.OppScope`)."""
    where, params = scope.sql()
    lead = (f"EXISTS (SELECT 1 FROM leads WHERE leads.id = {alias}.lead_id AND "
            f"leads.deleted_at IS NULL AND {where})")
    if not opportunities:
        return lead, params
    opp_where, opp_params = OppScope(scope).sql("o")
    return (f"({lead} OR ({alias}.lead_id IS NULL AND EXISTS (SELECT 1 FROM opportunities "
            f"o WHERE o.id = {alias}.opportunity_id AND o.deleted_at IS NULL AND "
            f"{opp_where})))"), (*params, *opp_params)


async def readable_leads(session: AsyncSession, *, scope: Readable,
                         lead_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``lead_ids`` are live leads in ``scope``."""
    if not lead_ids:
        return set()
    where, params = scope.sql()
    rows = await raw.fetch_all(session, f"SELECT id FROM leads WHERE id = ANY(%s) AND "
                                        f"{where} AND deleted_at IS NULL",
                               (lead_ids, *params))
    return {r["id"] for r in rows}


async def lead_reachable(session: AsyncSession, *, scope: Readable,
                         lead_id: uuid.UUID) -> bool:
    where, params = scope.sql()
    row = await raw.fetch_row(session, f"SELECT 1 FROM leads WHERE id = %s AND {where} "
                                       "AND deleted_at IS NULL", (lead_id, *params))
    return row is not None


async def references_exist(session: AsyncSession, *, tenant_id: uuid.UUID,
                           lead_id: uuid.UUID, task_id: uuid.UUID | None,
                           listing_id: uuid.UUID | None) -> tuple[bool, bool]:
    """Whether the task (of this lead) and the listing exist (True when not given)."""
    row = await raw.fetch_row(session, (
        "SELECT %(task)s::uuid IS NULL OR EXISTS (SELECT 1 FROM tasks WHERE tenant_id = %(t)s "
        "AND id = %(task)s AND lead_id = %(lead)s AND deleted_at IS NULL), "
        "%(listing)s::uuid IS NULL OR EXISTS (SELECT 1 FROM listings WHERE tenant_id = %(t)s "
        "AND id = %(listing)s AND deleted_at IS NULL)"),
        {"t": tenant_id, "lead": lead_id, "task": task_id, "listing": listing_id})
    assert row is not None
    return bool(row[0]), bool(row[1])


async def insert(session: AsyncSession, *, tenant_id: uuid.UUID, values: dict[str, Any],
                 touch: datetime, contact: datetime | None) -> dict[str, Any]:
    """One activity; its lead's clocks move to ``touch`` (and ``contact``)."""
    row = await raw.fetch_one(session, _INSERT, {
        "id": new_id(), "t": tenant_id, "lead": values["lead_id"], "type": values["type"],
        "description": values.get("description"),
        "attributes": raw.jsonb(values.get("attributes") or {}),
        "occurred_at": values["occurred_at"], "scheduled_for": values.get("scheduled_for"),
        "completed_at": values.get("completed_at"), "author": values.get("author_user_id"),
        "task": values.get("task_id"), "listing": values.get("listing_id"),
        "opportunity": values.get("opportunity_id"), "touch": touch, "contact": contact})
    assert row is not None
    return row


async def insert_system(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                        entries: list[tuple[str, dict[str, Any], str | None]],
                        author_user_id: uuid.UUID | None, occurred_at: datetime | None,
                        task_id: uuid.UUID | None = None,
                        listing_id: uuid.UUID | None = None,
                        opportunity_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Completed system entries ``(type, attributes, description)`` of one lead, in one
    statement with the lead's ``last_activity_at`` (``occurred_at`` None: the
    transaction's time)."""
    ids = [new_id() for _ in entries]
    await raw.execute(session, *system_statement(
        tenant_id=tenant_id, lead_id=lead_id, ids=ids, entries=entries,
        author_user_id=author_user_id, occurred_at=occurred_at, task_id=task_id,
        listing_id=listing_id, opportunity_id=opportunity_id))
    return ids


def system_statement(*, tenant_id: uuid.UUID, lead_id: uuid.UUID, ids: list[uuid.UUID],
                     entries: list[tuple[str, dict[str, Any], str | None]],
                     author_user_id: uuid.UUID | None, occurred_at: datetime | None,
                     task_id: uuid.UUID | None = None,
                     listing_id: uuid.UUID | None = None,
                     opportunity_id: uuid.UUID | None = None) -> raw.Statement:
    """:func:`insert_system` as a statement, to send in a round trip with others."""
    return _INSERT_SYSTEM, {
        "t": tenant_id, "lead": lead_id, "ids": ids, "types": [e[0] for e in entries],
        "descriptions": [e[2] for e in entries],
        "attrs": [raw.jsonb(e[1]) for e in entries], "author": author_user_id,
        "task": task_id, "listing": listing_id, "opportunity": opportunity_id,
        "touch": occurred_at, "contact": None}


_INSERT_SYSTEM_MANY = (
    "WITH e AS (SELECT * FROM unnest(%(ids)s::uuid[], %(leads)s::uuid[], %(types)s::text[], "
    "%(descriptions)s::text[], %(attrs)s::jsonb[]) AS e(id, lead_id, type, description, "
    "attributes)), ins AS (INSERT INTO activities (id, tenant_id, lead_id, type, description, "
    "attributes, occurred_at, completed_at, author_user_id) SELECT e.id, %(t)s, e.lead_id, "
    "e.type, e.description, e.attributes, now(), now(), %(author)s FROM e RETURNING id), "
    "touch AS (UPDATE leads SET last_activity_at = now() WHERE tenant_id = %(t)s "
    "AND id IN (SELECT lead_id FROM e) AND (last_activity_at IS NULL "
    "OR last_activity_at < now())) SELECT count(*) FROM ins"
)


async def insert_system_many(session: AsyncSession, *, tenant_id: uuid.UUID,
                             entries: list[tuple[uuid.UUID, str, dict[str, Any], str | None]],
                             author_user_id: uuid.UUID | None) -> None:
    """Completed system entries ``(lead_id, type, attributes, description)`` of many
    leads in one statement, with each lead's ``last_activity_at`` (a batch of
    assignments)."""
    if not entries:
        return
    await raw.execute(session, _INSERT_SYSTEM_MANY, {
        "t": tenant_id, "ids": [new_id() for _ in entries], "leads": [e[0] for e in entries],
        "types": [e[1] for e in entries], "descriptions": [e[3] for e in entries],
        "attrs": [raw.jsonb(e[2]) for e in entries], "author": author_user_id})


async def insert_completed(
    session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID, type: str,
    attributes: dict[str, Any], description: str | None, author_user_id: uuid.UUID | None,
    occurred_at: datetime | None = None, task_id: uuid.UUID | None = None,
    listing_id: uuid.UUID | None = None, opportunity_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """One completed entry, and the lead's ``last_activity_at``."""
    (activity_id,) = await insert_system(
        session, tenant_id=tenant_id, lead_id=lead_id,
        entries=[(type, attributes, description)], author_user_id=author_user_id,
        occurred_at=occurred_at, task_id=task_id,
        listing_id=listing_id, opportunity_id=opportunity_id)
    return activity_id


async def get(session: AsyncSession, *, scope: Readable, activity_id: uuid.UUID,
              for_update: bool = False) -> dict[str, Any] | None:
    reach, params = _reachable(scope)
    sql = (f"SELECT {_A_COLUMNS} FROM activities a WHERE a.tenant_id = %s AND a.id = %s "
           f"AND a.deleted_at IS NULL AND {reach}" + (" FOR UPDATE OF a" if for_update else ""))
    return await raw.fetch_one(session, sql, (scope.tenant_id, activity_id, *params))


async def update(session: AsyncSession, *, tenant_id: uuid.UUID, activity_id: uuid.UUID,
                 values: dict[str, Any], touch: datetime | None,
                 contact: datetime | None) -> dict[str, Any]:
    """Set ``values`` (columns), bump the version; move the lead's clocks."""
    sets = ", ".join(f"{k} = %({k})s" for k in values)
    params: dict[str, Any] = {k: raw.jsonb(v) if k == "attributes" else v
                              for k, v in values.items()}
    params.update({"t": tenant_id, "aid": activity_id, "touch": touch, "contact": contact})
    touching = touch is not None or contact is not None
    sql = (f"WITH upd AS (UPDATE activities SET {sets}, updated_at = now(), "
           "version = version + 1 WHERE tenant_id = %(t)s AND id = %(aid)s "
           f"RETURNING {_COLUMNS})"
           + (", touch AS (" + _touch(lead="(SELECT lead_id FROM upd)") + ")"
              if touching else "") + " SELECT * FROM upd")
    row = await raw.fetch_one(session, sql, params)
    assert row is not None
    return row


async def soft_delete(session: AsyncSession, *, tenant_id: uuid.UUID,
                      activity_id: uuid.UUID) -> None:
    await raw.execute(session, "UPDATE activities SET deleted_at = now(), updated_at = now(), "
                               "version = version + 1 WHERE tenant_id = %s AND id = %s",
                      (tenant_id, activity_id))


def _filters(scope: Readable, f: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The conditions of ``f``. ``f["opportunity_scope"]`` (an ``OppScope``): the
    activities of the opportunities it reaches (``f["opportunity_id"]``: of that one,
    which the caller has read), instead of the leads' readable set."""
    reach, reach_params = _reachable(scope)
    if f.get("opportunity_id"):
        reach, reach_params = "true", ()
    elif f.get("opportunity_scope") is not None:
        opp_where, reach_params = f["opportunity_scope"].sql("o")
        reach = ("EXISTS (SELECT 1 FROM opportunities o WHERE o.id = a.opportunity_id AND "
                 f"o.deleted_at IS NULL AND {opp_where})")
    conds = ["a.tenant_id = %(t)s", "a.deleted_at IS NULL"]
    params: dict[str, Any] = {"t": scope.tenant_id}
    if f.get("opportunity_id"):
        conds.append("a.opportunity_id = %(opp)s")
        params["opp"] = f["opportunity_id"]
    elif f.get("opportunity_scope") is not None:
        conds.append("a.opportunity_id IS NOT NULL")
    if f.get("types"):
        conds.append("a.type = ANY(%(types)s)")
        params["types"] = f["types"]
    if f.get("lead_id"):
        conds.append("a.lead_id = %(lead)s")
        params["lead"] = f["lead_id"]
    if f.get("author_id"):
        conds.append("a.author_user_id = %(author)s")
        params["author"] = f["author_id"]
    if f.get("state") == "scheduled":
        conds.append("a.completed_at IS NULL")
    elif f.get("state") == "completed":
        conds.append("a.completed_at IS NOT NULL")
    if f.get("start") is not None:
        conds.append("a.occurred_at >= %(start)s")
        params["start"] = f["start"]
    if f.get("end") is not None:
        conds.append("a.occurred_at < %(end)s")
        params["end"] = f["end"]
    # The readable set's parameters are positional in its SQL: name them.
    for i, value in enumerate(reach_params):
        reach = reach.replace("%s", f"%(r{i})s", 1)
        params[f"r{i}"] = value
    conds.append(reach)
    return conds, params


async def list_page(session: AsyncSession, *, scope: Readable, f: dict[str, Any],
                    after: list[Any] | None, limit: int) -> list[dict[str, Any]]:
    """Newest first (``occurred_at``, ``id``), after the keyset ``after``."""
    conds, params = _filters(scope, f)
    if after is not None:
        conds.append("(a.occurred_at, a.id) < (%(at)s, %(aid)s)")
        params.update(at=after[0], aid=after[1])
    params["n"] = limit
    sql = (f"SELECT {_A_COLUMNS} FROM activities a WHERE {' AND '.join(conds)} "
           "ORDER BY a.occurred_at DESC, a.id DESC LIMIT %(n)s")
    return await raw.fetch_all(session, sql, params)


async def upcoming_page(session: AsyncSession, *, scope: Readable, user_id: uuid.UUID | None,
                        until: datetime | None, after: list[Any] | None,
                        limit: int, opportunity_scope: OppScope | None = None
                        ) -> list[dict[str, Any]]:
    """Scheduled, open activities of ``user_id`` (the author; None: anyone's), soonest
    first (overdue ones first of all); with ``opportunity_scope`` those of the
    opportunities it reaches."""
    conds, params = _filters(scope, {"author_id": user_id, "state": "scheduled",
                                     "opportunity_scope": opportunity_scope})
    conds.append("a.scheduled_for IS NOT NULL")
    if until is not None:
        conds.append("a.scheduled_for <= %(until)s")
        params["until"] = until
    if after is not None:
        conds.append("(a.scheduled_for, a.id) > (%(at)s, %(aid)s)")
        params.update(at=after[0], aid=after[1])
    params["n"] = limit
    sql = (f"SELECT {_A_COLUMNS} FROM activities a WHERE {' AND '.join(conds)} "
           "ORDER BY a.scheduled_for, a.id LIMIT %(n)s")
    return await raw.fetch_all(session, sql, params)


async def counts_by_type(session: AsyncSession, *, scope: Readable, user_id: uuid.UUID,
                         start: datetime, end: datetime) -> dict[str, int]:
    """Completed user activities of ``user_id`` that occurred in [start, end)."""
    conds, params = _filters(scope, {"author_id": user_id, "state": "completed",
                                     "start": start, "end": end})
    conds.append("a.type <> ALL(%(system)s)")
    params["system"] = _SYSTEM
    rows = await raw.fetch_all(session, "SELECT a.type, count(*) AS n FROM activities a "
                                        f"WHERE {' AND '.join(conds)} GROUP BY a.type", params)
    return {r["type"]: int(r["n"]) for r in rows}


async def task_counts(session: AsyncSession, *, scope: Readable, user_id: uuid.UUID,
                      start: datetime, end: datetime) -> tuple[int, int]:
    """Tasks assigned to ``user_id``: completed in [start, end), and open now with a due
    date before ``end`` (overdue included) or none (the tasks table, plain SQL)."""
    reach, reach_params = _reachable(scope, "k", opportunities=False)
    row = await raw.fetch_row(session, (
        "SELECT count(*) FILTER (WHERE k.status = 'completed' AND k.completed_at >= %s "
        "AND k.completed_at < %s), count(*) FILTER (WHERE k.status = 'open' AND "
        "(k.due_at IS NULL OR k.due_at < %s)) FROM tasks k WHERE k.tenant_id = %s AND "
        f"k.assignee_id = %s AND k.deleted_at IS NULL AND {reach}"),
        (start, end, end, scope.tenant_id, user_id, *reach_params))
    assert row is not None
    return int(row[0]), int(row[1])


# The timeline: a keyset merge of two ordered index scans, each stopping at the page's
# size, then ordered together. Activities: ix_activities_tenant_lead_time; the lead's
# audited changes: ix_audit_tenant_entity (tenant_id, entity_type, entity_id,
# created_at DESC, id DESC). Ids are UUIDv7 in both tables, so (at, id) orders them.
_TIMELINE_ACTIVITIES = (
    "(SELECT 'activity' AS entry, a.id, a.type, a.occurred_at AS at, a.description, "
    "a.attributes, a.author_user_id AS actor_user_id, NULL::uuid AS actor_api_key_id, "
    "a.scheduled_for, a.completed_at, a.task_id, a.listing_id FROM activities a "
    "WHERE a.tenant_id = %(t)s AND a.lead_id = %(lead)s AND a.deleted_at IS NULL{types}"
    "{after} ORDER BY a.occurred_at DESC, a.id DESC LIMIT %(n)s)"
)
_TIMELINE_CHANGES = (
    "(SELECT 'change' AS entry, e.id, 'change' AS type, e.created_at AS at, "
    "NULL::text AS description, jsonb_build_object('action', e.action) || e.changes "
    "AS attributes, e.actor_user_id, e.actor_api_key_id, NULL::timestamptz AS "
    "scheduled_for, NULL::timestamptz AS completed_at, NULL::uuid AS task_id, "
    "NULL::uuid AS listing_id FROM audit_entries e WHERE e.tenant_id = %(t)s AND "
    "e.entity_type = 'lead' AND e.entity_id = %(lead)s{after} "
    "ORDER BY e.created_at DESC, e.id DESC LIMIT %(n)s)"
)


def timeline_sql(*, activity_types: list[str] | None, changes: bool,
                 after: bool) -> str:
    """The page statement: ``activity_types`` None = every type, [] = no activity;
    ``changes``: the audited changes too; ``after``: a keyset position is given."""
    parts = []
    if activity_types != []:
        parts.append(_TIMELINE_ACTIVITIES.format(
            types=" AND a.type = ANY(%(types)s)" if activity_types else "",
            after=" AND (a.occurred_at, a.id) < (%(at)s, %(aid)s)" if after else ""))
    if changes:
        parts.append(_TIMELINE_CHANGES.format(
            after=" AND (e.created_at, e.id) < (%(at)s, %(aid)s)" if after else ""))
    if len(parts) == 1:
        return parts[0][1:-1]
    return f"SELECT * FROM ({' UNION ALL '.join(parts)}) AS t ORDER BY at DESC, id DESC " \
           "LIMIT %(n)s"


async def timeline_page(session: AsyncSession, *, scope: Readable, lead_id: uuid.UUID,
                        activity_types: list[str] | None, changes: bool,
                        after: list[Any] | None,
                        limit: int) -> list[dict[str, Any]] | None:
    """A page of the lead's timeline, newest first; None when the lead is not reachable.
    The lead check and the page go in one round trip."""
    where, scope_params = scope.sql()
    check = (f"SELECT 1 FROM leads WHERE id = %s AND {where} AND deleted_at IS NULL",
             (lead_id, *scope_params))
    params: dict[str, Any] = {"t": scope.tenant_id, "lead": lead_id, "n": limit,
                              "types": activity_types}
    if after is not None:
        params.update(at=after[0], aid=after[1])
    if activity_types == [] and not changes:
        return [] if await lead_reachable(session, scope=scope, lead_id=lead_id) else None
    sql = timeline_sql(activity_types=activity_types, changes=changes,
                       after=after is not None)
    conn = await raw.connection(session)
    async with conn.pipeline():
        found = conn.cursor()
        await found.execute(check[0].encode(), check[1])
        page = conn.cursor(row_factory=dict_row)
        await page.execute(sql.encode(), params)
    if await found.fetchone() is None:
        return None
    return await page.fetchall()
