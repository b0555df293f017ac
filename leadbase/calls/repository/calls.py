"""SQL for calls and their provider events: reads within the readable set, the history
(keyset), the webhook route lookup, event storage and the forward-only status update."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.calls.repository import lead_scope
from leadbase.db import raw
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable, escape_like

CALL_COLUMNS = (
    "c.id, c.number, c.provider, c.external_id, c.lead_id, c.agent_id, c.dial_task_id, "
    "c.status, c.outcome, c.attempt, c.to_number, c.callee_timezone, c.duration_seconds, "
    "c.transcript, c.summary, c.recording_url, c.cost, c.error, c.queued_at, c.placed_at, "
    "c.started_at, c.ended_at, c.completed_at, c.activity_id, c.created_at, c.updated_at, "
    "nullif(concat_ws(' ', l.first_name, l.last_name), '') AS lead_name, a.name AS agent_name")
_FROM = ("FROM calls c JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id "
         "JOIN call_agents a ON a.tenant_id = c.tenant_id AND a.id = c.agent_id")


async def get_call(session: AsyncSession, *, scope: Readable, call_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any] | None:
    cond, params = lead_scope(scope)
    return await raw.fetch_one(
        session, f"SELECT {CALL_COLUMNS} {_FROM} WHERE c.tenant_id = %(t)s AND c.id = %(id)s "
        f"AND {cond}" + (" FOR UPDATE OF c" if for_update else ""), {**params, "id": call_id})


def history_where(scope: Readable, f: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    cond, params = lead_scope(scope)
    where = ["c.tenant_id = %(t)s", cond]
    for key, column in (("agent_ids", "c.agent_id"), ("outcomes", "c.outcome"),
                        ("statuses", "c.status")):
        if f.get(key):
            where.append(f"{column} = ANY(%({key})s)")
            params[key] = list(f[key])
    if f.get("lead_id") is not None:
        where.append("c.lead_id = %(lead)s")
        params["lead"] = f["lead_id"]
    if f.get("start") is not None:
        where.append("c.created_at >= %(start)s")
        params["start"] = f["start"]
    if f.get("end") is not None:
        where.append("c.created_at < %(end)s")
        params["end"] = f["end"]
    if f.get("q"):
        # The lead's name or phone (its trigram-indexed search text) or the agent's name.
        where.append("(l.search_text LIKE lower(lb_unaccent(%(q)s)) OR c.to_number LIKE "
                     "%(q)s OR lower(a.name) LIKE lower(%(q)s))")
        params["q"] = "%" + escape_like(f["q"]) + "%"
    return where, params


async def list_calls(session: AsyncSession, *, scope: Readable, f: dict[str, Any],
                     limit: int, after: list[Any] | None,
                     offset: int = 0) -> list[dict[str, Any]]:
    where, params = history_where(scope, f)
    if after is not None:
        where.append("(c.created_at, c.id) < (%(ac)s, %(ai)s)")
        params.update(ac=after[0], ai=after[1])
    params.update(limit=limit, offset=offset)
    return await raw.fetch_all(
        session, f"SELECT {CALL_COLUMNS} {_FROM} WHERE {' AND '.join(where)} "
        "ORDER BY c.created_at DESC, c.id DESC LIMIT %(limit)s OFFSET %(offset)s", params)


async def count_calls(session: AsyncSession, *, scope: Readable, f: dict[str, Any],
                      cap: int) -> int:
    where, params = history_where(scope, f)
    params["cap"] = cap + 1
    row = await raw.fetch_row(
        session, f"SELECT count(*) FROM (SELECT 1 {_FROM} WHERE {' AND '.join(where)} "
        "LIMIT %(cap)s) x", params)
    return int(row[0]) if row else 0


# ------------------------------------------------------------------ placing

async def call_to_place(session: AsyncSession, *, tenant_id: uuid.UUID,
                        call_id: uuid.UUID) -> dict[str, Any] | None:
    """A queued call, its agent's provider settings and its lead, locked; marks it as
    being placed (``placed_at``) so a second run of the job never places it again."""
    return await raw.fetch_one(
        session, "WITH c AS (SELECT c.* FROM calls c WHERE c.tenant_id = %(t)s AND "
        "c.id = %(id)s AND c.status = 'queued' AND c.placed_at IS NULL FOR UPDATE), "
        "m AS (UPDATE calls SET placed_at = now(), updated_at = now() FROM c "
        "WHERE calls.tenant_id = %(t)s AND calls.id = c.id) "
        "SELECT c.id, c.to_number, c.lead_id, c.agent_id, c.provider, c.dial_task_id, "
        "c.callee_timezone, a.settings, a.secrets, a.webhook_secret, a.business_hours, "
        "a.timezone AS agent_timezone, nullif(concat_ws(' ', l.first_name, l.last_name), '') AS "
        "lead_name, l.first_name FROM c JOIN call_agents a ON a.tenant_id = c.tenant_id "
        "AND a.id = c.agent_id JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id",
        {"t": tenant_id, "id": call_id})


async def set_external_id(session: AsyncSession, *, tenant_id: uuid.UUID,
                          call_id: uuid.UUID, external_id: str) -> None:
    await raw.execute(
        session, "UPDATE calls SET external_id = %(e)s, updated_at = now() "
        "WHERE tenant_id = %(t)s AND id = %(id)s AND external_id IS NULL",
        {"t": tenant_id, "id": call_id, "e": external_id})


# ------------------------------------------------------------------ webhooks and events

async def route(session: AsyncSession, *, provider: str, call_id: uuid.UUID | None,
                external_id: str | None) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID] | None:
    """(tenant_id, call_id, agent_id) of a provider's call, across workspaces (the one
    SECURITY DEFINER lookup of migration 0026)."""
    row = await raw.fetch_row(session, "SELECT * FROM lb_voice_call_route(%s, %s, %s)",
                              (provider, call_id, external_id))
    return (row[0], row[1], row[2]) if row else None


async def webhook_secret(session: AsyncSession, *, tenant_id: uuid.UUID,
                         agent_id: uuid.UUID) -> str | None:
    row = await raw.fetch_row(
        session, "SELECT webhook_secret FROM call_agents WHERE tenant_id = %s AND id = %s",
        (tenant_id, agent_id))
    return row[0] if row else None


async def insert_event(session: AsyncSession, *, tenant_id: uuid.UUID, call_id: uuid.UUID,
                       provider: str, event_key: str, status: str, occurred_at: datetime,
                       payload: dict[str, Any]) -> bool:
    """Store an event once (its key is unique per workspace and provider): whether it
    is new."""
    row = await raw.fetch_row(
        session, "INSERT INTO call_events (id, tenant_id, call_id, provider, event_key, "
        "status, occurred_at, payload) VALUES (%(id)s, %(t)s, %(c)s, %(p)s, %(k)s, %(s)s, "
        "%(o)s, %(payload)s) ON CONFLICT (tenant_id, provider, event_key) DO NOTHING "
        "RETURNING id", {"id": new_id(), "t": tenant_id, "c": call_id, "p": provider,
                         "k": event_key[:200], "s": status, "o": occurred_at,
                         "payload": raw.jsonb(payload)})
    return row is not None


async def pending_events(session: AsyncSession, *, tenant_id: uuid.UUID,
                         call_id: uuid.UUID) -> list[dict[str, Any]]:
    return await raw.fetch_all(
        session, "SELECT id, status, occurred_at, payload FROM call_events WHERE "
        "tenant_id = %(t)s AND call_id = %(c)s AND processed_at IS NULL "
        "ORDER BY occurred_at, received_at FOR UPDATE SKIP LOCKED",
        {"t": tenant_id, "c": call_id})


async def mark_processed(session: AsyncSession, *, tenant_id: uuid.UUID,
                         ids: list[uuid.UUID]) -> None:
    if ids:
        await raw.execute(session, "UPDATE call_events SET processed_at = now() WHERE "
                          "tenant_id = %(t)s AND id = ANY(%(ids)s)", {"t": tenant_id, "ids": ids})


async def lock_call(session: AsyncSession, *, tenant_id: uuid.UUID,
                    call_id: uuid.UUID) -> dict[str, Any] | None:
    return await raw.fetch_one(
        session, "SELECT c.*, a.max_attempts, a.retry_delay_minutes, a.retry_delays, "
        "a.name AS agent_name FROM calls c JOIN call_agents a ON a.tenant_id = c.tenant_id "
        "AND a.id = c.agent_id WHERE c.tenant_id = %(t)s AND c.id = %(id)s FOR UPDATE OF c",
        {"t": tenant_id, "id": call_id})


CALL_FIELDS = ("status", "outcome", "duration_seconds", "transcript", "summary",
               "recording_url", "cost", "error", "started_at", "ended_at", "completed_at",
               "activity_id", "external_id")


async def update_call(session: AsyncSession, *, tenant_id: uuid.UUID, call_id: uuid.UUID,
                      values: dict[str, Any]) -> None:
    keys = [k for k in CALL_FIELDS if k in values]
    if not keys:
        return
    sets = "".join(f"{k} = %({k})s, " for k in keys)
    await raw.execute(session, f"UPDATE calls SET {sets}updated_at = now() WHERE "
                      "tenant_id = %(t)s AND id = %(id)s",
                      {"t": tenant_id, "id": call_id, **{k: values[k] for k in keys}})


async def stale_calls(session: AsyncSession, *, tenant_id: uuid.UUID, before: datetime,
                      limit: int) -> list[dict[str, Any]]:
    """Calls without a final status queued before ``before`` (reconciliation)."""
    return await raw.fetch_all(
        session, "SELECT c.id, c.provider, c.external_id, a.settings, a.secrets, "
        "a.webhook_secret "
        "FROM calls c JOIN call_agents a ON a.tenant_id = c.tenant_id AND a.id = c.agent_id "
        "WHERE c.tenant_id = %(t)s AND c.status NOT IN ('completed', 'failed') "
        "AND c.queued_at < %(before)s ORDER BY c.queued_at LIMIT %(limit)s",
        {"t": tenant_id, "before": before, "limit": limit})


async def unplace(session: AsyncSession, *, tenant_id: uuid.UUID, call_id: uuid.UUID,
                  task_id: uuid.UUID | None, next_at: datetime) -> None:
    """A call the law stopped between the claim and the dial: it never happened (its row
    goes), and its task is due again at ``next_at`` without the attempt."""
    await raw.execute(
        session, "WITH d AS (DELETE FROM calls WHERE tenant_id = %(t)s AND id = %(id)s) "
        "UPDATE dial_tasks SET active_call_id = NULL, attempts = greatest(attempts - 1, 0), "
        "next_attempt_at = %(at)s, status = CASE WHEN attempts <= 1 THEN 'new' ELSE status "
        "END, updated_at = now() WHERE tenant_id = %(t)s AND id = %(task)s "
        "AND active_call_id = %(id)s", {"t": tenant_id, "id": call_id, "task": task_id,
                                        "at": next_at})
