"""Who is asking, and in which workspace: passed to every service call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

ROLE_RANK = {"viewer": 0, "agent": 1, "manager": 2, "admin": 3, "owner": 4, "superadmin": 5}


@dataclass(frozen=True)
class Principal:
    role: str
    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    # A signed-in user's session (refresh-token family); None for API keys and jobs.
    session_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"read", "write"}))

    @property
    def is_superadmin(self) -> bool:
        return self.role == "superadmin"

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


@dataclass(frozen=True)
class Context:
    """The actor and workspace of one unit of work (a request, a job, a CLI command)."""

    tenant_id: uuid.UUID
    principal: Principal
    request_id: str | None = None

    @property
    def actor_user_id(self) -> uuid.UUID | None:
        return self.principal.user_id

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def sees_only_own_leads(self) -> bool:
        return self.principal.role == "agent"


def system_context(tenant_id: uuid.UUID, request_id: str | None = None) -> Context:
    """A context for work the platform does itself (CLI, worker, demo data)."""
    return Context(tenant_id=tenant_id, principal=Principal(role="owner", tenant_id=tenant_id),
                   request_id=request_id)


def actor_of(ctx: Context) -> dict[str, Any]:
    """Who acts, as a job stores it to act the same way later (``context_of``)."""
    p = ctx.principal
    return {"role": p.role, "user_id": str(p.user_id) if p.user_id else None,
            "api_key_id": str(p.api_key_id) if p.api_key_id else None}


def context_of(tenant_id: uuid.UUID, actor: dict[str, Any]) -> Context:
    """The context of a stored ``actor_of`` (a job run by the worker)."""
    def uid(key: str) -> uuid.UUID | None:
        return uuid.UUID(actor[key]) if actor.get(key) else None

    return Context(tenant_id=tenant_id, principal=Principal(
        role=actor.get("role") or "viewer", tenant_id=tenant_id, user_id=uid("user_id"),
        api_key_id=uid("api_key_id")))
