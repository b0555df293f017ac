"""``/activities``: CRUD, the ``log-<type>`` shortcuts, a lead's timeline, an agent's
recent activities and summary, and the export, over the activities service.

Lists (``GET /activities``, the timeline, ``recent``) are JSON arrays, newest first, of at
most ``limit`` (50, at most 200); the next page is ``?cursor=`` with the value of the
``X-Next-Cursor`` header (absent on the last page): keyset pages, the same cost at any
depth."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from leadbase.activities import agenda, export, service, timeline
from leadbase.activities import schemas as canonical
from leadbase.activities.types import USER_TYPES
from leadbase.auth.deps import IfMatch, RequestScope, Scope
from leadbase.compat.crm import ids, limits, views
from leadbase.compat.crm.errors import field_name
from leadbase.compat.crm.schemas import ActivityCreate, ActivityLog, ActivityOut, ActivityType
from leadbase.compat.crm.schemas import ActivityUpdate as ActivityUpdateIn
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.http import read_ahead
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import MAX_PER_PAGE
from leadbase.opportunities import activity as opportunity_activity
from leadbase.opportunities.schemas import OpportunityActivityCreate

router = APIRouter(prefix="/activities", tags=["activities"])

Limit = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="At most (default 50)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="X-Next-Cursor of the "
                                                                  "previous page")]
TypeQuery = Annotated[ActivityType | None, Query(alias="type")]
MINUTE = 60

# The document's attribute (a field of the body) → the canonical attribute, per type;
# calls count seconds, the document minutes.
_ATTRIBUTES: dict[str, dict[str, str]] = {
    "call": {"duration": "duration_seconds", "outcome": "outcome", "direction": "direction"},
    "email": {"subject": "subject", "body": "body", "status": "status"},
    "meeting": {"title": "title", "scheduled_for": "scheduled_for",
                "duration": "duration_minutes", "location": "location"},
    "note": {"content": "content"},
    "task": {"title": "title", "due_date": "due", "priority": "priority"},
    "demo": {"duration": "duration_minutes", "feedback": "feedback"},
    "proposal": {"title": "title", "value": "value", "currency": "currency",
                 "document_url": "document_url"},
    "document": {"title": "title", "document_type": "document_type",
                 "document_url": "url"},
    "message": {"channel": "channel", "direction": "direction", "body": "body"},
}
_OWN = frozenset({"description", "scheduled_for", "completed_at", "lead_id",
                  "opportunity_id", "type"})
_PRIORITY = {"medium": "normal"}


def attributes(kind: str, sent: dict[str, Any]) -> dict[str, Any]:
    """The type's attributes from the body (400 naming a field the type has not)."""
    names = _ATTRIBUTES[kind]
    stray = [k for k in sent if k not in names and k not in _OWN]
    if stray:
        raise ValidationFailed(f"Not an attribute of a {kind.upper()} activity.",
                               code="INVALID_ACTIVITY_ATTRIBUTES",
                               errors=[{"field": k, "message": "not an attribute of a "
                                        f"{kind.upper()} activity"} for k in stray])
    out: dict[str, Any] = {}
    for key, value in sent.items():
        if key in names and value is not None:
            target = names[key]
            if target == "duration_seconds":
                value = value * MINUTE
            elif target == "priority":
                value = _PRIORITY.get(str(value).lower(), str(value).lower())
            elif target == "value":
                value = str(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[target] = value
    return out


def _about(request: Request, body: ActivityLog) -> dict[str, uuid.UUID | None]:
    """The lead and the opportunity the activity is about (one of them needed; an
    opportunity's activity is on its lead's timeline too)."""
    if body.lead_id is None and body.opportunity_id is None:
        raise ValidationFailed("leadId: required", code="LEAD_REQUIRED",
                               errors=[{"field": "leadId",
                                        "message": "required (or opportunityId)"}])
    return {"lead_id": None if body.lead_id is None
            else ids.resolve(request, "lead", body.lead_id),
            "opportunity_id": None if body.opportunity_id is None
            else ids.resolve(request, "opportunity", body.opportunity_id)}


async def _log(request: Request, scope: RequestScope, kind: str,
               body: ActivityLog) -> Response:
    """One activity of ``kind`` from the document's body: planned (``scheduledFor``, a
    meeting's date, a task's ``dueDate``) unless ``completedAt`` says it is done."""

    async def work() -> Response:
        sent = body.model_dump(exclude_unset=True)
        planned = sent.get("scheduled_for") or (sent.get("due_date") if kind == "task"
                                                else None)
        about = _about(request, body)
        values = {"type": kind, "description": body.description,
                  "attributes": attributes(kind, sent), "scheduled_for": planned,
                  "completed_at": body.completed_at}
        if about["opportunity_id"] is None:
            row = await service.create(scope.session, ctx=scope.ctx, body=views.canonical(
                canonical.ActivityCreate, {**values, "lead_id": about["lead_id"]}))
        else:  # shown as the caller may see it (a deal on another agent's lead: no lead)
            row = await opportunity_activity.log_activity(
                scope.session, ctx=scope.ctx, opportunity_id=about["opportunity_id"],
                body=views.canonical(OpportunityActivityCreate, values))
            if about["lead_id"] is not None and row["lead_id"] != about["lead_id"]:
                raise ValidationFailed(  # rolls the activity back
                    "leadId: not the lead of the opportunity", code="INVALID_ACTIVITY",
                    errors=[{"field": "leadId", "message": "not the lead of the opportunity"}])
        return views.respond(views.activity(row), 201, headers=views.etag_of(row))

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


def _paged(items: list[dict[str, Any]], next_cursor: str | None) -> Response:
    return views.respond(items, headers={"X-Next-Cursor": next_cursor} if next_cursor
                         else None)


# Routes before /{id}, which would take their paths -------------------------------------

@router.get("/export", response_class=StreamingResponse,
            responses={200: {"content": {export.MEDIA_TYPE: {}}}})
@limits.category("export")
async def export_activities(request: Request, scope: Scope, type_: TypeQuery = None,
                            lead: Annotated[str | None, Query(alias="leadId",
                                                              max_length=64)] = None
                            ) -> Response:
    """The activities you read (``type``, ``leadId`` filter) as an XLSX workbook, newest
    first."""
    f = {"types": [type_.lower()] if type_ else None,
         "lead_id": ids.resolve(request, "lead", lead) if lead else None}
    await service.list_activities(scope.session, ctx=scope.ctx, f=f, cursor=None, limit=1)
    scratch = request.app.state.settings.resolved_data_dir() / "exports" / str(
        scope.ctx.tenant_id) / "tmp"
    body = await read_ahead(export.stream_xlsx(request.app.state.db, ctx=scope.ctx, f=f,
                                               scratch=scratch))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(body, media_type=export.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="activities-{stamp}.xlsx"',
        "Cache-Control": "no-store"})


