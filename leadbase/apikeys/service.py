"""Rules for API keys: created by admins, secret shown once, stored as a hash."""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.apikeys import repository
from leadbase.apikeys.schemas import ApiKeyCreate
from leadbase.audit import service as audit
from leadbase.auth.context import ROLE_RANK, Context, Principal
from leadbase.auth.security import new_api_key, sha256
from leadbase.kit.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from leadbase.kit.pagination import PageParams


async def create_key(session: AsyncSession, *, ctx: Context,
                     body: ApiKeyCreate) -> dict[str, Any]:
    if ROLE_RANK[body.role] > ROLE_RANK.get(ctx.role, -1):
        raise Forbidden(f"A {ctx.role} cannot create a key with the role '{body.role}'.",
                        code="ROLE_NOT_ALLOWED")
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise ValidationFailed("expires_at must be in the future.", code="INVALID_EXPIRY",
                               errors=[{"field": "expires_at", "message": "in the past"}])
    secret, prefix, key_hash = new_api_key()
    row = await repository.insert_key(session, {
        "tenant_id": ctx.tenant_id, "name": body.name, "prefix": prefix, "key_hash": key_hash,
        "role": body.role, "scopes": sorted(set(body.scopes)), "created_by": ctx.actor_user_id,
        "expires_at": body.expires_at,
    })
    await audit.record(session, ctx=ctx, action="api_key.created", entity_type="api_key",
                       entity_id=row["id"], changes={"fields": ["name", "role", "scopes"]})
    return {**row, "secret": secret}


async def list_keys(session: AsyncSession, *, ctx: Context,
                    params: PageParams) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_keys(session, tenant_id=ctx.tenant_id, offset=params.offset,
                                      limit=params.per_page)


async def revoke_key(session: AsyncSession, *, ctx: Context, key_id: uuid.UUID) -> None:
    if not await repository.revoke(session, tenant_id=ctx.tenant_id, key_id=key_id):
        raise NotFound("API key not found.", code="API_KEY_NOT_FOUND")
    await audit.record(session, ctx=ctx, action="api_key.revoked", entity_type="api_key",
                       entity_id=key_id)


async def authenticate(session: AsyncSession, *, secret: str) -> Principal:
    """Resolve ``lb_<prefix>.<random>`` to its principal (session in the system scope)."""
    prefix = secret.split(".", 1)[0]
    row = await repository.get_by_prefix(session, prefix)
    if row is None or not hmac.compare_digest(row["key_hash"], sha256(secret)):
        raise Unauthorized("The API key is invalid.", code="INVALID_API_KEY")
    if row["deleted_at"] is not None:
        raise Unauthorized("The API key has been revoked.", code="API_KEY_REVOKED")
    if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
        raise Unauthorized("The API key has expired.", code="API_KEY_EXPIRED")
    role = row["role"]
    if row["created_by"] is not None:
        # A key never outranks the person who made it, now: demoting its creator lowers
        # it, and deactivating or removing its creator stops it.
        if not row["creator_active"]:
            raise Unauthorized("The API key's creator is no longer an active user.",
                               code="API_KEY_CREATOR_INACTIVE")
        if ROLE_RANK.get(row["creator_role"], -1) < ROLE_RANK.get(role, -1):
            role = row["creator_role"]
    await repository.touch(session, row["id"])
    return Principal(role=role, tenant_id=row["tenant_id"], api_key_id=row["id"],
                     scopes=frozenset(row["scopes"]))
