"""Rules for tasks: visibility (through the lead), status and ``completed_at``, manual
ordering, the timeline entries, audit and events.

Public functions (keyword-only after ``session``; none commits):

- ``create_task(session, *, ctx, body: TaskCreate) -> row``
- ``get_task(session, *, ctx, task_id, include_deleted=False, for_update=False) -> row``
- ``list_tasks(session, *, ctx, f: TaskFilter, sort=None, params, count_cap=1000,
  offset=None) -> TaskList`` (``offset`` overrides the page's, for limit/offset faces)
- ``update_task(session, *, ctx, task_id, body: TaskUpdate, expected_version=None) -> row``
- ``move_task(session, *, ctx, task_id, after_id=None, before_id=None,
  expected_version=None) -> row``
- ``reorder_tasks(session, *, ctx, ids, listing_id=None, lead_id=None) -> int``
- ``set_positions(session, *, ctx, positions: [(task_id, position)], listing_id=None,
  lead_id=None) -> int``
- ``delete_task(session, *, ctx, task_id, expected_version=None, permanent=False)``

A row is a dict with the columns of ``TaskRead`` and ``lead`` (id, names, email, phone,
owner_id). Errors: ``TASK_NOT_FOUND`` 404 — raised as :class:`NotYours` (a ``NotFound``)
when the task exists in the workspace but its lead is not the caller's to read (an
agent and another agent's lead), so a profile can answer 403 where the canonical API
answers 404; ``TASK_LEAD_NOT_FOUND`` / ``TASK_LISTING_NOT_FOUND`` / ``ASSIGNEE_NOT_FOUND``
422 for a body naming what the caller cannot use (another workspace's, or an agent's
colleague's lead); ``VERSION_MISMATCH`` 412; ``INVALID_MOVE`` / ``INVALID_REORDER`` 422.

Positions: a task's order within its scope (its listing's tasks, or its lead's tasks
without a listing), ascending, ties by id. New tasks go last (the scope's last position
+ 1). Setting ``position`` N stores N exactly (so a face's integer ``order`` reads back as
it was set). A move writes one row: the midpoint of its neighbours' positions (the scope
is renumbered 1..n only when two neighbours share a position).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, require_changes
from leadbase.kit.errors import NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams, decode_cursor, encode_cursor
from leadbase.kit.sorting import parse_sort
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.listings import repository as listings_repository
from leadbase.tasks import listing, repository
from leadbase.tasks.repository import TaskFilter
from leadbase.tasks.schemas import TaskCreate, TaskRead, TaskUpdate
from leadbase.users import repository as users_repository

DONE = frozenset({"completed", "not_needed", "cancelled"})
EVENTS = {"completed": "completed", "not_needed": "not_needed", "cancelled": "cancelled",
          "open": "reopened"}


class NotYours(NotFound):
    """The task exists in the workspace, but the caller may not read its lead."""


def not_found() -> NotFound:
    return NotFound("Task not found.", code="TASK_NOT_FOUND")


def _invalid(code: str, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[{"field": field, "message": message}])


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return TaskRead.model_validate({**row, "lead": None}).model_dump(mode="json",
                                                                    exclude={"lead"})


async def _lead(session: AsyncSession, ctx: Context, lead_id: uuid.UUID) -> dict[str, Any]:
    """The lead a body names: readable by ``ctx``, or 422."""
    try:
        return await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)
    except NotFound:
        raise _invalid("TASK_LEAD_NOT_FOUND", "lead_id", "unknown lead") from None


async def _check_listing(session: AsyncSession, ctx: Context,
                         listing_id: uuid.UUID | None) -> None:
    if listing_id is None:
        return
    if await listings_repository.get_listing(session, tenant_id=ctx.tenant_id,
                                             listing_id=listing_id) is None:
        raise _invalid("TASK_LISTING_NOT_FOUND", "listing_id", "unknown listing")


async def _check_assignee(session: AsyncSession, ctx: Context,
                          assignee_id: uuid.UUID | None) -> None:
    if assignee_id is None:
        return
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=assignee_id)
    if user is None or not user["is_active"]:
        raise _invalid("ASSIGNEE_NOT_FOUND", "assignee_id",
                       "unknown or inactive user of this workspace")


def _lead_summary(lead: dict[str, Any]) -> dict[str, Any]:
    return {k: lead[k] for k in ("id", "first_name", "last_name", "email", "phone",
                                 "owner_id")}


async def _timeline(session: AsyncSession, ctx: Context, task: dict[str, Any], event: str,
                    before: str | None) -> None:
    await activities.log_system(
        session, ctx, lead_id=task["lead_id"], type="task_event",
        attributes={"event": event, "title": task["title"], "from": before,
                    "to": task["status"]},
        task_id=task["id"], listing_id=task["listing_id"])


async def create_task(session: AsyncSession, *, ctx: Context,
                      body: TaskCreate) -> dict[str, Any]:
    """A task about a lead the caller may read (its assignee by default the lead's
    owner), last in its scope unless ``position`` is given; logs ``created`` on the
    lead's timeline."""
    lead = await _lead(session, ctx, body.lead_id)
    await _check_listing(session, ctx, body.listing_id)
    values = body.model_dump()
    if values["assignee_id"] is None:
        values["assignee_id"] = lead["owner_id"]
    else:
        await _check_assignee(session, ctx, values["assignee_id"])
    if values["position"] is None:
        last = await repository.last_position(session, tenant_id=ctx.tenant_id,
                                              listing_id=body.listing_id, lead_id=lead["id"])
        values["position"] = (last + 1) if last is not None else Decimal(1)
    if values["metadata"] is None:
        values["metadata"] = {}
    fields = sorted(k for k, v in values.items() if v not in (None, {}))
    if values["status"] == "completed":
        values["completed_at"] = func.now()
    row = await repository.insert_task(session, tenant_id=ctx.tenant_id, values=values)
    await _timeline(session, ctx, row, "created", None)
    await audit.record(session, ctx=ctx, action="task.created", entity_type="task",
                       entity_id=row["id"], changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="task.created",
                                          entity_type="task", entity_id=row["id"],
                                          payload=event_payload(row)))
    return {**row, "lead": _lead_summary(lead)}


