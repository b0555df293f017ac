"""Typed factories: workspaces, users and leads made through the HTTP API."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

PASSWORD = "Secret123"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}.{secrets.token_hex(5)}@example.com"


@dataclass
class Member:
    """A signed-in user of a workspace."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    role: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def _member(tokens: dict[str, Any], email: str, role: str) -> Member:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return Member(user_id=uuid.UUID(claims["sub"]), tenant_id=uuid.UUID(claims["tid"]),
                  email=email, role=role, access_token=tokens["access_token"],
                  refresh_token=tokens["refresh_token"])


async def make_workspace(client: httpx.AsyncClient, name: str = "Acme Sales") -> Member:
    """Register a new workspace; returns its signed-in owner."""
    email = unique_email("owner")
    resp = await client.post("/api/v1/auth/register", json={
        "email": email, "password": PASSWORD, "name": "Owner", "workspace_name": name})
    assert resp.status_code == 201, resp.text
    return _member(resp.json(), email, "owner")


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    resp = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def add_member(client: httpx.AsyncClient, owner: Member, role: str) -> Member:
    """Create a user with ``role`` in the owner's workspace and sign them in."""
    email = unique_email(role)
    resp = await client.post("/api/v1/users", headers=owner.headers, json={
        "email": email, "name": role.title(), "password": PASSWORD, "role": role})
    assert resp.status_code == 201, resp.text
    return _member(await login(client, email), email, role)


async def make_lead(client: httpx.AsyncClient, member: Member, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Ana", "last_name": "López", "email": unique_email("lead"), **fields}
    resp = await client.post("/api/v1/leads", headers=member.headers, json=body)
    assert resp.status_code in (200, 201), resp.text
    data: dict[str, Any] = resp.json()
    return data


async def walk_leads(client: httpx.AsyncClient, member: Member, query: str, *,
                     per_page: int, pages: int = 50) -> list[str]:
    """The ids of ``GET /api/v1/leads?<query>`` followed cursor by cursor to the end."""
    ids: list[str] = []
    cursor = None
    for _ in range(pages):
        url = f"/api/v1/leads?{query}&per_page={per_page}" + (
            f"&cursor={cursor}" if cursor else "")
        body = (await client.get(url, headers=member.headers)).json()
        ids += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("cursor walk did not end")
