"""FastAPI dependencies: who is calling, the request's transaction, role checks.

The request's session is opened here, scoped to the caller's workspace, and
committed when the endpoint returns (``scope="function"``: before the response is
sent, so a failed commit is never reported as a success)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.apikeys import service as apikeys_service
from leadbase.auth import repository as auth_repository
from leadbase.auth.context import Context, Principal
from leadbase.auth.security import API_KEY_PREFIX, decode_access_token
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.kit.errors import Forbidden, NotFound, Unauthorized
from leadbase.kit.ids import parse_uuid
from leadbase.kit.ratelimit import RateLimiter
from leadbase.users import repository as users_repository

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def request_id(request: Request) -> str | None:
    rid: str | None = getattr(request.state, "request_id", None)
    return rid


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_principal(request: Request) -> Principal:
    """Authenticate the bearer token (JWT access token or API key) and count the request
    against the caller's rate limit."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>'.",
                           code="AUTH_REQUIRED")
    token = token.strip()
    db = get_db(request)
    if token.startswith(API_KEY_PREFIX):
        async with db.transaction(None, system=True) as session:
            principal = await apikeys_service.authenticate(session, secret=token)
    else:
        settings = get_settings_dep(request)
        claims = decode_access_token(token, secret=request.app.state.issuer.secret,
                                     audience=settings.jwt_audience, issuer=settings.jwt_issuer)
        principal = Principal(role=claims.role, tenant_id=claims.tenant_id,
                              user_id=claims.user_id, session_id=claims.session_id)
        if principal.is_superadmin:
            # Platform powers and the session are checked against the database on every
            # request (workspace users are re-checked inside their workspace's transaction,
            # below, in the same round trip as the membership).
            async with db.transaction(None, system=True) as session:
                current = await users_repository.active_role(session, user_id=claims.user_id)
                live = await auth_repository.session_live(session, claims.session_id)
            if current is None or not current[1] or current[0] != "superadmin":
                raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
            if not live:
                raise session_ended()
    if principal.api_key_id is None and principal.user_id is None:
        raise Unauthorized("The access token is invalid.", code="INVALID_TOKEN")
    ident = str(principal.api_key_id or principal.user_id)
    quota = await get_limiter(request).hit(get_settings_dep(request).rate_limit, "api", ident)
    request.state.rate_quota = quota
    request.state.principal = principal
    return principal


def session_ended() -> Unauthorized:
    return Unauthorized("This session has ended (signed out or revoked); sign in again.",
                        code="SESSION_ENDED")


async def signed_in(request: Request,
                    principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    """``get_principal`` for routes outside a workspace's transaction (``/auth/me``,
    ``/auth/logout``): a JWT's user and session are checked here, each request."""
    if principal.session_id is not None and not principal.is_superadmin:
        assert principal.user_id is not None
        async with get_db(request).transaction(principal.tenant_id, system=True) as session:
            current = await users_repository.active_role(session, user_id=principal.user_id)
            live = await auth_repository.session_live(session, principal.session_id)
        if current is None or not current[1]:
            raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
        if not live:
            raise session_ended()
    return principal


@dataclass(frozen=True)
class RequestScope:
    """The request's transaction and the context handed to services."""

    session: AsyncSession
    ctx: Context


def _check_scopes(request: Request, principal: Principal) -> None:
    needed = "read" if request.method in READ_METHODS else "write"
    if needed not in principal.scopes:
        raise Forbidden(f"This API key lacks the '{needed}' scope.", code="INSUFFICIENT_SCOPE")


def workspace_scope(min_role: str = "viewer", *, write: bool | None = None,
                    principal_from: Callable[..., Any] = get_principal) -> Any:
    """A dependency giving a tenant-scoped transaction to callers of at least ``min_role``.

    ``viewer`` can never write: any non-read method needs at least ``agent``.
    A platform superadmin acts inside a workspace by naming it in ``X-Workspace-Id``.
    ``principal_from`` authenticates the caller (the bearer token; the web console
    passes its session cookie's).
    """

    # A default, not an annotation: annotations are strings here, resolved in the module's
    # globals, where ``principal_from`` is not.
    async def dependency(
        request: Request, principal: Principal = Depends(principal_from)
    ) -> AsyncIterator[RequestScope]:
        _check_scopes(request, principal)
        is_write = write if write is not None else request.method not in READ_METHODS
        tenant_id = principal.tenant_id
        if principal.is_superadmin:
            tenant_id = parse_uuid(request.headers.get("x-workspace-id", ""))
            if tenant_id is None:
                raise Forbidden("A platform superadmin names the workspace in X-Workspace-Id.",
                                code="WORKSPACE_REQUIRED")
        if tenant_id is None:
            raise Forbidden("This route works inside a workspace.", code="WORKSPACE_REQUIRED")
        db = get_db(request)
        member = principal.user_id if not principal.is_superadmin else None
        async with db.transaction_after(
                tenant_id, users_repository.member_state_query(
                    tenant_id, member, principal.session_id if member else None)
        ) as (session, row):
            state = users_repository.member_state_of(row)
            if state is None:
                raise NotFound("Workspace not found.", code="WORKSPACE_NOT_FOUND")
            workspace_active, member_role, member_active, session_live = state
            if member is not None and (member_role is None or not member_active):
                raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
            if not session_live:
                raise session_ended()
            if not workspace_active and not principal.is_superadmin:
                raise Forbidden("This workspace is suspended.", code="WORKSPACE_SUSPENDED")
            role = principal.role
            if member_role is not None:
                role = member_role  # the role now, not the one in the token
            elif principal.is_superadmin:
                role = "owner"
            principal = Principal(role=role, tenant_id=tenant_id, user_id=principal.user_id,
                                  api_key_id=principal.api_key_id,
                                  session_id=principal.session_id, scopes=principal.scopes)
            _check_role(principal, "agent" if is_write and min_role == "viewer" else min_role)
            yield RequestScope(session=session,
                               ctx=Context(tenant_id=tenant_id, principal=principal,
                                           request_id=request_id(request)))

    return Depends(dependency, scope="function")


def _check_role(principal: Principal, min_role: str) -> None:
    if not principal.at_least(min_role):
        raise Forbidden(f"This needs the role '{min_role}' or higher; you are "
                        f"'{principal.role}'.", code="ROLE_REQUIRED")


async def superadmin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_superadmin:
        # Workspaces are not a workspace user's business: answer as if the route were absent.
        raise NotFound("Not found.", code="NOT_FOUND")
    return principal


Scope = Annotated[RequestScope, workspace_scope()]
ManagerScope = Annotated[RequestScope, workspace_scope("manager")]
AdminScope = Annotated[RequestScope, workspace_scope("admin")]
SuperAdmin = Annotated[Principal, Depends(superadmin)]


async def if_match_version(request: Request) -> int | None:
    """The version named by ``If-Match`` (our ETags are ``"<version>"``), or None."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    try:
        return int(value)
    except ValueError:
        return -1  # matches no version: 412


IfMatch = Annotated[int | None, Depends(if_match_version)]
Dep = Callable[..., Any]
_ = uuid