def _log_route(kind: str) -> None:
    async def log(request: Request, body: ActivityLog, scope: Scope) -> Response:
        return await _log(request, scope, kind, body)

    names = ", ".join(f"``{field_name(k)}``" for k in _ATTRIBUTES[kind])
    log.__name__ = f"log_{kind}"
    log.__doc__ = (f"Log a {kind.upper()} activity on ``leadId``: {names}, ``description``"
                   "; ``scheduledFor`` plans it, ``completedAt`` dates it (default: done "
                   "now). Accepts ``Idempotency-Key``.")
    router.add_api_route(f"/log-{kind}", log, methods=["POST"], status_code=201,
                         response_model=ActivityOut, name=f"log_{kind}")


for _kind in ("call", "email", "meeting", "note", "task", "demo", "proposal", "document"):
    _log_route(_kind)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    """A timeline entry: an activity (system ones included) or an audited change of the
    lead (``type: CHANGE``, ``id`` ``chg_…``)."""
    out: dict[str, Any] = {
        "id": (ids.encode("activity", row["id"]) if row["entry"] == "activity"
               else "chg_" + row["id"].hex),
        "entry": str(row["entry"]).upper(), "type": str(row["type"]).upper(),
        "occurredAt": row["at"], "description": row["description"],
        "scheduledFor": row["scheduled_for"], "completedAt": row["completed_at"],
        "createdById": ids.encode("agent", row["actor_user_id"])}
    for key, value in (row["attributes"] or {}).items():
        out.setdefault(field_name(key), value)
    return out


@router.get("/timeline/lead/{leadId}")
async def lead_timeline(request: Request, leadId: str, scope: Scope, limit: Limit = 50,
                        cursor: Cursor = None) -> Response:
    """The lead's timeline, newest first: its activities (system entries too: status
    changes, assignments, stage moves) and its audited changes."""
    rows, next_cursor = await timeline.page(scope.session, ctx=scope.ctx,
                                            lead_id=ids.resolve(request, "lead", leadId),
                                            types_filter=None, cursor=cursor, limit=limit)
    return _paged([_entry(r) for r in rows], next_cursor)


