"""Who reacts to domain events. Later capabilities (webhooks, campaign triggers, scoring)
register here; the outbox drain calls every handler for each event type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, list[Handler]] = {}


def on(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _handlers.setdefault(event_type, []).append(handler)
        return handler

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, ()), *_handlers.get("*", ())]
