"""A lead: its page, the new-lead form, the edit form (the field engine's errors next to
each input) and stage moves; all through the leads and pipelines services."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from leadbase.auth.deps import RequestScope
from leadbase.console import forms, i18n
from leadbase.console.deps import ConsoleScope
from leadbase.console.lookups import lookups
from leadbase.console.render import PREFIX, Workspace, redirect, render, workspace_formats
from leadbase.console.routes import lead_work
from leadbase.kit.errors import Conflict, PreconditionFailed, ValidationFailed
from leadbase.leads import service as leads_service
from leadbase.leads.filters import STATUSES
from leadbase.leads.schemas import LeadCreate, LeadUpdate
from leadbase.pipelines import moves
from leadbase.pipelines.schemas import StageMove
from leadbase.tenants import service as tenants_service

router = APIRouter()


async def _form_context(session: AsyncSession, scope: RequestScope,
                        list_id: uuid.UUID) -> dict[str, Any]:
    ctx = await lookups(session, scope.ctx)
    ctx.update({"sections": await forms.layout(session, scope.ctx, list_id),
                "statuses": sorted(STATUSES), "display": forms.display})
    return ctx


@router.get("/leads/new")
async def new_lead(request: Request, scope: ConsoleScope) -> Response:
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    list_id = (await tenants_service.defaults(scope.session, tenant_id=scope.ctx.tenant_id)
               ).default_list_id
    ctx = await _form_context(scope.session, scope, list_id)
    ctx.update({"lead": None, "values": {}, "errors": {}, "list_id": list_id})
    return render(request, "lead/new.html", ctx, workspace=ws)


@router.post("/leads/new")
async def create_lead(request: Request, scope: ConsoleScope) -> Response:
    form = await request.form()
    defaults = await tenants_service.defaults(scope.session, tenant_id=scope.ctx.tenant_id)
    list_id = defaults.default_list_id
    raw_list = form.get("list_id")
    if isinstance(raw_list, str) and raw_list:
        with contextlib.suppress(ValueError):
            list_id = uuid.UUID(raw_list)
    ctx = await _form_context(scope.session, scope, list_id)
    body = forms.lead_body(form, ctx["sections"], creating=True)
    try:
        async with scope.session.begin_nested():  # a refused write leaves nothing behind
            lead = (await leads_service.create_lead(
                scope.session, ctx=scope.ctx, body=LeadCreate.model_validate(body),
                on_duplicate="error")).lead
    except (ValidationError, ValidationFailed) as exc:
        return await _form_errors(request, scope, ctx, form, forms.errors_of(exc), list_id,
                                  "lead/new.html")
    except Conflict as exc:  # a duplicate
        return await _form_errors(request, scope, ctx, form, {"form": exc.detail}, list_id,
                                  "lead/new.html", status=exc.status)
    return redirect(request, f"{PREFIX}/leads/{lead['id']}?created=1")


async def _form_errors(request: Request, scope: RequestScope, ctx: dict[str, Any],
                       form: Any, errors: dict[str, str], list_id: uuid.UUID,
                       template: str, status: int = 422,
                       lead: dict[str, Any] | None = None) -> Response:
    """The form again with what was typed and each error next to its input."""
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    values = forms.form_values(form)
    ctx.update({"lead": lead, "values": values, "errors": errors, "list_id": list_id})
    return render(request, template, ctx, status=status, workspace=ws)


def lead_values(lead: dict[str, Any]) -> dict[str, Any]:
    """The form's values of a stored lead."""
    values: dict[str, Any] = {k: forms.display(lead.get(k)) for k in (*forms.CORE, "notes")}
    values.update({"status": lead["status"], "owner_id": str(lead["owner_id"] or ""),
                   "tags": ", ".join(lead["tags"] or []),
                   "do_not_contact": lead["do_not_contact"], "consent": lead["consent"]})
    for code, value in (lead.get("fields") or {}).items():
        values[f"fields.{code}"] = value if isinstance(value, list) else forms.display(value)
    return values


async def _lead_page(request: Request, scope: RequestScope, lead: dict[str, Any], *,
                     ws: Workspace, errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None, status: int = 200,
                     template: str = "lead/page.html") -> Response:
    ctx = await _form_context(scope.session, scope, lead["list_id"])
    ctx.update({"lead": lead, "values": values or lead_values(lead), "errors": errors or {},
                "list_id": lead["list_id"], "saved": request.query_params.get("created")})
    if template == "lead/page.html":
        ctx.update(await lead_work.side(scope, lead["id"]))
    return render(request, template, ctx, status=status, workspace=ws)