@router.get("/agent/{agentId}/recent")
async def recent_activities(request: Request, agentId: str, scope: Scope,
                            days: Annotated[int, Query(ge=1, le=agenda.MAX_DAYS)] = 7,
                            limit: Limit = 50, cursor: Cursor = None) -> Response:
    """What the agent logged that happened in the last ``days`` days (7), newest first.
    An agent asks about themselves (403 otherwise)."""
    rows, next_cursor = await agenda.recent(scope.session, ctx=scope.ctx,
                                            user_id=ids.resolve(request, "agent", agentId),
                                            days=days, cursor=cursor, limit=limit)
    return _paged([views.activity(r) for r in rows], next_cursor)


@router.get("/agent/{agentId}/summary")
async def activity_summary(request: Request, agentId: str, scope: Scope,
                           period: Literal["day", "week", "month"] = "week") -> Response:
    """The agent's completed activities in the period (``day``, ``week`` from Monday,
    ``month``; in the workspace's time zone) by type and in total, and their tasks
    completed in it and pending: ``{totalActivities, byType, completedTasks,
    pendingTasks, period, startsAt, endsAt}``."""
    s = await agenda.summary(scope.session, ctx=scope.ctx,
                             user_id=ids.resolve(request, "agent", agentId), period=period,
                             start=None, end=None)
    return views.respond({"totalActivities": s.total,
                          "byType": {k.upper(): v for k, v in s.by_type.items()},
                          "completedTasks": s.tasks_completed,
                          "pendingTasks": s.tasks_pending, "period": s.period,
                          "startsAt": s.starts_at, "endsAt": s.ends_at})


# CRUD -------------------------------------------------------------------------------------

@router.post("", status_code=201, response_model=ActivityOut)
async def create_activity(request: Request, body: ActivityCreate, scope: Scope) -> Response:
    """Log an activity of ``type`` (CALL, EMAIL, MEETING, NOTE, TASK, DEMO, PROPOSAL,
    DOCUMENT, MESSAGE) on ``leadId``, with the type's attributes as ``log-<type>`` takes
    them. Accepts ``Idempotency-Key``."""
    return await _log(request, scope, body.type.lower(), body)


@router.get("", response_model=list[ActivityOut])
async def list_activities(request: Request, scope: Scope, type_: TypeQuery = None,
                          lead: Annotated[str | None, Query(alias="leadId",
                                                            max_length=64)] = None,
                          limit: Limit = 50, cursor: Cursor = None) -> Response:
    """The activities of the leads you read, newest first (``type``, ``leadId``)."""
    f = {"types": [type_.lower()] if type_ else None,
         "lead_id": ids.resolve(request, "lead", lead) if lead else None}
    rows, next_cursor = await service.list_activities(scope.session, ctx=scope.ctx, f=f,
                                                      cursor=cursor, limit=limit)
    return _paged([views.activity(r) for r in rows], next_cursor)


def _activity_id(request: Request, raw: str) -> uuid.UUID:
    return ids.resolve(request, "activity", raw)


@router.get("/{id}", response_model=ActivityOut)
async def get_activity(request: Request, id: str, scope: Scope) -> Response:
    row = await service.get(scope.session, ctx=scope.ctx, activity_id=_activity_id(request, id))
    return views.respond(views.activity(row), headers=views.etag_of(row))


@router.put("/{id}", response_model=ActivityOut)
async def update_activity(request: Request, id: str, body: ActivityUpdateIn, scope: Scope,
                          if_match: IfMatch) -> Response:
    """Change what is sent: ``completedAt`` completes a planned activity, the type's
    attributes are merged into the current ones. System entries: 403."""
    activity_id = _activity_id(request, id)
    current = await service.get(scope.session, ctx=scope.ctx, activity_id=activity_id)
    sent = body.model_dump(exclude_unset=True)
    values: dict[str, Any] = {k: sent[k] for k in ("description", "scheduled_for",
                                                   "completed_at") if k in sent}
    if current["type"] in USER_TYPES:
        changed = attributes(current["type"], sent)
        if changed:
            values["attributes"] = changed
    row = await service.update(scope.session, ctx=scope.ctx, activity_id=activity_id,
                               body=views.canonical(canonical.ActivityUpdate, values),
                               expected_version=if_match)
    return views.respond(views.activity(row), headers=views.etag_of(row))


@router.delete("/{id}", status_code=204)
async def delete_activity(request: Request, id: str, scope: Scope, if_match: IfMatch
                          ) -> Response:
    await service.delete(scope.session, ctx=scope.ctx, activity_id=_activity_id(request, id),
                         expected_version=if_match)
    return Response(status_code=204)
