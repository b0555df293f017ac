"""Rules for voice agents and the workspace's do-not-call list.

Public functions (keyword-only after ``session``; none commits): ``create_agent``,
``get_agent``, ``list_agents``, ``update_agent``, ``delete_agent``,
``rotate_webhook_secret``, ``read`` (a row as ``CallAgentRead``), ``add_dnc``,
``list_dnc``, ``delete_dnc``, ``normalise_phone``.

Secrets: ``secrets`` is stored as one Fernet token and answered only as the list of its
keys; the webhook secret is answered on creation and rotation only. Errors:
``CALL_AGENT_NOT_FOUND`` 404, ``CALL_AGENT_NAME_TAKEN`` 409, ``INVALID_PHONE`` 422,
``DNC_NOT_FOUND`` 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.calls import crypto, providers
from leadbase.calls.repository import agents as repository
from leadbase.calls.schemas import DEFAULT_HOURS, CallAgentCreate, CallAgentUpdate
from leadbase.config import Settings
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.contact import phone_e164
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import decode_cursor, encode_cursor
from leadbase.providers.voice.base import UnknownProviderError
from leadbase.tenants import service as tenants_service

LIST_SORT = "-created_at,-id"


def agent_not_found() -> NotFound:
    return NotFound("Call agent not found.", code="CALL_AGENT_NOT_FOUND")


def webhook_url(settings: Settings, provider: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/api/v1/calls/webhooks/voice/{provider}"


def read(settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    """The agent as answered: no secret, its webhook URL."""
    out = {k: v for k, v in row.items() if k not in ("secrets", "webhook_secret")}
    out["webhook_url"] = webhook_url(settings, row["provider"])
    return out


def _values(settings: Settings, body: CallAgentCreate | CallAgentUpdate, provider: str,
            current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns a create or update writes. Keys of ``settings`` the provider counts as
    secret move to the encrypted ``secrets``; the result must satisfy the provider's
    ``check_settings`` (422 ``INVALID_PROVIDER_SETTINGS``). The webhook secret is always
    Leadbase's own (made here, rotated by its route)."""
    values = body.model_dump(exclude_unset=True, mode="json")
    try:
        client = providers.get(provider, settings)
    except UnknownProviderError:
        raise ValidationFailed(f"The provider '{provider}' is not available in this "
                               "installation.", code="PROVIDER_UNAVAILABLE",
                               errors=[{"field": "provider", "message": "not available"}]
                               ) from None
    secret_keys = client.secret_settings
    plain = values.pop("settings", None)
    given = values.pop("secrets", None)
    if plain is not None or given is not None:
        plain = dict(plain if plain is not None else (current or {}).get("settings") or {})
        hidden = dict(given if given is not None else
                      crypto.decrypt(settings, (current or {}).get("secrets"), {}))
        for key in [k for k in plain if k in secret_keys]:
            hidden[key] = str(plain.pop(key))
        plain.pop("webhook_secret", None)
        hidden.pop("webhook_secret", None)
        values["settings"] = plain
        values["secrets"] = crypto.encrypt(settings, hidden) if hidden else None
        values["secret_keys"] = sorted(hidden)
    effective = {**(values.get("settings", (current or {}).get("settings")) or {}),
                 **(crypto.decrypt(settings, values["secrets"], {}) if "secrets" in values
                    else crypto.decrypt(settings, (current or {}).get("secrets"), {})),
                 "webhook_secret": "checked"}
    problems = client.check_settings(effective)
    if problems:
        raise ValidationFailed("The provider settings will not do: " + "; ".join(problems),
                               code="INVALID_PROVIDER_SETTINGS",
                               errors=[{"field": "settings", "message": p} for p in problems])
    for key in ("business_hours", "retry_delays"):
        if key in values and values[key] is None:
            values.pop(key)
    return values


async def _name_free(session: AsyncSession, ctx: Context, name: str,
                     other_than: uuid.UUID | None = None) -> None:
    if await repository.name_taken(session, tenant_id=ctx.tenant_id, name=name,
                                   other_than=other_than):
        raise Conflict(f"A call agent named '{name}' exists.", code="CALL_AGENT_NAME_TAKEN")


async def create_agent(session: AsyncSession, *, ctx: Context, settings: Settings,
                       body: CallAgentCreate) -> tuple[dict[str, Any], str]:
    """The new agent and its webhook secret (answered once)."""
    await _name_free(session, ctx, body.name)
    values = _values(settings, body, body.provider)
    if not values.get("timezone"):
        values["timezone"] = (await tenants_service.defaults(
            session, tenant_id=ctx.tenant_id)).timezone or "UTC"
    values.setdefault("business_hours", DEFAULT_HOURS)
    values = {k: v for k, v in values.items() if v is not None or k == "secrets"}
    secret = crypto.new_webhook_secret()
    values["webhook_secret"] = crypto.encrypt(settings, secret)
    row = await repository.insert_agent(session, tenant_id=ctx.tenant_id, values=values)
    await audit.record(session, ctx=ctx, action="call_agent.created", entity_type="call_agent",
                       entity_id=row["id"], changes={"name": row["name"],
                                                     "provider": row["provider"]})
    return row, secret


