"""Tasks (``/api/v1/tasks``) and a listing's tasks (``/api/v1/listings/{id}/tasks``).

A task is about a lead (and optionally a listing); who may read or change the lead may
read or change its tasks (agents: their own leads'). Viewers read.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, Scope
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params
from leadbase.kit.schemas import Timestamp
from leadbase.listings import service as listings_service
from leadbase.models.tasks import TASK_PRIORITIES, TASK_STATUSES
from leadbase.tasks import service
from leadbase.tasks.repository import TaskFilter
from leadbase.tasks.schemas import (
    ReorderResult,
    TaskCreate,
    TaskMove,
    TaskPage,
    TaskRead,
    TaskReorder,
    TaskUpdate,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])
listing_tasks_router = APIRouter(prefix="/listings/{listing_id}/tasks", tags=["tasks"])

CSV = Annotated[str | None, Query(max_length=2000, description="Comma-separated values")]
SORT = Annotated[str | None, Query(max_length=200, description=(
    "position (default), due_at, created_at, updated_at, status, title, priority, number, "
    "lead_name; '-' for descending; ties by id"))]


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _bad(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid filter {field}: {message}.", code="INVALID_FILTER",
                            errors=[{"field": field, "message": message}])


def _uuids(field: str, value: str | None) -> tuple[uuid.UUID, ...]:
    try:
        return tuple(uuid.UUID(v) for v in _csv(value) if v != "none")
    except ValueError:
        raise _bad(field, "not a list of UUIDs") from None


def _choices(field: str, value: str | None, allowed: tuple[str, ...]) -> tuple[str, ...]:
    values = _csv(value)
    if any(v not in allowed for v in values):
        raise _bad(field, f"one of {', '.join(allowed)}")
    return values


async def listing_task_filter(
    status: CSV = None, lead_id: CSV = None,
    assignee_id: Annotated[str | None, Query(max_length=2000,
                                             description="User ids, or 'none'")] = None,
    tag: CSV = None, priority: CSV = None,
    due_before: Timestamp | None = None, due_after: Timestamp | None = None,
    overdue: Annotated[bool, Query(description="Open and due before now")] = False,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "Part of the title, the tag, or the lead's name, email, phone or company"))] = None,
    include_deleted: bool = False,
) -> TaskFilter:
    """The filters of a task list, but the listing."""
    return TaskFilter(
        statuses=_choices("status", status, TASK_STATUSES),
        priorities=_choices("priority", priority, TASK_PRIORITIES),
        lead_ids=_uuids("lead_id", lead_id), assignee_ids=_uuids("assignee_id", assignee_id),
        unassigned="none" in _csv(assignee_id), tags=_csv(tag), due_before=due_before,
        due_after=due_after, overdue=overdue, q=q, include_deleted=include_deleted)


async def task_filter(
    base: Annotated[TaskFilter, Depends(listing_task_filter)], listing_id: CSV = None,
) -> TaskFilter:
    return replace(base, listing_ids=_uuids("listing_id", listing_id))


def _read(row: dict[str, Any]) -> TaskRead:
    return TaskRead.model_validate(row)


def _page(found: service.TaskList, params: PageParams) -> Response:
    return json_response(TaskPage(
        data=[_read(r) for r in found.rows], total=found.total,
        total_is_estimate=found.total_is_estimate,
        page=params.page if params.cursor is None else None, per_page=params.per_page,
        next_cursor=found.next_cursor))


@router.post("", status_code=201, response_model=TaskRead,
             responses={422: {"description": "TASK_LEAD_NOT_FOUND, TASK_LISTING_NOT_FOUND, "
                                             "ASSIGNEE_NOT_FOUND, VALIDATION_ERROR"}})
async def create_task(request: Request, body: TaskCreate, scope: Scope) -> Response:
    """Create a task about a lead you may read (optionally a listing). It goes last in its
    listing's (or lead's) order unless ``position`` is given; the assignee defaults to the
    lead's owner. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_task(scope.session, ctx=scope.ctx, body=body)
        return json_response(_read(row), 201,
                             headers={"ETag": etag(row["version"]),
                                      "Location": f"/api/v1/tasks/{row['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.get("", response_model=TaskPage)
async def list_tasks(request: Request, scope: Scope,
                     f: Annotated[TaskFilter, Depends(task_filter)],
                     params: Annotated[PageParams, Depends(page_params)],
                     sort: SORT = None) -> Response:
    """Tasks with filters, sorting (by ``position`` unless told) and page or cursor
    pagination; each with its ``lead``. Agents see their own leads' tasks."""
    found = await service.list_tasks(scope.session, ctx=scope.ctx, f=f, sort=sort,
                                     params=params,
                                     count_cap=request.app.state.settings.count_exact_limit)
    return _page(found, params)


@router.post("/reorder", response_model=ReorderResult)
async def reorder_tasks(body: TaskReorder, scope: Scope) -> Response:
    """Set a whole order in one call: the tasks get positions 1, 2, 3... in the order
    given (one UPDATE). With ``listing_id`` or ``lead_id`` every task must belong to it."""
    updated = await service.reorder_tasks(scope.session, ctx=scope.ctx, ids=body.ids,
                                          listing_id=body.listing_id, lead_id=body.lead_id)
    return json_response(ReorderResult(updated=updated))


@router.get("/{task_id}", response_model=TaskRead)
async def get_task(task_id: uuid.UUID, scope: Scope, include_deleted: bool = False) -> Response:
    row = await service.get_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                 include_deleted=include_deleted)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.patch("/{task_id}", response_model=TaskRead,
              responses={412: {"description": "If-Match names an older version"}})
async def update_task(task_id: uuid.UUID, body: TaskUpdate, scope: Scope,
                      if_match: IfMatch) -> Response:
    """Change some fields. Completing a task sets ``completed_at`` (reopening clears it)
    and logs a ``task_event`` on the lead's timeline. Send ``If-Match: "<version>"``."""
    row = await service.update_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                    body=body, expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.post("/{task_id}/move", response_model=TaskRead)
async def move_task(task_id: uuid.UUID, body: TaskMove, scope: Scope,
                    if_match: IfMatch) -> Response:
    """Move a task right after ``after_id`` and/or before ``before_id`` (tasks of the same
    listing, or of the same lead when it has none). Writes that one task."""
    row = await service.move_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                  after_id=body.after_id, before_id=body.before_id,
                                  expected_version=if_match)
    return json_response(_read(row), headers={"ETag": etag(row["version"])})


