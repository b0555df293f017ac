"""Placing a queued call with its agent's provider (the ``calls_place_call`` job).

1. In one transaction: lock the queued call and mark it as being placed (``placed_at``),
   so a second run of the job never dials again (a call whose placing was interrupted is
   left to reconciliation). The law is checked again at this moment: a call the clock
   has pushed out of the window since the tick is undone (its task due at the next
   allowed minute, the attempt not counted).
2. Outside any transaction: ``provider.place_call`` (its HTTP client retries timeouts,
   5xx and 429; one more round here after a long ``Retry-After``).
3. In a second transaction: the external id, and the provider's first status as an
   event; a failure is a ``failed`` event (same path as a webhook). The simulator's
   callbacks are deferred as delayed jobs that go through the webhook ingestion.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from datetime import UTC, datetime

import orjson

from leadbase.calls import agents, hours, providers
from leadbase.calls import ingest as ingestion
from leadbase.calls.repository import calls as repository
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.providers.voice.base import CallEvent, CallRequest, PlacedCall, ProviderError
from leadbase.worker.defer import defer

log = logging.getLogger(__name__)

DELIVER_JOB = "calls_deliver_webhook"
QUEUE = "calls"
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 30.0
JOB_RETRIES = 1


async def _dial(settings: Settings, provider_name: str, request: CallRequest) -> PlacedCall:
    """``place_call``, once more after a retryable error (the HTTP clients retry
    timeouts, 5xx and 429 themselves, ``Settings.voice_retries`` times: this round is for
    a provider that asked for a longer ``Retry-After`` than they wait), never again once
    the request may have reached the provider (``maybe_placed``: reconciliation asks)."""
    provider = providers.get(provider_name, settings)
    attempt = 0
    while True:
        try:
            return await provider.place_call(request)
        except ProviderError as exc:
            if not exc.retryable or exc.maybe_placed or attempt >= JOB_RETRIES:
                raise
            attempt += 1
            wait = min(MAX_WAIT_SECONDS, max(exc.retry_after or 0.0,
                                             BACKOFF_SECONDS * 2 ** (attempt - 1)))
            log.info("call %s: %s, retry %d in %.1f s", request.call_id, exc, attempt, wait)
            await asyncio.sleep(wait)


async def place(db: Database, settings: Settings, *, tenant_id: uuid.UUID,
                call_id: uuid.UUID) -> str:
    """Place one queued call (safe to run twice); what happened."""
    async with db.transaction(tenant_id) as session:
        call = await repository.call_to_place(session, tenant_id=tenant_id, call_id=call_id)
        if call is None:
            return "skipped"
        now = datetime.now(UTC)
        agent_hours = hours.parse_hours(call["business_hours"] or {})
        zone = call["callee_timezone"] or call["agent_timezone"]
        if not hours.is_allowed(now, agent_hours, call["agent_timezone"], zone):
            try:
                later = hours.next_allowed(now, agent_hours, call["agent_timezone"], zone)
            except hours.NoWindow:
                later = hours.ceil_minute(now) + hours.HORIZON
            await repository.unplace(session, tenant_id=tenant_id, call_id=call_id,
                                     task_id=call["dial_task_id"], next_at=later)
            return "outside_calling_hours"
        provider_settings = agents.provider_settings(settings, {
            "settings": call["settings"], "secrets": call["secrets"],
            "webhook_secret": call["webhook_secret"]})
    request = CallRequest(
        call_id=call_id, tenant_id=tenant_id, to_number=call["to_number"],
        settings=provider_settings, lead_name=call["lead_name"],
        webhook_url=agents.webhook_url(settings, call["provider"]),
        variables={"first_name": call["first_name"] or "", "call_id": str(call_id)})
    try:
        placed = await _dial(settings, call["provider"], request)
    except ProviderError as exc:
        log.warning("call %s not placed: %s", call_id, exc)
        if exc.maybe_placed:
            return "unknown"  # the call may exist: reconciliation asks the provider
        await ingestion.record_events(db, tenant_id=tenant_id, call_id=call_id,
                                      provider=call["provider"], events=[CallEvent(
                                          external_id="", event_id=f"place-failed:{call_id}",
                                          status="failed", occurred_at=datetime.now(UTC),
                                          call_id=call_id, outcome="failed",
                                          raw={"error": str(exc)})])
        return "failed"
    async with db.transaction(tenant_id) as session:
        await repository.set_external_id(session, tenant_id=tenant_id, call_id=call_id,
                                         external_id=placed.external_id)
        await ingestion.store(session, tenant_id=tenant_id, call_id=call_id,
                              provider=call["provider"], events=[CallEvent(
                                  external_id=placed.external_id,
                                  event_id=f"placed:{call_id}",
                                  status=placed.status if placed.status != "queued"
                                  else "initiated",
                                  occurred_at=datetime.now(UTC), call_id=call_id)])
        for delivery in placed.deliveries:
            await defer(session, DELIVER_JOB, queue=QUEUE,
                        schedule_in={"seconds": max(0, round(delivery.delay_seconds))},
                        provider=call["provider"], tenant_id=str(tenant_id),
                        headers=orjson.dumps(dict(delivery.headers)).decode(),
                        body=base64.b64encode(delivery.body).decode())
    return "placed"
