"""The dial queue (``/api/v1/dial-tasks``), call records (``/api/v1/calls``) and the
providers' webhooks (``/api/v1/calls/webhooks/voice/{provider}``).

Who may: anyone reads; agents and above queue, change and call; an agent reaches the
tasks and calls of its own leads only (another's are 404). The webhook route has no user
authentication: the provider's secret or signature is its credential."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.calls import ingest, queue, records
from leadbase.calls.schemas import (
    BulkResult,
    CallMetrics,
    CallNowResult,
    CallPage,
    CallRead,
    DialTaskBulk,
    DialTaskCreate,
    DialTaskPage,
    DialTaskRead,
    DialTaskUpdate,
)
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import DEFAULT_PER_PAGE
from leadbase.models.calls import CALL_STATUSES, DISPOSITIONS, TASK_STATUSES

router = APIRouter(tags=["calls"])
TASKS = "/dial-tasks"
ONE = TASKS + "/{task_id:uuid}"
PerPage = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated values")]
OUTCOMES = ("completed", "no_answer", "busy", "voicemail", "failed", "hung_up",
            "not_interested")


def _csv(field: str, value: str | None, allowed: tuple[str, ...] | None = None
         ) -> tuple[str, ...]:
    items = tuple(v.strip() for v in (value or "").split(",") if v.strip())
    if allowed is not None and any(i not in allowed for i in items):
        raise ValidationFailed(f"Invalid filter {field}.", code="INVALID_FILTER", errors=[
            {"field": field, "message": f"one of {', '.join(allowed)}"}])
    return items


def _uuids(field: str, value: str | None) -> tuple[uuid.UUID, ...]:
    try:
        return tuple(uuid.UUID(v) for v in _csv(field, value))
    except ValueError:
        raise ValidationFailed(f"Invalid filter {field}.", code="INVALID_FILTER", errors=[
            {"field": field, "message": "not a list of UUIDs"}]) from None


def _task(row: dict[str, Any], status: int = 200) -> Response:
    return json_response(DialTaskRead.model_validate(row), status,
                         headers={"ETag": etag(row["version"])})


@router.post(TASKS, status_code=201, response_model=DialTaskRead)
async def enqueue(request: Request, body: DialTaskCreate, scope: Scope) -> Response:
    """Queue a lead (with a phone) for an agent, due at ``due_at`` (default now). 409
    ``DIAL_TASK_EXISTS`` when it is queued for that agent already. Accepts
    ``Idempotency-Key``."""

    async def work() -> Response:
        return _task(await queue.enqueue(scope.session, ctx=scope.ctx, body=body), 201)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post(TASKS + "/bulk", response_model=BulkResult)
async def enqueue_many(request: Request, body: DialTaskBulk, scope: Scope) -> Response:
    """Queue many leads (``lead_ids``, up to 1,000) or a segment's (``segment_id``) for an
    agent, in one statement; leads without a phone or queued already are skipped.
    Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        return json_response(BulkResult.model_validate(
            await queue.enqueue_many(scope.session, ctx=scope.ctx, body=body)))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get(TASKS, response_model=DialTaskPage)
async def list_tasks(scope: Scope, agent_id: CSV = None, status: CSV = None,
                     disposition: CSV = None, lead_id: CSV = None,
                     due_before: datetime | None = None,
                     per_page: PerPage = DEFAULT_PER_PAGE, cursor: Cursor = None) -> Response:
    """Dial tasks, newest first (keyset ``cursor``)."""
    f = {"agent_ids": _uuids("agent_id", agent_id),
         "statuses": _csv("status", status, TASK_STATUSES),
         "dispositions": _csv("disposition", disposition, DISPOSITIONS),
         "lead_ids": _uuids("lead_id", lead_id), "due_before": due_before}
    rows, next_cursor = await queue.list_tasks(scope.session, ctx=scope.ctx, f=f,
                                               per_page=per_page, cursor=cursor)
    return json_response(DialTaskPage(data=[DialTaskRead.model_validate(r) for r in rows],
                                      total=None, page=None, per_page=per_page,
                                      next_cursor=next_cursor))


@router.get(ONE, response_model=DialTaskRead)
async def get_task(task_id: uuid.UUID, scope: Scope) -> Response:
    return _task(await queue.get_task(scope.session, ctx=scope.ctx, task_id=task_id))


@router.patch(ONE, response_model=DialTaskRead)
async def update_task(task_id: uuid.UUID, body: DialTaskUpdate, scope: Scope,
                      if_match: IfMatch) -> Response:
    """Reschedule (``due_at``), close (``status: done`` with a ``disposition``) or reopen
    a task. Optional ``If-Match``."""
    return _task(await queue.update_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                         body=body, expected_version=if_match))


