"""Helpers shared by the auth, users, API-key, workspace and audit tests."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlalchemy import text

from leadbase.app import create_app
from leadbase.auth import service as auth_service
from leadbase.auth.context import Context, Principal
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.conftest import make_settings
from tests.factories import PASSWORD, Member, login, unique_email

PROBLEM = "application/problem+json"


def assert_problem(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` (and ``code`` when given)."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("https://")
    if code is not None:
        assert body["code"] == code, body
    return body


def random_ip() -> str:
    """A client address of its own, so rate-limit counters (also in Redis) start at zero."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@asynccontextmanager
async def client_with(tmp: Path, db: Database, ip: str | None = None,
                      **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with other settings (e.g. tight rate limits)."""
    app = create_app(make_settings(tmp, **overrides), database=db, run_worker=False)
    transport = httpx.ASGITransport(app=app, client=(ip or random_ip(), 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def forge(settings: Settings, *, secret: str | None = None, algorithm: str = "HS256",
          **claims: Any) -> str:
    """A JWT like the server's, with ``claims`` overriding (None removes a claim)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": str(uuid.uuid4()), "tid": str(uuid.uuid4()), "role": "owner", "iat": now,
        "nbf": now, "exp": now + 600, "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer, "jti": "abc", "typ": "access", "sid": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    key = secret if secret is not None else settings.secret_key
    assert key
    return jwt.encode(payload, key, algorithm=algorithm)


def claims_of(member: Member) -> dict[str, Any]:
    out: dict[str, Any] = jwt.decode(member.access_token, options={"verify_signature": False})
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ctx_for(tenant_id: uuid.UUID, role: str, user_id: uuid.UUID | None = None,
            request_id: str | None = None) -> Context:
    return Context(tenant_id=tenant_id,
                   principal=Principal(role=role, tenant_id=tenant_id, user_id=user_id),
                   request_id=request_id)


def member_ctx(member: Member, request_id: str | None = None) -> Context:
    return ctx_for(member.tenant_id, member.role, member.user_id, request_id)


async def make_superadmin(client: httpx.AsyncClient, db: Database) -> Member:
    email = unique_email("root")
    async with db.transaction(None, system=True) as session:
        user = await auth_service.create_superadmin(session, email=email, password=PASSWORD,
                                                    name="Root")
    tokens = await login(client, email)
    return Member(user_id=user["id"], tenant_id=uuid.UUID(int=0), email=email,
                  role="superadmin", access_token=tokens["access_token"],
                  refresh_token=tokens["refresh_token"])


async def scalar(db: Database, tenant_id: uuid.UUID | None, sql: str, **params: Any) -> Any:
    """One value read through the application's own scoped transaction."""
    async with db.transaction(tenant_id, system=tenant_id is None) as session:
        return (await session.execute(text(sql), params)).scalar()


async def execute(db: Database, tenant_id: uuid.UUID | None, sql: str, **params: Any) -> None:
    async with db.transaction(tenant_id, system=tenant_id is None) as session:
        await session.execute(text(sql), params)
