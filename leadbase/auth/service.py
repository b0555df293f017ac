"""Registration, sign-in, refresh-token rotation and sign-out.

These run in the system scope (no workspace is known before sign-in)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth import repository
from leadbase.auth.security import check_password_policy, hash_password, sha256, verify_password
from leadbase.auth.tokens import TokenIssuer, TokenPair
from leadbase.kit.errors import Conflict, Forbidden, Unauthorized
from leadbase.tenants import repository as tenants_repository
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository


async def register(
    session: AsyncSession, *, issuer: TokenIssuer, email: str, password: str, name: str,
    workspace_name: str, request_id: str | None = None, default_region: str = "US",
) -> TokenPair:
    """Create a workspace, its default list and its owner; sign the owner in."""
    tenant, owner = await tenants_service.create_with_owner(
        session, name=workspace_name, owner_email=email, owner_name=name,
        owner_password=password, request_id=request_id, default_region=default_region)
    return await issuer.issue(session, user_id=owner["id"], tenant_id=tenant["id"], role="owner")


async def create_superadmin(session: AsyncSession, *, email: str, password: str,
                            name: str) -> dict[str, Any]:
    check_password_policy(password)
    if await users_repository.email_taken(session, email):
        raise Conflict("A user with this email already exists.", code="EMAIL_TAKEN")
    return await users_repository.insert_user(session, {
        "tenant_id": None, "email": email.lower(), "name": name,
        "password_hash": hash_password(password), "role": "superadmin",
    })


async def login(session: AsyncSession, *, issuer: TokenIssuer, email: str,
                password: str) -> TokenPair:
    user = await users_repository.get_for_login(session, email)
    if not verify_password(password, user["password_hash"] if user else None) or user is None:
        raise Unauthorized("Wrong email or password.", code="INVALID_CREDENTIALS")
    await _check_account(session, user)
    await users_repository.touch_login(session, user["id"])
    return await issuer.issue(session, user_id=user["id"], tenant_id=user["tenant_id"],
                              role=user["role"])


async def _check_account(session: AsyncSession, user: dict[str, Any]) -> None:
    """The user, and the workspace they belong to, may sign in."""
    if not user["is_active"]:
        raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
    if user["tenant_id"] is not None and not await tenants_repository.is_active(
            session, user["tenant_id"]):
        raise Forbidden("This workspace is suspended.", code="WORKSPACE_SUSPENDED")


@dataclass(frozen=True)
class RefreshReused:
    """A refresh token was presented twice: its whole family has been revoked."""


async def refresh(session: AsyncSession, *, issuer: TokenIssuer,
                  refresh_token: str) -> TokenPair | RefreshReused:
    """Rotate: the presented token is spent and a new one of the same family issued.

    A token presented after it was spent means it leaked: the family is revoked (the
    caller must commit that before answering 401)."""
    row = await repository.get_for_update(session, sha256(refresh_token))
    if row is None or row["revoked_at"] is not None:
        raise Unauthorized("The refresh token is invalid.", code="INVALID_REFRESH_TOKEN")
    if row["used_at"] is not None:
        await repository.revoke_family(session, row["family_id"])
        return RefreshReused()
    if row["expires_at"] <= datetime.now(UTC):
        raise Unauthorized("The refresh token has expired.", code="REFRESH_TOKEN_EXPIRED")
    user = await users_repository.get_by_id_any(session, row["user_id"])
    if user is None:
        raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
    await _check_account(session, user)
    await repository.mark_used(session, row["id"])
    return await issuer.issue(session, user_id=user["id"], tenant_id=user["tenant_id"],
                              role=user["role"], family_id=row["family_id"])


async def logout(session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID | None,
                 refresh_token: str | None) -> None:
    """End the caller's session and the given token's, or, with no token, every session
    of the user. Access tokens of an ended session stop working at once."""
    if refresh_token:
        row = await repository.get_for_update(session, sha256(refresh_token))
        if row is not None and row["user_id"] == user_id:
            await repository.revoke_family(session, row["family_id"])
            if session_id is not None:
                await repository.revoke_family(session, session_id)
            return
    await repository.revoke_user_tokens(session, user_id=user_id)


async def end_session(session: AsyncSession, *, session_id: uuid.UUID) -> None:
    """End one sign-in session (the web console's sign-out): its refresh-token family is
    revoked, so whatever carries its id stops working at once."""
    await repository.revoke_family(session, session_id)