@router.delete(ONE, status_code=204)
async def delete_task(task_id: uuid.UUID, scope: Scope, if_match: IfMatch) -> Response:
    await queue.delete_task(scope.session, ctx=scope.ctx, task_id=task_id,
                            expected_version=if_match)
    return Response(status_code=204)


@router.post(ONE + "/call-now", response_model=CallNowResult)
async def call_now(task_id: uuid.UUID, scope: Scope) -> Response:
    """Call now, whatever the schedule, never against the law: outside the agent's hours
    or 08:00-21:00 callee time the task moves to the next allowed minute (``placed``
    false); a do-not-contact lead or a number on the do-not-call list is 409
    ``DO_NOT_CALL``."""
    found = await queue.call_now(scope.session, ctx=scope.ctx, task_id=task_id)
    return json_response(CallNowResult.model_validate(found))


# ------------------------------------------------------------------ calls

def _filter(agent_id: str | None, outcome: str | None, status: str | None,
            lead_id: uuid.UUID | None, start_date: date | None, end_date: date | None,
            created_after: datetime | None, created_before: datetime | None,
            q: str | None) -> dict[str, Any]:
    start = created_after or (datetime.combine(start_date, time(0), UTC)
                              if start_date else None)
    end = created_before or (datetime.combine(end_date + timedelta(days=1), time(0), UTC)
                             if end_date and end_date < date.max else None)
    return {"agent_ids": _uuids("agent_id", agent_id),
            "outcomes": _csv("outcome", outcome, OUTCOMES),
            "statuses": _csv("status", status, CALL_STATUSES), "lead_id": lead_id,
            "start": start, "end": end, "q": q}


Q = Annotated[str | None, Query(min_length=1, max_length=200,
                                description="Part of the lead's name or phone, or of the "
                                            "agent's name")]


@router.get("/calls", response_model=CallPage)
async def list_calls(request: Request, scope: Scope, agent_id: CSV = None, outcome: CSV = None,
                     status: CSV = None, lead_id: uuid.UUID | None = None,
                     start_date: date | None = None, end_date: date | None = None,
                     created_after: datetime | None = None,
                     created_before: datetime | None = None, q: Q = None,
                     per_page: PerPage = DEFAULT_PER_PAGE, cursor: Cursor = None,
                     page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """Call history, newest first: ``cursor`` (keyset) or ``page``; ``start_date`` and
    ``end_date`` are whole UTC days (``created_after``/``created_before`` moments)."""
    f = _filter(agent_id, outcome, status, lead_id, start_date, end_date, created_after,
                created_before, q)
    rows, next_cursor, total = await records.history(
        scope.session, ctx=scope.ctx, f=f, per_page=per_page, cursor=cursor, page=page,
        count_cap=request.app.state.settings.count_exact_limit)
    return json_response(CallPage(data=[CallRead.model_validate(r) for r in rows],
                                  total=total, page=None if cursor else page,
                                  per_page=per_page, next_cursor=next_cursor))


@router.get("/calls/metrics", response_model=CallMetrics)
async def call_metrics(scope: Scope, agent_id: CSV = None, start_date: date | None = None,
                       end_date: date | None = None, created_after: datetime | None = None,
                       created_before: datetime | None = None) -> Response:
    """Totals, pickup rate, attempts per lead, active agents, by callee-local hour and
    by agent, over the calls the filters select."""
    f = _filter(agent_id, None, None, None, start_date, end_date, created_after,
                created_before, None)
    return json_response(CallMetrics.model_validate(
        await records.metrics(scope.session, ctx=scope.ctx, f=f)))


@router.get("/calls/{call_id:uuid}", response_model=CallRead)
async def get_call(call_id: uuid.UUID, scope: Scope) -> Response:
    return json_response(CallRead.model_validate(
        await records.get_call(scope.session, ctx=scope.ctx, call_id=call_id)))


@router.post("/calls/webhooks/voice/{provider}", status_code=202,
             responses={401: {"description": "WEBHOOK_SIGNATURE_INVALID"},
                        404: {"description": "CALL_NOT_FOUND, VOICE_PROVIDER_NOT_FOUND"}})
async def voice_webhook(provider: str, request: Request) -> Response:
    """A voice provider's status callback (no user authentication: its secret or
    signature is checked with the agent's webhook secret). Idempotent; the events are
    applied by the worker."""
    done = await ingest.ingest(request.app.state.db, request.app.state.settings,
                               provider=provider, headers=dict(request.headers),
                               body=await request.body())
    return json_response({"received": done.received, "new": done.new}, 202)
