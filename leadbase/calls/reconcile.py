"""Reconciliation: no call stays unfinished, so no dial task stays in progress forever.

A call without a final status ``voice_reconcile_after_seconds`` after it was queued is
asked for (``provider.fetch_call``); what the provider answers is stored as an event
(the webhook path), and a call the provider knows nothing final about is closed as
``failed`` by an event of its own. The events are applied by the usual job."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from leadbase.calls import agents, ingest, providers
from leadbase.calls.repository import calls as repository
from leadbase.config import Settings
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.providers.voice.base import FINAL_STATUSES, CallEvent, ProviderError

log = logging.getLogger(__name__)
BATCH = 200


async def reconcile_workspace(db: Database, settings: Settings, *, tenant_id: uuid.UUID,
                              now: datetime) -> int:
    before = now - timedelta(seconds=settings.voice_reconcile_after_seconds)
    async with db.transaction(tenant_id) as session:
        stale = await repository.stale_calls(session, tenant_id=tenant_id, before=before,
                                             limit=BATCH)
    closed = 0
    for call in stale:
        found: CallEvent | None = None
        if call["external_id"]:
            try:
                found = await providers.get(call["provider"], settings).fetch_call(
                    call["external_id"], agents.provider_settings(settings, {
                        "settings": call["settings"], "secrets": call["secrets"],
                        "webhook_secret": call["webhook_secret"]}))
            except ProviderError as exc:
                log.info("call %s: provider unreachable (%s)", call["id"], exc)
        events = [found] if found is not None else []
        if found is None or found.status not in FINAL_STATUSES:
            events.append(CallEvent(
                external_id=call["external_id"] or "", event_id=f"reconciled:{call['id']}",
                status="failed", occurred_at=now, call_id=call["id"], outcome="failed",
                raw={"error": "no final status from the provider after "
                              f"{settings.voice_reconcile_after_seconds} s"}))
        await ingest.record_events(db, tenant_id=tenant_id, call_id=call["id"],
                                   provider=call["provider"], events=events)
        closed += 1
    return closed


async def reconcile(db: Database, settings: Settings, *, now: datetime | None = None) -> int:
    """Every workspace's stale calls; how many were settled."""
    now = now or datetime.now(UTC)
    async with db.transaction(None, system=True) as session:
        tenants = [r["id"] for r in await raw.fetch_all(
            session, "SELECT id FROM tenants ORDER BY id", ())]
    total = 0
    for tenant_id in tenants:
        total += await reconcile_workspace(db, settings, tenant_id=tenant_id, now=now)
    return total
