"""Provider webhooks in: one ingestion path for HTTP webhooks, the simulator's delayed
callbacks, the placing job's own first status and reconciliation.

:func:`ingest` (an unauthenticated request):

1. the provider parses the body into normalised events (400 ``INVALID_WEBHOOK``);
2. each event's call is routed to its workspace through ``lb_voice_call_route`` (the one
   cross-workspace lookup, migration 0026; 404 ``CALL_NOT_FOUND``);
3. inside that workspace's scoped transaction the body is verified with the agent's
   webhook secret (``provider.verify_webhook``; 401 ``WEBHOOK_SIGNATURE_INVALID``, nothing
   stored);
4. each event is stored once by its key (the same event five times is one row) and, when
   one is new, an ``calls_process_events`` job is queued for the call (one per call
   while queued). Everything else (status, activity, retries) is the job's: the request
   stays short.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.calls import crypto, events, providers
from leadbase.calls.repository import calls as repository
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.kit.errors import AppError, NotFound, Unauthorized
from leadbase.models.calls import PROVIDERS
from leadbase.providers.voice.base import CallEvent, UnknownProviderError
from leadbase.worker.defer import defer

PROCESS_JOB = "calls_process_events"
QUEUE = "calls"


@dataclass
class Ingested:
    received: int
    new: int


def invalid_webhook(detail: str) -> AppError:
    return AppError(detail, code="INVALID_WEBHOOK", status=400)


async def store(session: AsyncSession, *, tenant_id: uuid.UUID, call_id: uuid.UUID,
                provider: str, events: list[CallEvent]) -> int:
    """Store ``events`` of one call (each once) and queue their processing; how many
    were new."""
    new = 0
    for event in events:
        if await repository.insert_event(
                session, tenant_id=tenant_id, call_id=call_id, provider=provider,
                event_key=event.event_id, status=event.status,
                occurred_at=event.occurred_at, payload=_payload(event)):
            new += 1
    if new:
        await defer(session, PROCESS_JOB, queue=QUEUE,
                    queueing_lock=f"{PROCESS_JOB}:{call_id}", tenant_id=str(tenant_id),
                    call_id=str(call_id))
    return new


def _payload(event: CallEvent) -> dict[str, object]:
    return events.payload_of(event)


async def record_events(db: Database, *, tenant_id: uuid.UUID, call_id: uuid.UUID,
                        provider: str, events: list[CallEvent]) -> int:
    """:func:`store` in a transaction of its own (the worker's events)."""
    async with db.transaction(tenant_id) as session:
        return await store(session, tenant_id=tenant_id, call_id=call_id, provider=provider,
                           events=events)


async def ingest(db: Database, settings: Settings, *, provider: str,
                 headers: Mapping[str, str], body: bytes) -> Ingested:
    """One webhook delivery (see the module's text)."""
    try:
        if provider not in PROVIDERS:
            raise UnknownProviderError(provider)
        client = providers.get(provider, settings)
    except UnknownProviderError:
        raise NotFound(f"No voice provider '{provider}'.",
                       code="VOICE_PROVIDER_NOT_FOUND") from None
    try:
        parsed = client.parse_webhook(body)
    except ValueError as exc:
        raise invalid_webhook(f"The webhook body cannot be read: {exc}") from None
    if not parsed:
        return Ingested(received=0, new=0)
    routes: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID], list[CallEvent]] = {}
    async with db.transaction(None) as session:
        for event in parsed:
            found = await repository.route(session, provider=provider, call_id=event.call_id,
                                           external_id=event.external_id or None)
            if found is None:
                raise NotFound("No such call.", code="CALL_NOT_FOUND")
            routes.setdefault(found, []).append(event)
    new = 0
    for (tenant_id, call_id, agent_id), found_events in routes.items():
        async with db.transaction(tenant_id) as session:
            token = await repository.webhook_secret(session, tenant_id=tenant_id,
                                                    agent_id=agent_id)
            secret = crypto.decrypt(settings, token) if token else None
            if secret is None or not client.verify_webhook(headers, body, secret):
                raise Unauthorized("The webhook's secret or signature does not match.",
                                   code="WEBHOOK_SIGNATURE_INVALID")
            new += await store(session, tenant_id=tenant_id, call_id=call_id,
                               provider=provider, events=found_events)
    return Ingested(received=len(parsed), new=new)


async def process(db: Database, *, tenant_id: uuid.UUID, call_id: uuid.UUID) -> str:
    """Apply a call's stored events (the ``calls_process_events`` job)."""
    async with db.transaction(tenant_id) as session:
        return await events.apply_pending(session, tenant_id=tenant_id, call_id=call_id)