async def get_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                   include_deleted: bool = False, for_update: bool = False) -> dict[str, Any]:
    row = await repository.get(session, scope=readable(ctx), task_id=task_id,
                               include_deleted=include_deleted, for_update=for_update)
    if row is not None:
        return row
    if ctx.sees_only_own_leads and await repository.exists(
            session, tenant_id=ctx.tenant_id, task_id=task_id,
            include_deleted=include_deleted):
        raise NotYours("Task not found.", code="TASK_NOT_FOUND")
    raise not_found()


@dataclass(frozen=True)
class TaskList:
    rows: list[dict[str, Any]]
    total: int | None
    next_cursor: str | None
    total_is_estimate: bool = False


async def list_tasks(session: AsyncSession, *, ctx: Context, f: TaskFilter,
                     sort: str | None = None, params: PageParams, count_cap: int = 1000,
                     offset: int | None = None) -> TaskList:
    """A page of the tasks of the leads ``ctx`` may read, by ``position`` unless ``sort``
    says otherwise (ties by id); ``total`` exact up to ``count_cap`` (then
    ``count_cap + 1``), none on cursor pages or with ``count=none``; a ``q=`` search is
    bounded (see tasks.listing; a dense term's total may be an estimate)."""
    sort_key, columns = parse_sort(sort, repository.SORTABLE, default="position",
                                   tiebreak=("id", repository.ID_COLUMN))
    after = decode_cursor(params.cursor, sort_key) if params.cursor else None
    skip = params.offset if offset is None else offset
    scope = readable(ctx)
    rows, search = await listing.page(session, scope=scope, f=f, sort=columns, after=after,
                                      offset=skip, limit=params.per_page + 1)
    next_cursor = None
    if len(rows) > params.per_page:
        rows = rows[: params.per_page]
        next_cursor = encode_cursor(sort_key, [rows[-1][c.name] for c in columns])
    total: int | None = None
    estimated = False
    if after is None and params.count != "none":
        if skip == 0 and next_cursor is None:
            total = len(rows)
        else:
            total, estimated = await listing.count(session, scope=scope, f=f, cap=count_cap,
                                                   search=search)
    return TaskList(rows=rows, total=total, next_cursor=next_cursor,
                    total_is_estimate=estimated)


