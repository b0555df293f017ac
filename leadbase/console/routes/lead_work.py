"""Working a lead in place (htmx partials): its timeline and activity logging, its tasks
(add, complete, reorder by dragging or with the keyboard) and its listings; through the
activities, tasks and listings services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from leadbase.activities import service as activities_service
from leadbase.activities import timeline
from leadbase.activities.schemas import ActivityCreate
from leadbase.auth.deps import RequestScope
from leadbase.console import forms, i18n
from leadbase.console.deps import ConsoleScope
from leadbase.console.lookups import lookups
from leadbase.console.render import render, workspace_formats
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.leads import service as leads_service
from leadbase.listings import service as listings_service
from leadbase.tasks import service as tasks_service
from leadbase.tasks.repository import TaskFilter
from leadbase.tasks.schemas import TaskCreate, TaskUpdate

router = APIRouter()
TIMELINE_SIZE = 20
TASKS_SIZE = 100
LOGGABLE = ("call", "note", "meeting", "email")


async def _timeline(scope: RequestScope, lead_id: uuid.UUID) -> list[dict[str, Any]]:
    rows, _ = await timeline.page(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                  types_filter=None, cursor=None, limit=TIMELINE_SIZE)
    return rows


async def _tasks(scope: RequestScope, lead_id: uuid.UUID) -> list[dict[str, Any]]:
    params = PageParams(page=1, per_page=TASKS_SIZE, cursor=None, count="none")
    found = await tasks_service.list_tasks(scope.session, ctx=scope.ctx,
                                           f=TaskFilter(lead_ids=(lead_id,)), params=params)
    return found.rows


async def side(scope: RequestScope, lead_id: uuid.UUID) -> dict[str, Any]:
    """What the lead page shows beside its form."""
    params = PageParams(page=1, per_page=20, cursor=None, count="none")
    links = await listings_service.listings_of_lead(scope.session, ctx=scope.ctx,
                                                    lead_id=lead_id, params=params)
    return {"timeline": await _timeline(scope, lead_id), "tasks": await _tasks(scope, lead_id),
            "listings": links.rows, "loggable": LOGGABLE, "activity_errors": {},
            "task_errors": {}}


async def _partial(request: Request, scope: RequestScope, lead_id: uuid.UUID,
                   template: str, status: int = 200, **extra: Any) -> Response:
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    lead = await leads_service.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id)
    ctx: dict[str, Any] = {"lead": lead, **await lookups(scope.session, scope.ctx),
                           **await side(scope, lead_id), **extra}
    return render(request, template, ctx, status=status, workspace=ws)


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.post("/leads/{lead_id}/activities")
async def log_activity(
    request: Request, lead_id: uuid.UUID, scope: ConsoleScope,
    type: Annotated[str, Form(max_length=20)],
    text: Annotated[str, Form(max_length=20_000)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=200)] = "",
    minutes: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Log a call, note, meeting or email; answers the activity panel (form + timeline)."""
    attributes: dict[str, Any] = {}
    description: str | None = text.strip() or None
    if type == "note":
        attributes = {"content": text.strip()}
        description = None
    elif type == "call":
        attributes = {k: v for k, v in {
            "outcome": outcome.strip() or None,
            "duration_seconds": (_int(minutes) or 0) * 60 if _int(minutes) else None}.items()
            if v is not None}
    elif type == "meeting":
        attributes = {k: v for k, v in {"title": title.strip() or None,
                                        "duration_minutes": _int(minutes)}.items()
                      if v is not None}
    elif type == "email":
        attributes = {k: v for k, v in {"subject": title.strip() or None,
                                        "body": text.strip() or None}.items() if v is not None}
        description = None
    try:
        async with scope.session.begin_nested():
            await activities_service.create(scope.session, ctx=scope.ctx, body=ActivityCreate(
                type=type, lead_id=lead_id, description=description,  # type: ignore[arg-type]
                attributes=attributes))
    except (ValidationError, ValidationFailed) as exc:
        errors = forms.errors_of(exc)
        mapped = {("text" if k in ("attributes.content", "attributes.body", "description")
                   else "type" if k == "type" else "form"): v for k, v in errors.items()}
        return await _partial(request, scope, lead_id, "lead/activity_panel.html", 422,
                              activity_errors=mapped)
    return await _partial(request, scope, lead_id, "lead/activity_panel.html",
                          logged=True)


