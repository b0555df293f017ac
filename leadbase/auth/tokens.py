"""Issuing access and refresh tokens; rotating refresh tokens with reuse detection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth import repository
from leadbase.auth.security import encode_access_token, new_refresh_token, sha256
from leadbase.config import Settings
from leadbase.kit.ids import new_id


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


class TokenIssuer:
    def __init__(self, settings: Settings) -> None:
        self.secret = settings.jwt_secret()
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self.access_ttl = settings.access_token_ttl_seconds
        self.refresh_ttl = settings.refresh_token_ttl_seconds

    async def issue(
        self, session: AsyncSession, *, user_id: uuid.UUID, tenant_id: uuid.UUID | None,
        role: str, family_id: uuid.UUID | None = None,
    ) -> TokenPair:
        refresh = new_refresh_token()
        family_id = family_id or new_id()
        await repository.insert_token(
            session, tenant_id=tenant_id, user_id=user_id, family_id=family_id,
            token_hash=sha256(refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=self.refresh_ttl),
        )
        access = encode_access_token(
            secret=self.secret, user_id=user_id, tenant_id=tenant_id, role=role,
            session_id=family_id, ttl=self.access_ttl, audience=self.audience, issuer=self.issuer,
        )
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=self.access_ttl)
