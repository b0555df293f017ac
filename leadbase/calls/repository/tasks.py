"""SQL for dial tasks: enqueueing (one, many, a set of leads as one INSERT ... SELECT),
reads within the readable set, and the scheduler's claim (``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.calls.repository import lead_scope
from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable
from leadbase.leads.repository import T as LEADS
from leadbase.models import DialTask

D = table_of(DialTask)

TASK_COLUMNS = ("t.id, t.number, t.agent_id, t.lead_id, t.status, t.disposition, t.attempts, "
                "a.max_attempts, t.next_attempt_at, t.last_outcome, t.last_attempt_at, "
                "t.active_call_id, t.source, t.created_at, t.updated_at, t.version, "
                "nullif(concat_ws(' ', l.first_name, l.last_name), '') AS lead_name, "
                "l.phone AS lead_phone")
_FROM = ("FROM dial_tasks t JOIN call_agents a ON a.tenant_id = t.tenant_id AND a.id = "
         "t.agent_id JOIN leads l ON l.tenant_id = t.tenant_id AND l.id = t.lead_id")


async def insert_task(session: AsyncSession, *, tenant_id: uuid.UUID, agent_id: uuid.UUID,
                      lead_id: uuid.UUID, due_at: datetime | None,
                      source: str) -> uuid.UUID | None:
    """A new task; None when the lead is already queued for the agent."""
    row = await raw.fetch_row(
        session, "INSERT INTO dial_tasks (id, tenant_id, agent_id, lead_id, next_attempt_at, "
        "source) VALUES (%(id)s, %(t)s, %(a)s, %(l)s, coalesce(%(due)s, now()), %(s)s) "
        "ON CONFLICT (tenant_id, agent_id, lead_id) WHERE deleted_at IS NULL DO NOTHING "
        "RETURNING id", {"id": new_id(), "t": tenant_id, "a": agent_id, "l": lead_id,
                         "due": due_at, "s": source})
    return row[0] if row else None


async def insert_from_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                            agent_id: uuid.UUID, conditions: list[ColumnElement[bool]],
                            due_at: datetime | None, source: str) -> int:
    """One task per live lead with a phone matching ``conditions`` (on ``leads``), in one
    INSERT ... SELECT; leads already queued for the agent are left. How many were added."""
    rows = select(func.lb_uuid7(), LEADS.c.tenant_id, literal(agent_id), LEADS.c.id,
                  func.coalesce(literal(due_at, D.c.next_attempt_at.type), func.now()),
                  literal(source)).where(
        *conditions, LEADS.c.tenant_id == tenant_id, LEADS.c.deleted_at.is_(None),
        LEADS.c.phone.is_not(None))
    stmt = insert(D).from_select(
        ["id", "tenant_id", "agent_id", "lead_id", "next_attempt_at", "source"], rows
    ).on_conflict_do_nothing(index_elements=["tenant_id", "agent_id", "lead_id"],
                             index_where=text("deleted_at IS NULL")).returning(D.c.id)
    result = await session.execute(stmt)
    return len(result.fetchall())


def _filters(scope: Readable, f: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    cond, params = lead_scope(scope)
    where = ["t.tenant_id = %(t)s", "t.deleted_at IS NULL", cond]
    for key, column in (("agent_ids", "t.agent_id"), ("statuses", "t.status"),
                        ("dispositions", "t.disposition"), ("lead_ids", "t.lead_id")):
        if f.get(key):
            where.append(f"{column} = ANY(%({key})s)")
            params[key] = list(f[key])
    if f.get("due_before") is not None:
        where.append("t.next_attempt_at < %(due_before)s")
        params["due_before"] = f["due_before"]
    return where, params


async def list_tasks(session: AsyncSession, *, scope: Readable, f: dict[str, Any],
                     limit: int, after: list[Any] | None) -> list[dict[str, Any]]:
    where, params = _filters(scope, f)
    if after is not None:
        where.append("(t.created_at, t.id) < (%(ac)s, %(ai)s)")
        params.update(ac=after[0], ai=after[1])
    params["limit"] = limit
    return await raw.fetch_all(
        session, f"SELECT {TASK_COLUMNS} {_FROM} WHERE {' AND '.join(where)} "
        "ORDER BY t.created_at DESC, t.id DESC LIMIT %(limit)s", params)


async def get_task(session: AsyncSession, *, scope: Readable, task_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any] | None:
    cond, params = lead_scope(scope)
    return await raw.fetch_one(
        session, f"SELECT {TASK_COLUMNS} {_FROM} WHERE t.tenant_id = %(t)s AND t.id = %(id)s "
        f"AND t.deleted_at IS NULL AND {cond}" + (" FOR UPDATE OF t" if for_update else ""),
        {**params, "id": task_id})


async def update_task(session: AsyncSession, *, tenant_id: uuid.UUID, task_id: uuid.UUID,
                      values: dict[str, Any]) -> None:
    sets = "".join(f"{k} = %({k})s, " for k in values)
    await raw.execute(
        session, f"UPDATE dial_tasks SET {sets}updated_at = now(), version = version + 1 "
        "WHERE tenant_id = %(t)s AND id = %(id)s", {"t": tenant_id, "id": task_id, **values})


async def soft_delete_task(session: AsyncSession, *, tenant_id: uuid.UUID,
                           task_id: uuid.UUID) -> None:
    await raw.execute(
        session, "UPDATE dial_tasks SET deleted_at = now(), updated_at = now(), version = "
        "version + 1 WHERE tenant_id = %(t)s AND id = %(id)s", {"t": tenant_id, "id": task_id})


# ------------------------------------------------------------------ the scheduler's claim

# Active agents not being ticked by another worker, with their calls in flight.
LOCK_AGENTS = (
    "SELECT a.id, a.provider, a.timezone, a.business_hours, a.max_concurrent_calls, "
    "(SELECT count(*) FROM calls c WHERE c.tenant_id = a.tenant_id AND c.agent_id = a.id "
    "AND c.status NOT IN ('completed', 'failed')) AS in_flight "
    "FROM call_agents a WHERE a.tenant_id = %(t)s AND a.deleted_at IS NULL AND a.active "
    "{only} ORDER BY a.id FOR UPDATE OF a SKIP LOCKED")

# Due tasks of one agent, oldest first, each with what the law needs to know.
CLAIM = (
    "SELECT t.id, t.lead_id, t.attempts, l.phone, l.timezone AS lead_timezone, "
    "l.do_not_contact, l.deleted_at IS NOT NULL AS lead_gone, "
    "nullif(concat_ws(' ', l.first_name, l.last_name), '') AS lead_name, "
    "EXISTS (SELECT 1 FROM dnc_numbers d WHERE d.tenant_id = t.tenant_id "
    "AND d.phone = l.phone) AS on_dnc "
    "FROM dial_tasks t JOIN leads l ON l.tenant_id = t.tenant_id AND l.id = t.lead_id "
    "WHERE t.tenant_id = %(t)s AND t.agent_id = %(a)s AND t.status <> 'done' "
    "AND t.deleted_at IS NULL AND t.active_call_id IS NULL AND t.next_attempt_at <= %(now)s "
    "{only} ORDER BY t.next_attempt_at, t.id LIMIT %(limit)s FOR UPDATE OF t SKIP LOCKED")


async def lock_agents(session: AsyncSession, *, tenant_id: uuid.UUID,
                      agent_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    only = "AND a.id = %(a)s" if agent_id else ""
    return await raw.fetch_all(session, LOCK_AGENTS.format(only=only),
                               {"t": tenant_id, "a": agent_id})


async def claim_due(session: AsyncSession, *, tenant_id: uuid.UUID, agent_id: uuid.UUID,
                    now: datetime, limit: int,
                    task_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    only = "AND t.id = %(task)s" if task_id else ""
    return await raw.fetch_all(session, CLAIM.format(only=only), {
        "t": tenant_id, "a": agent_id, "now": now, "limit": limit, "task": task_id})


async def move_tasks(session: AsyncSession, *, tenant_id: uuid.UUID, ids: list[uuid.UUID],
                     times: list[datetime]) -> None:
    """Tasks outside the law's window, to their next allowed minute."""
    if ids:
        await raw.execute(
            session, "UPDATE dial_tasks t SET next_attempt_at = m.at, updated_at = now() "
            "FROM unnest(%(ids)s::uuid[], %(at)s::timestamptz[]) AS m(id, at) "
            "WHERE t.tenant_id = %(t)s AND t.id = m.id", {"t": tenant_id, "ids": ids,
                                                          "at": times})


