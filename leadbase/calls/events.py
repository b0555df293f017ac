"""Applying provider events to a call, forward only, and what a finished call does.

Events are stored first (``call_events``, once per key: webhooks, the simulator's
callbacks and reconciliation all land there) and applied by the worker in the order they
happened. A call's status only moves forward along ``STATUS_ORDER``; a late or repeated
event may fill in what is still missing (a transcript that comes after the hang-up) but
never moves it back, and nothing changes a finished call's status.

When a call reaches a final status (:func:`finish`): a completed call logs a ``call``
activity on the lead (the one timeline; it moves ``last_contacted_at``), the dial task is
released and either retried after its outcome's delay or done with its last disposition
(after ``max_attempts``, or at once for an answered call), and a done task's disposition
may move the lead's status or stage (workspace settings, :mod:`leadbase.calls.settings`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.activities.schemas import ActivityCreate
from leadbase.auth.context import system_context
from leadbase.calls import settings as call_settings
from leadbase.calls.repository import calls as repository
from leadbase.calls.repository import tasks as tasks_repository
from leadbase.kit.errors import AppError
from leadbase.providers.voice.base import FINAL_STATUSES, STATUS_ORDER, CallEvent

log = logging.getLogger(__name__)

# Outcomes after which the lead was reached: the task is done whatever attempts remain.
REACHED = frozenset({"completed", "not_interested", "hung_up"})
DETAILS = ("duration_seconds", "transcript", "summary", "recording_url", "cost",
           "started_at", "ended_at")


def payload_of(event: CallEvent) -> dict[str, Any]:
    """What is kept of an event (JSON): its normalised fields."""
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value else None

    return {"external_id": event.external_id, "outcome": event.outcome,
            "duration_seconds": event.duration_seconds, "transcript": event.transcript,
            "summary": event.summary, "recording_url": event.recording_url,
            "cost": str(event.cost) if event.cost is not None else None,
            "started_at": iso(event.started_at), "ended_at": iso(event.ended_at),
            "error": event.raw.get("error") if isinstance(event.raw, dict) else None}


def _detail(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in ("started_at", "ended_at"):
        return datetime.fromisoformat(value)
    if key == "cost":
        return Decimal(value)
    return value


def merge(call: dict[str, Any], status: str, occurred_at: datetime,
          payload: dict[str, Any]) -> dict[str, Any]:
    """The changes one event makes to ``call`` (a dict of columns; ``call`` is updated in
    place too). The status moves forward only; an event at or ahead of the call's status
    sets details, any event may fill in a detail still missing."""
    changes: dict[str, Any] = {}
    current = call["status"]
    forward = (current not in FINAL_STATUSES
               and STATUS_ORDER.get(status, -1) >= STATUS_ORDER[current])
    if forward and status != current:
        changes["status"] = status
    for key in DETAILS:
        value = _detail(key, payload.get(key))
        if value is not None and (call.get(key) is None
                                  or (forward and call.get(key) != value)):
            changes[key] = value
    outcome = payload.get("outcome")
    if outcome and status in FINAL_STATUSES and (
            forward or (status == current and call.get("outcome") is None)):
        changes["outcome"] = outcome
    if payload.get("external_id") and call.get("external_id") is None:
        changes["external_id"] = payload["external_id"]
    if payload.get("error") and call.get("error") is None and status == "failed":
        changes["error"] = str(payload["error"])[:2000]
    if changes.get("status") in FINAL_STATUSES:
        changes["completed_at"] = occurred_at
    call.update(changes)
    return changes


async def apply_pending(session: AsyncSession, *, tenant_id: uuid.UUID,
                        call_id: uuid.UUID) -> str:
    """Apply the call's stored events not applied yet; what became of it."""
    call = await repository.lock_call(session, tenant_id=tenant_id, call_id=call_id)
    if call is None:
        return "missing"
    events = await repository.pending_events(session, tenant_id=tenant_id, call_id=call_id)
    if not events:
        return "nothing"
    was_final = call["status"] in FINAL_STATUSES
    changes: dict[str, Any] = {}
    for event in events:
        changes.update(merge(call, event["status"], event["occurred_at"], event["payload"]))
    if call["status"] in FINAL_STATUSES and not call.get("outcome"):
        changes["outcome"] = call["outcome"] = (
            "completed" if call["status"] == "completed" else "failed")
    await repository.update_call(session, tenant_id=tenant_id, call_id=call_id,
                                 values=changes)
    await repository.mark_processed(session, tenant_id=tenant_id,
                                    ids=[e["id"] for e in events])
    if call["status"] in FINAL_STATUSES and not was_final:
        await finish(session, tenant_id=tenant_id, call=call)
        return str(call["status"])
    return "updated"


def retry_delay(call: dict[str, Any], outcome: str) -> timedelta:
    minutes = (call.get("retry_delays") or {}).get(outcome) or call["retry_delay_minutes"]
    return timedelta(minutes=int(minutes))


async def finish(session: AsyncSession, *, tenant_id: uuid.UUID, call: dict[str, Any]) -> None:
    """What a call that just reached its final status does (see the module's text)."""
    ctx = system_context(tenant_id)
    outcome = call["outcome"] or "failed"
    now = datetime.now(UTC)
    if call["status"] == "completed":
        ended = min(call.get("ended_at") or now, now)
        try:
            activity = await activities.create(session, ctx=ctx, body=ActivityCreate(
                type="call", lead_id=call["lead_id"], description=call.get("summary"),
                attributes={"duration_seconds": call.get("duration_seconds"),
                            "outcome": outcome, "direction": "outbound"},
                completed_at=ended))
            await repository.update_call(session, tenant_id=tenant_id, call_id=call["id"],
                                         values={"activity_id": activity["id"]})
        except AppError as exc:  # the lead was deleted since the call was placed
            log.info("call %s: no activity (%s)", call["id"], exc.code)
    task_id = call.get("dial_task_id")
    if task_id is None:
        return
    task = await tasks_repository.get_task(session, scope=_everyone(tenant_id),
                                           task_id=task_id, for_update=True)
    if task is None or task["active_call_id"] != call["id"]:
        return
    values: dict[str, Any] = {"active_call_id": None, "last_outcome": outcome}
    done = outcome in REACHED or task["attempts"] >= call["max_attempts"] \
        or task["status"] == "done"
    if done:
        values.update(status="done", disposition=_disposition(outcome))
    else:
        values.update(status="in_progress", next_attempt_at=now + retry_delay(call, outcome))
    await tasks_repository.update_task(session, tenant_id=tenant_id, task_id=task_id,
                                       values=values)
    if done:
        await call_settings.apply_disposition(session, ctx=ctx, lead_id=call["lead_id"],
                                              disposition=values["disposition"])


def _disposition(outcome: str) -> str:
    known = {"completed", "no_answer", "not_interested", "hung_up", "busy", "voicemail",
             "failed", "do_not_call"}
    return outcome if outcome in known else "failed"


def _everyone(tenant_id: uuid.UUID) -> Any:
    from leadbase.leads.repository import Readable

    return Readable(tenant_id)
