"""Rules for users: who may create, change or deactivate whom."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth import repository as auth_repository
from leadbase.auth.context import ROLE_RANK, Context
from leadbase.auth.security import check_password_policy, hash_password
from leadbase.kit.checks import check_version, require_changes, version_mismatch
from leadbase.kit.errors import Conflict, Forbidden, NotFound
from leadbase.kit.pagination import PageParams
from leadbase.users import repository
from leadbase.users.schemas import UserCreate, UserUpdate


def _may_grant(ctx: Context, role: str) -> None:
    if ROLE_RANK[role] > ROLE_RANK.get(ctx.role, -1):
        raise Forbidden(f"A {ctx.role} cannot grant the role '{role}'.", code="ROLE_NOT_ALLOWED")


async def create_user(session: AsyncSession, *, ctx: Context, body: UserCreate) -> dict[str, Any]:
    _may_grant(ctx, body.role)
    check_password_policy(body.password)
    try:
        async with session.begin_nested():
            user = await repository.insert_user(
                session,
                {
                    "tenant_id": ctx.tenant_id,
                    "email": str(body.email).lower(),
                    "name": body.name,
                    "password_hash": hash_password(body.password),
                    "role": body.role,
                    "capacity": body.capacity,
                    "working_hours": body.working_hours,
                    "timezone": body.timezone,
                    "out_of_office_until": body.out_of_office_until,
                },
            )
    except IntegrityError as exc:
        raise Conflict("A user with this email already exists.", code="EMAIL_TAKEN",
                       errors=[{"field": "email", "message": "already registered"}]) from exc
    await audit.record(session, ctx=ctx, action="user.created", entity_type="user",
                       entity_id=user["id"], changes={"fields": ["email", "name", "role"]})
    return user


async def get_user(session: AsyncSession, *, ctx: Context, user_id: uuid.UUID) -> dict[str, Any]:
    user = await repository.get(session, tenant_id=ctx.tenant_id, user_id=user_id)
    if user is None:
        raise NotFound("User not found.", code="USER_NOT_FOUND")
    return user


async def list_users(
    session: AsyncSession, *, ctx: Context, params: PageParams, role: str | None,
    is_active: bool | None, q: str | None,
) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_users(
        session, tenant_id=ctx.tenant_id, role=role, is_active=is_active, q=q,
        offset=params.offset, limit=params.per_page,
    )


async def _guard_last_owner(session: AsyncSession, ctx: Context, target: dict[str, Any]) -> None:
    if (target["role"] == "owner" and target["is_active"]
            and await repository.count_owners(session, tenant_id=ctx.tenant_id) <= 1):
        raise Conflict("A workspace must keep at least one active owner.", code="LAST_OWNER")


async def update_user(
    session: AsyncSession, *, ctx: Context, user_id: uuid.UUID, body: UserUpdate,
    expected_version: int | None,
) -> dict[str, Any]:
    target = await get_user(session, ctx=ctx, user_id=user_id)
    changes = body.model_dump(exclude_unset=True)
    require_changes(changes)
    # Outranking: nobody changes a user of a higher role than their own.
    if ROLE_RANK[target["role"]] > ROLE_RANK.get(ctx.role, -1):
        raise Forbidden("You cannot change a user with a higher role.", code="ROLE_NOT_ALLOWED")
    # Checked up front too, so a stale If-Match fails even when nothing would change.
    check_version(target, expected_version, what="user")
    values: dict[str, Any] = {}
    if "name" in changes and changes["name"] is not None:
        values["name"] = changes["name"]
    if "role" in changes and changes["role"] is not None and changes["role"] != target["role"]:
        if user_id == ctx.actor_user_id:
            raise Forbidden("You cannot change your own role.", code="ROLE_NOT_ALLOWED")
        _may_grant(ctx, changes["role"])
        await _guard_last_owner(session, ctx, target)
        values["role"] = changes["role"]
    if "is_active" in changes and changes["is_active"] is not None:
        if changes["is_active"] is False:
            await _check_deactivation(session, ctx, target)
        values["is_active"] = changes["is_active"]
    if changes.get("password"):
        check_password_policy(changes["password"])
        values["password_hash"] = hash_password(changes["password"])
    for key in ("capacity", "working_hours", "timezone", "out_of_office_until"):
        if key in changes:
            values[key] = changes[key] if changes[key] is not None else (
                {} if key == "working_hours" else None)
    if not values:
        return target
    updated = await repository.update_user(session, tenant_id=ctx.tenant_id, user_id=user_id,
                                           values=values, expected_version=expected_version)
    if updated is None:
        raise await _stale(session, ctx, user_id)
    if values.get("is_active") is False or "password_hash" in values:
        await auth_repository.revoke_user_tokens(session, user_id=user_id)
    if values.get("is_active") is False and target["is_active"]:
        await _reassign_on_deactivation(session, ctx, user_id)
    _assignment_forget(ctx)
    await audit.record(session, ctx=ctx, action="user.updated", entity_type="user",
                       entity_id=user_id,
                       changes={"fields": sorted(k.replace("password_hash", "password")
                                                 for k in values)})
    return updated


async def _stale(session: AsyncSession, ctx: Context, user_id: uuid.UUID) -> Exception:
    """The 412 of an update whose ``If-Match`` lost the race (the version check is part of
    the UPDATE), answering the version that won."""
    return version_mismatch("user", (await get_user(session, ctx=ctx, user_id=user_id))["version"])


async def _check_deactivation(session: AsyncSession, ctx: Context, target: dict[str, Any]) -> None:
    if target["id"] == ctx.actor_user_id:
        raise Conflict("You cannot deactivate yourself.", code="CANNOT_DEACTIVATE_SELF")
    await _guard_last_owner(session, ctx, target)


async def deactivate_user(
    session: AsyncSession, *, ctx: Context, user_id: uuid.UUID, expected_version: int | None
) -> dict[str, Any]:
    target = await get_user(session, ctx=ctx, user_id=user_id)
    if ROLE_RANK[target["role"]] > ROLE_RANK.get(ctx.role, -1):
        raise Forbidden("You cannot deactivate a user with a higher role.",
                        code="ROLE_NOT_ALLOWED")
    check_version(target, expected_version, what="user")
    await _check_deactivation(session, ctx, target)
    updated = await repository.update_user(
        session, tenant_id=ctx.tenant_id, user_id=user_id, values={"is_active": False},
        expected_version=expected_version,
    )
    if updated is None:
        raise await _stale(session, ctx, user_id)
    await auth_repository.revoke_user_tokens(session, user_id=user_id)
    if target["is_active"]:
        await _reassign_on_deactivation(session, ctx, user_id)
    _assignment_forget(ctx)
    await audit.record(session, ctx=ctx, action="user.deactivated", entity_type="user",
                       entity_id=user_id, changes={"fields": ["is_active"]})
    return updated


async def _reassign_on_deactivation(session: AsyncSession, ctx: Context,
                                    user_id: uuid.UUID) -> None:
    """A deactivated user's open leads go through the assignment rules (a job), when the
    workspace says so (``reassign_on_deactivation``, on by default) and there are any."""
    from leadbase.assignment import jobs, service
    from leadbase.assignment import repository as assignment_repository

    if not (await service.get_settings(session, ctx=ctx))["reassign_on_deactivation"]:
        return
    if await assignment_repository.count_open_of(session, tenant_id=ctx.tenant_id,
                                                 user_id=user_id):
        await jobs.queue_reassign(session, ctx=ctx, user_id=user_id, reason="deactivated")


def _assignment_forget(ctx: Context) -> None:
    """Assignment decides new leads with what it read of users a moment ago: not after a
    change made here."""
    from leadbase.assignment import decide

    decide.forget(ctx.tenant_id)