@router.post("/leads/{lead_id}/tasks")
async def add_task(request: Request, lead_id: uuid.UUID, scope: ConsoleScope,
                   title: Annotated[str, Form(max_length=300)] = "") -> Response:
    try:
        async with scope.session.begin_nested():
            await tasks_service.create_task(scope.session, ctx=scope.ctx,
                                            body=TaskCreate(lead_id=lead_id, title=title.strip()))
    except (ValidationError, ValidationFailed) as exc:
        errors = forms.errors_of(exc)
        return await _partial(request, scope, lead_id, "lead/tasks.html", 422,
                              task_errors={"title": next(iter(errors.values()))})
    return await _partial(request, scope, lead_id, "lead/tasks.html")


@router.post("/leads/{lead_id}/tasks/order")
async def reorder_tasks(request: Request, lead_id: uuid.UUID, scope: ConsoleScope,
                        ids: Annotated[list[uuid.UUID], Form(max_length=TASKS_SIZE)]
                        ) -> Response:
    """The lead's tasks in this order (the tasks service's reorder)."""
    await leads_service.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id)
    await tasks_service.reorder_tasks(scope.session, ctx=scope.ctx, ids=ids, lead_id=lead_id)
    return await _partial(request, scope, lead_id, "lead/tasks.html")


@router.post("/leads/{lead_id}/tasks/{task_id}/status")
async def task_status(request: Request, lead_id: uuid.UUID, task_id: uuid.UUID,
                      scope: ConsoleScope,
                      status: Annotated[str, Form(pattern="^(open|completed)$")]) -> Response:
    task = await tasks_service.get_task(scope.session, ctx=scope.ctx, task_id=task_id)
    if task["lead_id"] != lead_id:
        raise tasks_service.not_found()
    await tasks_service.update_task(scope.session, ctx=scope.ctx, task_id=task_id,
                                    body=TaskUpdate(status=status))  # type: ignore[arg-type]
    return await _partial(request, scope, lead_id, "lead/tasks.html")


i18n.register({
    "en": {
        "work.timeline": "Timeline", "work.log": "Log an activity", "work.type": "Type",
        "work.text": "What happened", "work.title": "Title or subject",
        "work.outcome": "Outcome", "work.minutes": "Duration (minutes)",
        "work.submit": "Log it", "work.logged": "Logged.", "work.empty": "Nothing yet.",
        "work.tasks": "Tasks", "work.task_title": "New task", "work.add_task": "Add task",
        "work.up": "Move up", "work.down": "Move down", "work.done": "Done",
        "work.reopen": "Reopen", "work.drag": "Drag to reorder",
        "work.listings": "Listings", "work.no_listings": "No listings linked.",
        "work.by_system": "system",
        "act.call": "Call", "act.note": "Note", "act.meeting": "Meeting", "act.email": "Email",
        "act.message": "Message", "act.task": "Task", "act.demo": "Demo",
        "act.proposal": "Proposal", "act.document": "Document",
        "act.stage_change": "Stage change", "act.status_change": "Status change",
        "act.assignment": "Assignment", "act.task_event": "Task", "act.system": "System",
        "act.change": "Change", "act.opportunity_event": "Deal",
        "task.open": "open", "task.completed": "completed", "task.not_needed": "not needed",
        "task.cancelled": "cancelled",
    },
    "es": {
        "work.timeline": "Historial", "work.log": "Registrar una actividad",
        "work.type": "Tipo", "work.text": "Qué pasó", "work.title": "Título o asunto",
        "work.outcome": "Resultado", "work.minutes": "Duración (minutos)",
        "work.submit": "Registrar", "work.logged": "Registrado.",
        "work.empty": "Nada todavía.", "work.tasks": "Tareas",
        "work.task_title": "Nueva tarea", "work.add_task": "Agregar tarea",
        "work.up": "Subir", "work.down": "Bajar", "work.done": "Hecha",
        "work.reopen": "Reabrir", "work.drag": "Arrastre para reordenar",
        "work.listings": "Publicaciones", "work.no_listings": "Sin publicaciones vinculadas.",
        "work.by_system": "sistema",
        "act.call": "Llamada", "act.note": "Nota", "act.meeting": "Reunión",
        "act.email": "Correo", "act.message": "Mensaje", "act.task": "Tarea",
        "act.demo": "Demostración", "act.proposal": "Propuesta", "act.document": "Documento",
        "act.stage_change": "Cambio de etapa", "act.status_change": "Cambio de estado",
        "act.assignment": "Asignación", "act.task_event": "Tarea", "act.system": "Sistema",
        "act.change": "Cambio", "act.opportunity_event": "Negocio",
        "task.open": "abierta", "task.completed": "completada",
        "task.not_needed": "no necesaria", "task.cancelled": "cancelada",
    },
})