@router.get("/leads/{lead_id}")
async def lead_page(request: Request, lead_id: uuid.UUID, scope: ConsoleScope) -> Response:
    lead = await leads_service.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                        merged="redirect")
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return await _lead_page(request, scope, lead, ws=ws)


@router.post("/leads/{lead_id}")
async def update_lead(request: Request, lead_id: uuid.UUID, scope: ConsoleScope) -> Response:
    """The edit form (htmx swaps the form: errors next to their inputs, or saved)."""
    form = await request.form()
    current = await leads_service.get_lead(scope.session, ctx=scope.ctx, lead_id=lead_id)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    sections = await forms.layout(scope.session, scope.ctx, current["list_id"])
    body = forms.lead_body(form, sections, creating=False)
    version = form.get("version")
    try:
        async with scope.session.begin_nested():
            lead = await leads_service.update_lead(
                scope.session, ctx=scope.ctx, lead_id=lead_id,
                body=LeadUpdate.model_validate(body),
                expected_version=int(version) if isinstance(version, str)
                and version.isdigit() else None, on_duplicate="error")
    except (ValidationError, ValidationFailed, Conflict, PreconditionFailed) as exc:
        errors = forms.errors_of(exc) if isinstance(exc, ValidationError | ValidationFailed) \
            else {"form": exc.detail}
        values = forms.form_values(form)
        return await _lead_page(request, scope, current, ws=ws, errors=errors,
                                values=values, status=422, template="lead/form.html")
    page = await _lead_page(request, scope, lead, ws=ws, template="lead/form.html")
    page.headers["HX-Trigger"] = "lead-saved"
    return page


@router.post("/leads/{lead_id}/stage")
async def move_stage(request: Request, lead_id: uuid.UUID, scope: ConsoleScope,
                     stage: Annotated[str, Form(min_length=1, max_length=64)]) -> Response:
    await moves.move_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                          body=StageMove(stage=stage), expected_version=None)
    return redirect(request, f"{PREFIX}/leads/{lead_id}")


i18n.register({
    "en": {
        "lead.title": "Lead", "lead.new": "New lead", "lead.create": "Create lead",
        "lead.created": "Lead created.", "lead.saved": "Saved.",
        "lead.details": "Details", "lead.first_name": "First name",
        "lead.last_name": "Last name", "lead.email": "Email", "lead.phone": "Phone",
        "lead.company": "Company", "lead.job_title": "Job title", "lead.source": "Source",
        "lead.status": "Status", "lead.owner": "Owner", "lead.tags": "Tags",
        "lead.tags_hint": "Comma-separated", "lead.notes": "Notes",
        "lead.do_not_contact": "Do not contact", "lead.consent": "Consent given",
        "lead.score": "Score", "lead.temperature": "Temperature", "lead.stage": "Stage",
        "lead.move": "Move", "lead.custom": "Other fields", "lead.mask": "Format: {mask}",
        "lead.required": "required", "lead.yes": "Yes", "lead.no": "No",
        "lead.fix": "Please correct the marked fields.", "lead.number": "No. {n}",
        "temp.hot": "hot", "temp.warm": "warm", "temp.cold": "cold",
    },
    "es": {
        "lead.title": "Prospecto", "lead.new": "Nuevo prospecto",
        "lead.create": "Crear prospecto", "lead.created": "Prospecto creado.",
        "lead.saved": "Guardado.", "lead.details": "Datos", "lead.first_name": "Nombre",
        "lead.last_name": "Apellido", "lead.email": "Correo", "lead.phone": "Teléfono",
        "lead.company": "Empresa", "lead.job_title": "Cargo", "lead.source": "Origen",
        "lead.status": "Estado", "lead.owner": "Responsable", "lead.tags": "Etiquetas",
        "lead.tags_hint": "Separadas por comas", "lead.notes": "Notas",
        "lead.do_not_contact": "No contactar", "lead.consent": "Consentimiento dado",
        "lead.score": "Puntuación", "lead.temperature": "Temperatura", "lead.stage": "Etapa",
        "lead.move": "Mover", "lead.custom": "Otros campos", "lead.mask": "Formato: {mask}",
        "lead.required": "obligatorio", "lead.yes": "Sí", "lead.no": "No",
        "lead.fix": "Corrija los campos marcados.", "lead.number": "N.º {n}",
        "temp.hot": "caliente", "temp.warm": "tibio", "temp.cold": "frío",
    },
})