async def get_agent(session: AsyncSession, *, ctx: Context, agent_id: uuid.UUID,
                    for_update: bool = False) -> dict[str, Any]:
    row = await repository.get_agent(session, tenant_id=ctx.tenant_id, agent_id=agent_id,
                                     for_update=for_update)
    if row is None:
        raise agent_not_found()
    return row


async def list_agents(session: AsyncSession, *, ctx: Context, per_page: int,
                      cursor: str | None, active: bool | None,
                      provider: str | None) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, LIST_SORT) if cursor else None
    rows = await repository.list_agents(session, tenant_id=ctx.tenant_id, limit=per_page + 1,
                                        after=after, active=active, provider=provider)
    return page_of(rows, per_page)


def page_of(rows: list[dict[str, Any]], per_page: int) -> tuple[list[dict[str, Any]],
                                                                   str | None]:
    """The page and the cursor after it (``rows`` holds one row more when there is one)."""
    if len(rows) <= per_page:
        return rows, None
    last = rows[per_page - 1]
    return rows[:per_page], encode_cursor(LIST_SORT, [last["created_at"], last["id"]])


async def update_agent(session: AsyncSession, *, ctx: Context, settings: Settings,
                       agent_id: uuid.UUID, body: CallAgentUpdate,
                       expected_version: int | None) -> dict[str, Any]:
    current = await get_agent(session, ctx=ctx, agent_id=agent_id, for_update=True)
    check_version(current, expected_version, what="call agent")
    values = _values(settings, body, current["provider"], current)
    require_changes(values)
    if values.get("name") and values["name"].lower() != current["name"].lower():
        await _name_free(session, ctx, values["name"], other_than=agent_id)
    values = {k: v for k, v in values.items() if v is not None or k == "secrets"}
    row = await repository.update_agent(session, tenant_id=ctx.tenant_id, agent_id=agent_id,
                                        values=values)
    await audit.record(session, ctx=ctx, action="call_agent.updated", entity_type="call_agent",
                       entity_id=agent_id, changes={"changed": sorted(values)})
    return row


async def delete_agent(session: AsyncSession, *, ctx: Context, agent_id: uuid.UUID,
                       expected_version: int | None) -> None:
    current = await get_agent(session, ctx=ctx, agent_id=agent_id, for_update=True)
    check_version(current, expected_version, what="call agent")
    await repository.soft_delete_agent(session, tenant_id=ctx.tenant_id, agent_id=agent_id)
    await audit.record(session, ctx=ctx, action="call_agent.deleted", entity_type="call_agent",
                       entity_id=agent_id, changes={"name": current["name"]})


async def rotate_webhook_secret(session: AsyncSession, *, ctx: Context, settings: Settings,
                                agent_id: uuid.UUID) -> tuple[dict[str, Any], str]:
    await get_agent(session, ctx=ctx, agent_id=agent_id, for_update=True)
    secret = crypto.new_webhook_secret()
    row = await repository.update_agent(session, tenant_id=ctx.tenant_id, agent_id=agent_id,
                                        values={"webhook_secret":
                                                crypto.encrypt(settings, secret)})
    await audit.record(session, ctx=ctx, action="call_agent.webhook_secret_rotated",
                       entity_type="call_agent", entity_id=agent_id, changes={})
    return row, secret


def provider_settings(settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    """The agent's settings with its decrypted secrets, and the webhook secret (the
    simulator signs its callbacks with it), for the provider only."""
    return {**(row.get("settings") or {}), **crypto.decrypt(settings, row.get("secrets"), {}),
            "webhook_secret": crypto.decrypt(settings, row["webhook_secret"])}


# ------------------------------------------------------------------ do-not-call list

async def normalise_phone(session: AsyncSession, *, ctx: Context, raw: str) -> str:
    region = (await tenants_service.defaults(session, tenant_id=ctx.tenant_id)).region
    return phone_e164(raw, region=region or "US", field="phone")


async def add_dnc(session: AsyncSession, *, ctx: Context, phone: str,
                  reason: str | None) -> tuple[dict[str, Any], bool]:
    e164 = await normalise_phone(session, ctx=ctx, raw=phone)
    row, new = await repository.add_dnc(session, tenant_id=ctx.tenant_id, phone=e164,
                                        reason=reason)
    if new:
        await audit.record(session, ctx=ctx, action="dnc.added", entity_type="dnc_number",
                           entity_id=row["id"], changes={"phone": e164})
    return row, new


async def list_dnc(session: AsyncSession, *, ctx: Context, per_page: int,
                   cursor: str | None, phone: str | None
                   ) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, LIST_SORT) if cursor else None
    e164 = await normalise_phone(session, ctx=ctx, raw=phone) if phone else None
    rows = await repository.list_dnc(session, tenant_id=ctx.tenant_id, limit=per_page + 1,
                                     after=after, phone=e164)
    return page_of(rows, per_page)


async def delete_dnc(session: AsyncSession, *, ctx: Context, dnc_id: uuid.UUID) -> None:
    if not await repository.delete_dnc(session, tenant_id=ctx.tenant_id, dnc_id=dnc_id):
        raise NotFound("Do-not-call entry not found.", code="DNC_NOT_FOUND")
    await audit.record(session, ctx=ctx, action="dnc.deleted", entity_type="dnc_number",
                       entity_id=dnc_id, changes={})
