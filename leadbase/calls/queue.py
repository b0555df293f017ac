"""Rules for the dial queue: enqueue one lead, many, a segment (one INSERT ... SELECT
over the rule language's SQL), read, change, cancel, and call now.

Visibility: a dial task is reachable when its lead is (``leads.repository.readable``): an
agent enqueues, reads and calls its own leads only. Errors: ``DIAL_TASK_NOT_FOUND`` 404,
``DIAL_TASK_EXISTS`` 409 (the lead is already queued for the agent),
``DIAL_TASK_LEAD_NOT_FOUND`` 422, ``LEAD_HAS_NO_PHONE`` 422, ``CALL_AGENT_NOT_FOUND`` 422
(naming ``agent_id``), ``DO_NOT_CALL`` 409 (call now to a number the law forbids).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.calls import agents, scheduler
from leadbase.calls.repository import agents as agents_repository
from leadbase.calls.repository import calls as calls_repository
from leadbase.calls.repository import tasks as repository
from leadbase.calls.schemas import DialTaskBulk, DialTaskCreate, DialTaskUpdate
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import decode_cursor
from leadbase.leads import repository as leads_repository
from leadbase.leads.repository import LeadSet, readable
from leadbase.segments import service as segments_service
from leadbase.tenants import service as tenants_service


def task_not_found() -> NotFound:
    return NotFound("Dial task not found.", code="DIAL_TASK_NOT_FOUND")


def _invalid(code: str, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


async def _agent(session: AsyncSession, ctx: Context, agent_id: uuid.UUID) -> dict[str, Any]:
    try:
        return await agents.get_agent(session, ctx=ctx, agent_id=agent_id)
    except NotFound:
        raise _invalid("CALL_AGENT_NOT_FOUND", "agent_id",
                       "no such call agent in this workspace") from None


async def enqueue(session: AsyncSession, *, ctx: Context, body: DialTaskCreate,
                  source: str = "api") -> dict[str, Any]:
    """Queue one lead (the caller reads it) for an agent."""
    await _agent(session, ctx, body.agent_id)
    lead = await leads_repository.get(session, scope=readable(ctx), lead_id=body.lead_id)
    if lead is None:
        raise _invalid("DIAL_TASK_LEAD_NOT_FOUND", "lead_id", "no such lead")
    if not lead["phone"]:
        raise _invalid("LEAD_HAS_NO_PHONE", "lead_id", "the lead has no phone number")
    task_id = await repository.insert_task(session, tenant_id=ctx.tenant_id,
                                           agent_id=body.agent_id, lead_id=body.lead_id,
                                           due_at=body.due_at, source=source)
    if task_id is None:
        raise Conflict("The lead is already queued for this agent.", code="DIAL_TASK_EXISTS")
    await audit.record(session, ctx=ctx, action="dial_task.created", entity_type="dial_task",
                       entity_id=task_id, changes={"agent_id": str(body.agent_id),
                                                   "lead_id": str(body.lead_id)})
    return await get_task(session, ctx=ctx, task_id=task_id)


async def enqueue_many(session: AsyncSession, *, ctx: Context,
                       body: DialTaskBulk) -> dict[str, Any]:
    """Queue the given leads, or a segment's, for an agent, in one statement; the
    readable set bounds both (an agent queues its own leads only)."""
    await _agent(session, ctx, body.agent_id)
    if body.segment_id is not None:
        leads = await segments_service.segment_leads(session, ctx=ctx,
                                                     segment_id=body.segment_id)
        source = "segment"
    else:
        assert body.lead_ids is not None
        ids = sorted(set(body.lead_ids))
        leads = LeadSet(scope=readable(ctx),
                        extra=(leads_repository.T.c.id.in_(ids),))
        source = "api"
    conditions = leads_repository.conditions(leads)
    added = await repository.insert_from_leads(session, tenant_id=ctx.tenant_id,
                                               agent_id=body.agent_id, conditions=conditions,
                                               due_at=body.due_at, source=source)
    asked = len(set(body.lead_ids)) if body.lead_ids is not None else added
    await audit.record(session, ctx=ctx, action="dial_task.bulk_created",
                       entity_type="call_agent", entity_id=body.agent_id,
                       changes={"enqueued": added, "segment_id": str(body.segment_id)
                                if body.segment_id else None})
    return {"agent_id": body.agent_id, "enqueued": added, "skipped": max(0, asked - added)}


async def enqueue_new_lead(session: AsyncSession, *, tenant_id: uuid.UUID,
                           lead_id: uuid.UUID) -> int:
    """A new lead, for every active agent that takes leads on creation (its phone
    permitting); how many tasks."""
    from leadbase.leads.repository import Readable

    agent_ids = await agents_repository.agents_on_lead_create(session, tenant_id=tenant_id)
    added = 0
    for agent_id in agent_ids:
        added += await repository.insert_from_leads(
            session, tenant_id=tenant_id, agent_id=agent_id,
            conditions=leads_repository.conditions(LeadSet(
                scope=Readable(tenant_id), extra=(leads_repository.T.c.id == lead_id,))),
            due_at=None, source="lead_create")
    return added


async def get_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any]:
    row = await repository.get_task(session, scope=readable(ctx), task_id=task_id,
                                    for_update=for_update)
    if row is None:
        raise task_not_found()
    return row


async def list_tasks(session: AsyncSession, *, ctx: Context, f: dict[str, Any],
                     per_page: int, cursor: str | None
                     ) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, agents.LIST_SORT) if cursor else None
    rows = await repository.list_tasks(session, scope=readable(ctx), f=f, limit=per_page + 1,
                                       after=after)
    return agents.page_of(rows, per_page)


async def update_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                      body: DialTaskUpdate, expected_version: int | None) -> dict[str, Any]:
    """Reschedule (``due_at``), close (``status`` done with a ``disposition``) or reopen
    (``status`` new) a task."""
    current = await get_task(session, ctx=ctx, task_id=task_id, for_update=True)
    check_version(current, expected_version, what="dial task")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    values: dict[str, Any] = {}
    if "due_at" in patch:
        values["next_attempt_at"] = patch["due_at"] or datetime.now(UTC)
    if patch.get("status") == "done":
        values.update(status="done", disposition=patch.get("disposition")
                      or current["disposition"])
    elif patch.get("status") in ("new", "in_progress"):
        values.update(status=patch["status"], disposition=None)
    elif "disposition" in patch:
        values["disposition"] = patch["disposition"]
    await repository.update_task(session, tenant_id=ctx.tenant_id, task_id=task_id,
                                 values=values)
    return await get_task(session, ctx=ctx, task_id=task_id)


async def delete_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                      expected_version: int | None) -> None:
    current = await get_task(session, ctx=ctx, task_id=task_id, for_update=True)
    check_version(current, expected_version, what="dial task")
    await repository.soft_delete_task(session, tenant_id=ctx.tenant_id, task_id=task_id)
    await audit.record(session, ctx=ctx, action="dial_task.deleted", entity_type="dial_task",
                       entity_id=task_id, changes={})


async def call_now(session: AsyncSession, *, ctx: Context,
                   task_id: uuid.UUID) -> dict[str, Any]:
    """Place the task's call now, whatever its schedule, within the law and the agent's
    concurrency: due now (a done task reopens), then claimed as the tick would. Outside
    the legal window it moves to the next allowed minute (``placed`` false)."""
    task = await get_task(session, ctx=ctx, task_id=task_id, for_update=True)
    if task["active_call_id"] is not None:
        call = await calls_repository.get_call(session, scope=readable(ctx),
                                               call_id=task["active_call_id"])
        return {"placed": True, "reason": "already_calling", "call": call, "task": task}
    values: dict[str, Any] = {"next_attempt_at": datetime.now(UTC)}
    if task["status"] == "done":
        values.update(status="new", disposition=None)
    await repository.update_task(session, tenant_id=ctx.tenant_id, task_id=task_id,
                                 values=values)
    locked = await repository.lock_agents(session, tenant_id=ctx.tenant_id,
                                          agent_id=task["agent_id"])
    if not locked:
        return {"placed": False, "reason": "agent_inactive", "call": None,
                "task": await get_task(session, ctx=ctx, task_id=task_id)}
    fallback = (await tenants_service.defaults(session, tenant_id=ctx.tenant_id)).timezone
    result = await scheduler.claim_agent(session, tenant_id=ctx.tenant_id, agent=locked[0],
                                         now=datetime.now(UTC),
                                         fallback_zone=fallback or "UTC", task_id=task_id)
    reason = result.reasons.get(task_id)
    if reason == "do_not_call":
        raise Conflict("The lead may not be called (do-not-contact or on the do-not-call "
                       "list); the scheduler closes its task.", code="DO_NOT_CALL")
    call = None
    if result.placed:
        call = await calls_repository.get_call(session, scope=readable(ctx),
                                               call_id=result.placed[0])
    return {"placed": bool(result.placed), "reason": reason, "call": call,
            "task": await get_task(session, ctx=ctx, task_id=task_id)}
