"""Rules for workspaces: creation (with owner and default list) and platform administration."""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, Principal
from leadbase.auth.security import check_password_policy, hash_password
from leadbase.db.session import scope
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.lists import service as lists_service
from leadbase.pipelines import service as pipelines_service
from leadbase.tenants import repository
from leadbase.users import repository as users_repository


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60] or "workspace"


async def create_workspace(
    session: AsyncSession, *, name: str, default_region: str = "US", timezone: str = "UTC",
    currency: str = "USD", locale: str = "en",
) -> dict[str, Any]:
    """Create a workspace, its default list and its default lead and deal pipelines. The
    session must be in the system scope; it is left scoped to the new workspace (so the
    caller can add its owner)."""
    region = default_region.upper()
    from phonenumbers import SUPPORTED_REGIONS

    if region not in SUPPORTED_REGIONS:
        raise ValidationFailed(f"Unknown region '{default_region}'.", code="INVALID_REGION",
                               errors=[{"field": "default_region", "message": "unknown region"}])
    base = slugify(name)
    slug = base
    while await repository.slug_exists(session, slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    tenant = await repository.insert_tenant(
        session,
        {"name": name, "slug": slug, "default_region": region, "timezone": timezone,
         "currency": currency.upper(), "locale": locale},
    )
    await scope(session, tenant["id"], system=True)
    await lists_service.create_default(session, tenant_id=tenant["id"])
    await pipelines_service.create_defaults(session, tenant_id=tenant["id"])
    return tenant


async def get_workspace(session: AsyncSession, *, tenant_id: uuid.UUID) -> dict[str, Any]:
    tenant = await repository.get(session, tenant_id)
    if tenant is None:
        raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
    return tenant


async def list_workspaces(session: AsyncSession, *, offset: int, limit: int,
                          q: str | None) -> tuple[list[dict[str, Any]], int]:
    rows, total = await repository.list_all(session, offset=offset, limit=limit, q=q)
    stats = await repository.stats(session, [r["id"] for r in rows])
    for row in rows:
        row["user_count"] = stats[row["id"]]["users"]
    return rows, total


async def update_workspace(session: AsyncSession, *, tenant_id: uuid.UUID,
                           values: dict[str, Any]) -> dict[str, Any]:
    if values.get("default_region"):
        from phonenumbers import SUPPORTED_REGIONS

        values["default_region"] = values["default_region"].upper()
        if values["default_region"] not in SUPPORTED_REGIONS:
            raise ValidationFailed("Unknown region.", code="INVALID_REGION",
                                   errors=[{"field": "default_region",
                                            "message": "unknown region"}])
    updated = await repository.update_tenant(session, tenant_id, values)
    if updated is None:
        raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
    forget_defaults(tenant_id)
    return updated


@dataclass(frozen=True)
class WorkspaceDefaults:
    region: str
    timezone: str
    default_list_id: uuid.UUID
    # settings["assignment"] (leadbase.assignment.settings reads it)
    assignment: dict[str, Any] = field(default_factory=dict)


_defaults_cache: dict[uuid.UUID, tuple[float, WorkspaceDefaults]] = {}
DEFAULTS_TTL_SECONDS = 30.0


async def defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> WorkspaceDefaults:
    """Region, time zone and default list of a workspace (cached for 30 s per process)."""
    now = time.monotonic()
    hit = _defaults_cache.get(tenant_id)
    if hit is not None and now - hit[0] < DEFAULTS_TTL_SECONDS:
        return hit[1]
    tenant = await get_workspace(session, tenant_id=tenant_id)
    list_id = await lists_service.resolve(session, tenant_id=tenant_id, list_id=None)
    value = WorkspaceDefaults(region=tenant["default_region"], timezone=tenant["timezone"],
                              default_list_id=list_id,
                              assignment=dict(tenant["settings"].get("assignment") or {}))
    _defaults_cache[tenant_id] = (now, value)
    return value


def forget_defaults(tenant_id: uuid.UUID) -> None:
    _defaults_cache.pop(tenant_id, None)


async def set_setting(session: AsyncSession, *, tenant_id: uuid.UUID, key: str,
                      value: Any) -> dict[str, Any]:
    """Set ``settings[key]`` of the workspace (one key, the others kept); the workspace."""
    updated = await repository.set_setting(session, tenant_id, key, value)
    if updated is None:
        raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
    forget_defaults(tenant_id)
    return updated


async def create_with_owner(
    session: AsyncSession, *, name: str, owner_email: str, owner_name: str,
    owner_password: str, actor: Principal | None = None, request_id: str | None = None,
    default_region: str = "US", timezone: str = "UTC", currency: str = "USD",
    locale: str = "en",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new workspace, its default list and its owner (session in the system scope).

    ``actor`` is the platform admin creating it; None when the owner registers."""
    check_password_policy(owner_password)
    owner_email = owner_email.lower()
    if await users_repository.email_taken(session, owner_email):
        raise Conflict("A user with this email already exists.", code="EMAIL_TAKEN",
                       errors=[{"field": "email", "message": "already registered"}])
    tenant = await create_workspace(session, name=name, default_region=default_region,
                                    timezone=timezone, currency=currency, locale=locale)
    try:
        async with session.begin_nested():
            owner = await users_repository.insert_user(session, {
                "tenant_id": tenant["id"], "email": owner_email, "name": owner_name,
                "password_hash": hash_password(owner_password), "role": "owner",
            })
    except IntegrityError as exc:  # a concurrent registration took the email
        raise Conflict("A user with this email already exists.", code="EMAIL_TAKEN") from exc
    principal = actor or Principal(role="owner", tenant_id=tenant["id"], user_id=owner["id"])
    ctx = Context(tenant_id=tenant["id"], principal=principal, request_id=request_id)
    await audit.record(session, ctx=ctx, action="workspace.created", entity_type="workspace",
                       entity_id=tenant["id"],
                       changes={"fields": ["name"], "owner_id": str(owner["id"])})
    return tenant, owner


async def find_by_slug(session: AsyncSession, slug: str) -> uuid.UUID | None:
    """The workspace with this slug (session in the system scope)."""
    return await repository.id_by_slug(session, slug)
