"""The document's rate limits, per token: 100 requests a minute (standard), 10 for bulk
operations (``import``, ``bulk-update``, ``scoring/recalculate-all``), 5 for exports
(``/leads/export``, ``/activities/export``). Each request counts in its own category
only. "Per token" is per credential: an API key, or a user (a user's access tokens share
one quota, so signing in again does not reset it). On by default; the settings
``LEADBASE_CRM_RATE_LIMITS`` (on/off) and ``LEADBASE_CRM_RATE_LIMIT_STANDARD``,
``_BULK``, ``_EXPORT`` (the ``limits`` notation, e.g. ``100/minute``) change them. Counted
by the application's limiter (``leadbase.kit.ratelimit``: in memory, or Redis when
configured); over the limit: 429 with ``Retry-After`` and the document's body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import Depends, Request

from leadbase.auth.context import Principal
from leadbase.auth.deps import get_principal
from leadbase.config import Settings
from leadbase.kit.ratelimit import RateLimiter

Category = Literal["standard", "bulk", "export"]
F = TypeVar("F", bound=Callable[..., object])
ATTRIBUTE = "crm_limit"


def category(kind: Category) -> Callable[[F], F]:
    """Mark an endpoint as a bulk operation or an export (the default: standard)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, kind)
        return endpoint

    return mark


def spec(settings: Settings, kind: Category) -> str:
    return {"standard": settings.crm_rate_limit_standard,
            "bulk": settings.crm_rate_limit_bulk,
            "export": settings.crm_rate_limit_export}[kind]


async def rate_limit(request: Request,
                     principal: Annotated[Principal, Depends(get_principal)]) -> None:
    """Count the request in its category (an application dependency of the profile)."""
    settings: Settings = request.app.state.settings
    if not settings.crm_rate_limits:
        return
    kind: Category = getattr(request.scope.get("endpoint"), ATTRIBUTE, "standard")
    limiter: RateLimiter = request.app.state.limiter
    ident = str(principal.api_key_id or principal.user_id)
    quota = await limiter.hit(spec(settings, kind), "crm", kind, ident,
                              detail="Rate limit exceeded.")
    request.state.rate_quota = quota  # the RateLimit-* headers show this quota