@router.delete("/{task_id}", status_code=204)
async def delete_task(task_id: uuid.UUID, scope: Scope, if_match: IfMatch,
                      permanent: Annotated[bool, Query(description="Erase for good")] = False
                      ) -> Response:
    """Soft-delete, or with ``permanent=true`` erase the task."""
    await service.delete_task(scope.session, ctx=scope.ctx, task_id=task_id,
                              expected_version=if_match, permanent=permanent)
    return Response(status_code=204)


@listing_tasks_router.get("", response_model=TaskPage)
async def tasks_of_listing(request: Request, listing_id: uuid.UUID, scope: Scope,
                           f: Annotated[TaskFilter, Depends(listing_task_filter)],
                           params: Annotated[PageParams, Depends(page_params)],
                           sort: SORT = None) -> Response:
    """The listing's tasks, in their manual order unless ``sort`` says otherwise (the
    other filters of ``/tasks`` apply). Agents see their own leads' tasks."""
    await listings_service.get_listing(scope.session, ctx=scope.ctx, listing_id=listing_id)
    found = await service.list_tasks(scope.session, ctx=scope.ctx,
                                     f=replace(f, listing_ids=(listing_id,)), sort=sort,
                                     params=params,
                                     count_cap=request.app.state.settings.count_exact_limit)
    return _page(found, params)
