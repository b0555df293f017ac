"""Authentication: register, login, refresh, logout, me (``/api/v1/auth``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from leadbase.auth import service
from leadbase.auth.context import Principal
from leadbase.auth.deps import client_ip, get_db, get_limiter, request_id, signed_in
from leadbase.auth.schemas import (
    LoginBody,
    LogoutBody,
    Me,
    RefreshBody,
    RegisterBody,
    TokenResponse,
)
from leadbase.auth.tokens import TokenPair
from leadbase.kit.errors import NotFound, Unauthorized
from leadbase.kit.http import json_response
from leadbase.users import repository as users_repository

router = APIRouter(prefix="/auth", tags=["auth"])


def _tokens(pair: TokenPair, status: int = 200) -> Response:
    return json_response(TokenResponse(access_token=pair.access_token,
                                       refresh_token=pair.refresh_token,
                                       expires_in=pair.expires_in), status,
                         headers={"Cache-Control": "no-store"})


@router.post("/register", status_code=201, response_model=TokenResponse)
async def register(request: Request, body: RegisterBody) -> Response:
    """Create a workspace and its owner, and sign the owner in."""
    settings = request.app.state.settings
    await get_limiter(request).hit(settings.register_rate_limit_ip, "register",
                                   client_ip(request), code="REGISTER_THROTTLED")
    async with get_db(request).transaction(None, system=True) as session:
        pair = await service.register(
            session, issuer=request.app.state.issuer, email=str(body.email),
            password=body.password, name=body.name, workspace_name=body.workspace_name,
            request_id=request_id(request), default_region=settings.default_region,
        )
    return _tokens(pair, 201)


@router.post("/login", response_model=TokenResponse)
async def login(request: Request, body: LoginBody) -> Response:
    """Sign in. Throttled per account and per client address (429 with Retry-After)."""
    settings = request.app.state.settings
    limiter = get_limiter(request)
    detail = "Too many sign-in attempts; try again later."
    await limiter.hit(settings.login_rate_limit_ip, "login-ip", client_ip(request),
                      code="LOGIN_THROTTLED", detail=detail)
    await limiter.hit(settings.login_rate_limit_account, "login-account",
                      str(body.email).lower(), code="LOGIN_THROTTLED", detail=detail)
    async with get_db(request).transaction(None, system=True) as session:
        pair = await service.login(session, issuer=request.app.state.issuer,
                                   email=str(body.email), password=body.password)
    return _tokens(pair)


@router.post("/refresh", response_model=TokenResponse)
async def refresh(request: Request, body: RefreshBody) -> Response:
    """Exchange a refresh token for a new pair. Each refresh token works once; presenting
    a spent one revokes every token descended from the same sign-in."""
    async with get_db(request).transaction(None, system=True) as session:
        result = await service.refresh(session, issuer=request.app.state.issuer,
                                       refresh_token=body.refresh_token)
    if isinstance(result, service.RefreshReused):
        raise Unauthorized("This refresh token was already used; the session has been "
                           "revoked. Sign in again.", code="REFRESH_TOKEN_REUSED")
    return _tokens(result)


@router.post("/logout", status_code=204)
async def logout(request: Request, principal: Annotated[Principal, Depends(signed_in)],
                 body: LogoutBody | None = None) -> Response:
    """Revoke the given refresh token's session, or all of the caller's sessions. The
    access tokens of a revoked session stop working at once."""
    if principal.user_id is None:
        raise Unauthorized("API keys have no session; revoke the key instead.",
                           code="NOT_A_SESSION")
    async with get_db(request).transaction(principal.tenant_id, system=True) as session:
        await service.logout(session, user_id=principal.user_id,
                             session_id=principal.session_id,
                             refresh_token=body.refresh_token if body else None)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
async def me(request: Request, principal: Annotated[Principal, Depends(signed_in)]) -> Response:
    if principal.user_id is None:
        raise NotFound("API keys are not users.", code="NOT_A_USER")
    async with get_db(request).transaction(principal.tenant_id, system=True) as session:
        user = await users_repository.get_by_id_any(session, principal.user_id)
    if user is None or not user["is_active"]:
        raise Unauthorized("This account is deactivated.", code="USER_INACTIVE")
    return json_response(Me.model_validate(user))