async def update_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                      body: TaskUpdate, expected_version: int | None = None
                      ) -> dict[str, Any]:
    """Change what is sent. A status change sets ``completed_at`` (completed) or clears
    it (any other status) and logs a ``task_event`` on the lead's timeline."""
    current = await get_task(session, ctx=ctx, task_id=task_id, for_update=True)
    check_version(current, expected_version, what="task")
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("title", "status", "priority", "position", "metadata"):
        if key in patch and patch[key] is None:
            raise _invalid("NULL_NOT_ALLOWED", key, "cannot be null")
    if patch.get("listing_id") is not None and patch["listing_id"] != current["listing_id"]:
        await _check_listing(session, ctx, patch["listing_id"])
    if patch.get("assignee_id") is not None and patch["assignee_id"] != current["assignee_id"]:
        await _check_assignee(session, ctx, patch["assignee_id"])
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return current
    if "listing_id" in changed and "position" not in changed:
        last = await repository.last_position(session, tenant_id=ctx.tenant_id,
                                              listing_id=changed["listing_id"],
                                              lead_id=current["lead_id"])
        changed["position"] = (last + 1) if last is not None else Decimal(1)
    status_changed = "status" in changed
    if status_changed:
        changed["completed_at"] = func.now() if changed["status"] == "completed" else None
    row = await repository.update_task(session, tenant_id=ctx.tenant_id, task_id=task_id,
                                       values=changed)
    if status_changed:
        await _timeline(session, ctx, row, EVENTS[row["status"]], current["status"])
    fields = sorted(k for k in changed if k != "completed_at")
    kind = "task.completed" if status_changed and row["status"] == "completed" \
        else "task.updated"
    await audit.record(session, ctx=ctx, action=kind, entity_type="task", entity_id=task_id,
                       changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id, type=kind,
                                          entity_type="task", entity_id=task_id,
                                          payload={"task": event_payload(row),
                                                   "changed": fields}))
    return {**row, "lead": current["lead"]}


def _midpoint(low: Decimal, high: Decimal) -> Decimal:
    with localcontext() as c:
        c.prec = 60
        return (low + high) / 2


async def _position_between(session: AsyncSession, ctx: Context, task: dict[str, Any],
                            after: dict[str, Any] | None,
                            before: dict[str, Any] | None) -> Decimal | None:
    """The moved task's new position, or None when its neighbours tie (renumber first)."""
    where = {"tenant_id": ctx.tenant_id, "listing_id": task["listing_id"],
             "lead_id": task["lead_id"], "exclude": task["id"]}
    if after is not None and before is not None:
        if (after["position"], after["id"]) >= (before["position"], before["id"]):
            raise _invalid("INVALID_MOVE", "before_id", "must come after after_id")
        low, high = after["position"], before["position"]
    elif after is not None:
        low = after["position"]
        nxt = await repository.neighbour(session, position=low, row_id=after["id"],
                                         after=True, **where)
        if nxt is None:
            return Decimal(low) + 1
        high = nxt
    else:
        assert before is not None
        high = before["position"]
        prev = await repository.neighbour(session, position=high, row_id=before["id"],
                                          after=False, **where)
        if prev is None:
            return Decimal(high) - 1
        low = prev
    middle = _midpoint(low, high)
    return middle if low < middle < high else None


async def move_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                    after_id: uuid.UUID | None = None, before_id: uuid.UUID | None = None,
                    expected_version: int | None = None) -> dict[str, Any]:
    """Place a task right after ``after_id`` and/or right before ``before_id`` (tasks of
    its scope): one row written."""
    if after_id is None and before_id is None:
        raise _invalid("INVALID_MOVE", "after_id", "give after_id, before_id or both")
    if task_id in (after_id, before_id):
        raise _invalid("INVALID_MOVE", "after_id", "a task cannot move next to itself")
    task = await get_task(session, ctx=ctx, task_id=task_id, for_update=True)
    check_version(task, expected_version, what="task")
    anchors: dict[str, dict[str, Any] | None] = {}
    for field, anchor_id in (("after_id", after_id), ("before_id", before_id)):
        anchor = None
        if anchor_id is not None:
            try:
                anchor = await get_task(session, ctx=ctx, task_id=anchor_id)
            except NotFound:
                raise _invalid("INVALID_MOVE", field, "unknown task") from None
            if (anchor["listing_id"], anchor["listing_id"] or anchor["lead_id"]) != (
                    task["listing_id"], task["listing_id"] or task["lead_id"]):
                raise _invalid("INVALID_MOVE", field,
                               "not in the same listing (or lead) as the task")
        anchors[field] = anchor
    position = await _position_between(session, ctx, task, anchors["after_id"],
                                       anchors["before_id"])
    if position is None:  # neighbours share a position: spread the scope out, then again
        await repository.renumber(session, tenant_id=ctx.tenant_id,
                                  listing_id=task["listing_id"], lead_id=task["lead_id"])
        fresh = {k: (await get_task(session, ctx=ctx, task_id=v["id"])) if v else None
                 for k, v in anchors.items()}
        position = await _position_between(session, ctx, task, fresh["after_id"],
                                           fresh["before_id"])
        assert position is not None
    row = await repository.update_task(session, tenant_id=ctx.tenant_id, task_id=task_id,
                                       values={"position": position})
    await audit.record(session, ctx=ctx, action="task.updated", entity_type="task",
                       entity_id=task_id, changes={"fields": ["position"]},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="task.updated",
                                          entity_type="task", entity_id=task_id,
                                          payload={"task": event_payload(row),
                                                   "changed": ["position"]}))
    return {**row, "lead": task["lead"]}


