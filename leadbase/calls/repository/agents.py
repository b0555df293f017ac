"""SQL for voice agents and the do-not-call list."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.kit.ids import new_id

AGENT_COLUMNS = ("id, number, name, provider, settings, secrets, secret_keys, webhook_secret, "
                 "timezone, business_hours, max_attempts, retry_delay_minutes, retry_delays, "
                 "max_concurrent_calls, active, enqueue_on_lead_create, created_at, "
                 "updated_at, deleted_at, version")
_JSON = frozenset({"settings", "secret_keys", "business_hours", "retry_delays"})
WRITABLE = ("name", "provider", "settings", "secrets", "secret_keys", "webhook_secret",
            "timezone", "business_hours", "max_attempts", "retry_delay_minutes",
            "retry_delays", "max_concurrent_calls", "active", "enqueue_on_lead_create")


def _param(key: str, value: Any) -> Any:
    return raw.jsonb(value) if key in _JSON else value


async def insert_agent(session: AsyncSession, *, tenant_id: uuid.UUID,
                       values: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in WRITABLE if k in values]
    row = await raw.fetch_one(
        session,
        f"INSERT INTO call_agents (id, tenant_id, {', '.join(keys)}) VALUES (%(id)s, %(t)s, "
        + ", ".join(f"%({k})s" for k in keys) + f") RETURNING {AGENT_COLUMNS}",
        {"id": new_id(), "t": tenant_id, **{k: _param(k, values[k]) for k in keys}})
    assert row is not None
    return row


async def get_agent(session: AsyncSession, *, tenant_id: uuid.UUID, agent_id: uuid.UUID,
                    for_update: bool = False) -> dict[str, Any] | None:
    return await raw.fetch_one(
        session, f"SELECT {AGENT_COLUMNS} FROM call_agents WHERE tenant_id = %(t)s "
        "AND id = %(id)s AND deleted_at IS NULL" + (" FOR UPDATE" if for_update else ""),
        {"t": tenant_id, "id": agent_id})


async def name_taken(session: AsyncSession, *, tenant_id: uuid.UUID, name: str,
                     other_than: uuid.UUID | None = None) -> bool:
    row = await raw.fetch_row(
        session, "SELECT EXISTS (SELECT 1 FROM call_agents WHERE tenant_id = %(t)s AND "
        "lower(name) = lower(%(n)s) AND deleted_at IS NULL AND id IS DISTINCT FROM %(o)s)",
        {"t": tenant_id, "n": name, "o": other_than})
    return bool(row and row[0])


async def list_agents(session: AsyncSession, *, tenant_id: uuid.UUID, limit: int,
                      after: list[Any] | None, active: bool | None,
                      provider: str | None) -> list[dict[str, Any]]:
    where = ["tenant_id = %(t)s", "deleted_at IS NULL"]
    params: dict[str, Any] = {"t": tenant_id, "limit": limit}
    if after is not None:
        where.append("(created_at, id) < (%(ac)s, %(ai)s)")
        params.update(ac=after[0], ai=after[1])
    if active is not None:
        where.append("active = %(active)s")
        params["active"] = active
    if provider is not None:
        where.append("provider = %(provider)s")
        params["provider"] = provider
    return await raw.fetch_all(
        session, f"SELECT {AGENT_COLUMNS} FROM call_agents WHERE {' AND '.join(where)} "
        "ORDER BY created_at DESC, id DESC LIMIT %(limit)s", params)


async def update_agent(session: AsyncSession, *, tenant_id: uuid.UUID, agent_id: uuid.UUID,
                       values: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in WRITABLE if k in values]
    sets = "".join(f"{k} = %({k})s, " for k in keys)
    row = await raw.fetch_one(
        session, f"UPDATE call_agents SET {sets}updated_at = now(), version = version + 1 "
        f"WHERE tenant_id = %(t)s AND id = %(id)s RETURNING {AGENT_COLUMNS}",
        {"t": tenant_id, "id": agent_id, **{k: _param(k, values[k]) for k in keys}})
    assert row is not None
    return row


async def soft_delete_agent(session: AsyncSession, *, tenant_id: uuid.UUID,
                            agent_id: uuid.UUID) -> None:
    """The agent, and its queued tasks with it (its calls stay in the history)."""
    await raw.execute(
        session, "WITH a AS (UPDATE call_agents SET deleted_at = now(), active = false, "
        "updated_at = now(), version = version + 1 WHERE tenant_id = %(t)s AND id = %(id)s) "
        "UPDATE dial_tasks SET deleted_at = now(), updated_at = now() WHERE tenant_id = %(t)s "
        "AND agent_id = %(id)s AND deleted_at IS NULL AND status <> 'done'",
        {"t": tenant_id, "id": agent_id})


async def agents_on_lead_create(session: AsyncSession, *,
                                tenant_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await raw.fetch_all(
        session, "SELECT id FROM call_agents WHERE tenant_id = %(t)s AND deleted_at IS NULL "
        "AND active AND enqueue_on_lead_create", {"t": tenant_id})
    return [r["id"] for r in rows]


# ------------------------------------------------------------------ do-not-call list

DNC_COLUMNS = "id, phone, reason, created_at"


async def add_dnc(session: AsyncSession, *, tenant_id: uuid.UUID, phone: str,
                  reason: str | None) -> tuple[dict[str, Any], bool]:
    """The entry, and whether it is new (a number already listed is kept as it is)."""
    row = await raw.fetch_one(
        session, "INSERT INTO dnc_numbers (id, tenant_id, phone, reason) VALUES (%(id)s, "
        "%(t)s, %(p)s, %(r)s) ON CONFLICT (tenant_id, phone) DO NOTHING RETURNING "
        + DNC_COLUMNS, {"id": new_id(), "t": tenant_id, "p": phone, "r": reason})
    if row is not None:
        return row, True
    found = await raw.fetch_one(
        session, f"SELECT {DNC_COLUMNS} FROM dnc_numbers WHERE tenant_id = %(t)s AND "
        "phone = %(p)s", {"t": tenant_id, "p": phone})
    assert found is not None
    return found, False


async def list_dnc(session: AsyncSession, *, tenant_id: uuid.UUID, limit: int,
                   after: list[Any] | None, phone: str | None) -> list[dict[str, Any]]:
    where = ["tenant_id = %(t)s"]
    params: dict[str, Any] = {"t": tenant_id, "limit": limit}
    if after is not None:
        where.append("(created_at, id) < (%(ac)s, %(ai)s)")
        params.update(ac=after[0], ai=after[1])
    if phone is not None:
        where.append("phone = %(p)s")
        params["p"] = phone
    return await raw.fetch_all(
        session, f"SELECT {DNC_COLUMNS} FROM dnc_numbers WHERE {' AND '.join(where)} "
        "ORDER BY created_at DESC, id DESC LIMIT %(limit)s", params)


async def delete_dnc(session: AsyncSession, *, tenant_id: uuid.UUID,
                     dnc_id: uuid.UUID) -> bool:
    row = await raw.fetch_row(
        session, "DELETE FROM dnc_numbers WHERE tenant_id = %(t)s AND id = %(id)s "
        "RETURNING id", {"t": tenant_id, "id": dnc_id})
    return row is not None


async def is_dnc(session: AsyncSession, *, tenant_id: uuid.UUID, phone: str) -> bool:
    row = await raw.fetch_row(
        session, "SELECT EXISTS (SELECT 1 FROM dnc_numbers WHERE tenant_id = %(t)s AND "
        "phone = %(p)s)", {"t": tenant_id, "p": phone})
    return bool(row and row[0])