async def close_tasks(session: AsyncSession, *, tenant_id: uuid.UUID, ids: list[uuid.UUID],
                      disposition: str, outcome: str) -> None:
    """Tasks that may never be called (do not call, no phone, lead gone): done."""
    if ids:
        await raw.execute(
            session, "UPDATE dial_tasks SET status = 'done', disposition = %(d)s, "
            "last_outcome = %(o)s, updated_at = now(), version = version + 1 "
            "WHERE tenant_id = %(t)s AND id = ANY(%(ids)s)",
            {"t": tenant_id, "ids": ids, "d": disposition, "o": outcome})


async def start_calls(session: AsyncSession, *, tenant_id: uuid.UUID, agent_id: uuid.UUID,
                      provider: str, calls: list[dict[str, Any]]) -> None:
    """One queued call per claimed task (``calls``: id, task_id, lead_id, attempt,
    to_number, callee_timezone), and each task in progress with it, in one statement."""
    if not calls:
        return
    await raw.execute(
        session,
        "WITH c AS (SELECT * FROM unnest(%(ids)s::uuid[], %(tasks)s::uuid[], "
        "%(leads)s::uuid[], %(attempts)s::int[], %(numbers)s::text[], %(zones)s::text[]) "
        "AS c(id, task_id, lead_id, attempt, to_number, zone)), "
        "ins AS (INSERT INTO calls (id, tenant_id, agent_id, lead_id, dial_task_id, provider, "
        "status, attempt, to_number, callee_timezone) SELECT c.id, %(t)s, %(a)s, c.lead_id, "
        "c.task_id, %(p)s, 'queued', c.attempt, c.to_number, c.zone FROM c) "
        "UPDATE dial_tasks t SET status = 'in_progress', attempts = c.attempt, "
        "active_call_id = c.id, last_attempt_at = now(), updated_at = now(), "
        "version = t.version + 1 FROM c WHERE t.tenant_id = %(t)s AND t.id = c.task_id",
        {"t": tenant_id, "a": agent_id, "p": provider,
         "ids": [c["id"] for c in calls], "tasks": [c["task_id"] for c in calls],
         "leads": [c["lead_id"] for c in calls], "attempts": [c["attempt"] for c in calls],
         "numbers": [c["to_number"] for c in calls],
         "zones": [c["callee_timezone"] for c in calls]})