async def set_positions(session: AsyncSession, *, ctx: Context,
                        positions: Sequence[tuple[uuid.UUID, Decimal]],
                        listing_id: uuid.UUID | None = None,
                        lead_id: uuid.UUID | None = None) -> int:
    """Give each task its position in one UPDATE. Every task must be visible to ``ctx``
    (and, with ``listing_id``/``lead_id``, belong to it): else 422 naming the first that
    is not, and nothing changes."""
    ids = [task_id for task_id, _ in positions]
    if len(set(ids)) != len(ids):
        raise _invalid("INVALID_REORDER", "ids", "an id is given twice")
    found = {r["id"]: r for r in await repository.visible_ids(
        session, scope=readable(ctx), ids=ids)}
    for i, task_id in enumerate(ids):
        row = found.get(task_id)
        if row is None or (listing_id is not None and row["listing_id"] != listing_id) or (
                lead_id is not None and row["lead_id"] != lead_id):
            raise _invalid("INVALID_REORDER", f"ids.{i}",
                           "unknown task" if row is None else "not in that listing or lead")
    await repository.set_positions(session, tenant_id=ctx.tenant_id,
                                   positions=[(i, Decimal(p)) for i, p in positions])
    await audit.record(session, ctx=ctx, action="task.reordered", entity_type="task",
                       entity_id=None, changes={"fields": ["position"], "count": len(ids)},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="task.updated",
                                          entity_type="task", entity_id=None,
                                          payload={"ids": [str(i) for i in ids],
                                                   "changed": ["position"]}))
    return len(ids)


async def reorder_tasks(session: AsyncSession, *, ctx: Context, ids: Sequence[uuid.UUID],
                        listing_id: uuid.UUID | None = None,
                        lead_id: uuid.UUID | None = None) -> int:
    """The tasks in this order: positions 1, 2, 3... (one UPDATE); tasks of the scope
    not listed keep theirs."""
    return await set_positions(session, ctx=ctx,
                               positions=[(task_id, Decimal(n))
                                          for n, task_id in enumerate(ids, start=1)],
                               listing_id=listing_id, lead_id=lead_id)


async def delete_task(session: AsyncSession, *, ctx: Context, task_id: uuid.UUID,
                      expected_version: int | None = None, permanent: bool = False) -> None:
    """Soft delete, or with ``permanent`` erase the row (its timeline entries stay,
    without the link to it)."""
    current = await get_task(session, ctx=ctx, task_id=task_id, include_deleted=permanent,
                             for_update=True)
    check_version(current, expected_version, what="task")
    if permanent:
        await repository.purge_task(session, tenant_id=ctx.tenant_id, task_id=task_id)
    else:
        await repository.update_task(session, tenant_id=ctx.tenant_id, task_id=task_id,
                                     values={"deleted_at": func.now()})
    await audit.record(session, ctx=ctx, action="task.purged" if permanent else "task.deleted",
                       entity_type="task", entity_id=task_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="task.deleted",
                                          entity_type="task", entity_id=task_id,
                                          payload={"id": str(task_id),
                                                   "lead_id": str(current["lead_id"]),
                                                   "permanent": permanent}))
