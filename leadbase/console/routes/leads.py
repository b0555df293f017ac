"""The leads page: the leads service's list (same filter schema, readable set and keyset
cursors as ``GET /api/v1/leads``), the table as an htmx partial, and the export of the
current view (the exports service, as ``GET /api/v1/leads/export``)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from leadbase.bulk import service as bulk_service
from leadbase.bulk.schemas import BulkRequest
from leadbase.console import i18n, prefs
from leadbase.console.columns import COLUMNS, chosen, clean_sort
from leadbase.console.deps import ConsoleScope
from leadbase.console.lookups import lookups
from leadbase.console.nav import NavItem, add
from leadbase.console.render import PREFIX, redirect, render, workspace_formats
from leadbase.exports import service as exports_service
from leadbase.exports.download import download
from leadbase.exports.formats import Format
from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.leads import service as leads_service
from leadbase.leads.filters import STATUSES, LeadFilter

router = APIRouter()
add(NavItem("nav.leads", PREFIX + "/leads", order=10))
PER_PAGE = 25
FILTER_KEYS = ("q", "status", "tags", "source", "owner_id", "list_id", "stage")
RESULT_KEYS = ("done", "failed")


def _filter_values(request: Request) -> dict[str, str]:
    qp = request.query_params
    return {k: qp.get(k, "").strip() for k in FILTER_KEYS if qp.get(k, "").strip()}


def view_query(values: dict[str, str], sort: str, **extra: str) -> str:
    """The query string of a view (filters and sort; ``extra`` e.g. a cursor)."""
    items = dict(values)
    if sort != "-created_at":
        items["sort"] = sort
    items.update({k: v for k, v in extra.items() if v})
    return urlencode(items)


async def _page(request: Request, scope: ConsoleScope, cursor: str | None,
                sort: str) -> dict[str, Any]:
    values = _filter_values(request)
    f = LeadFilter.model_validate(values)
    params = PageParams(page=1, per_page=PER_PAGE, cursor=cursor,
                        count="auto" if cursor is None else "none")
    listing = await leads_service.list_leads(
        scope.session, ctx=scope.ctx, f=f, sort=sort, params=params,
        count_cap=request.app.state.settings.count_exact_limit)
    columns = chosen(await prefs.get(scope.session, ctx=scope.ctx, key=prefs.LEAD_COLUMNS))
    return {"rows": listing.rows, "total": listing.total,
            "total_is_estimate": listing.total_is_estimate,
            "next_cursor": listing.next_cursor, "values": values, "sort": sort,
            "columns": columns, "cursor": cursor or "",
            "bulk_done": {k: request.query_params.get(k, "") for k in RESULT_KEYS
                          if request.query_params.get(k, "").isdigit()},
            "view_query": view_query(values, sort),
            "next_query": view_query(values, sort, cursor=listing.next_cursor or ""),
            "sort_query": lambda key: view_query(
                values, ("-" + key) if sort == key else key)}


@router.get("/leads")
async def leads_page(
    request: Request, scope: ConsoleScope,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    sort: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    ctx = await _page(request, scope, cursor, clean_sort(sort))
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    ctx.update(await lookups(scope.session, scope.ctx))
    if request.headers.get("hx-target") == "leads-results":
        return render(request, "leads/results.html", ctx, workspace=ws)
    ctx.update({"statuses": sorted(STATUSES), "all_columns": list(COLUMNS.values())})
    return render(request, "leads/index.html", ctx, workspace=ws)


@router.post("/leads/columns")
async def choose_columns(request: Request, scope: ConsoleScope,
                         columns: Annotated[list[str] | None, Form(max_length=40)] = None,
                         back: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Keep the user's column choice (known columns, in the table's order)."""
    keys = [c for c in COLUMNS if c in set(columns or [])]
    await prefs.put(scope.session, ctx=scope.ctx, key=prefs.LEAD_COLUMNS, value=keys)
    return redirect(request, f"{PREFIX}/leads" + (f"?{back}" if back and "//" not in back
                                                  else ""))


@router.post("/leads/bulk")
async def bulk(request: Request, scope: ConsoleScope,
               action: Annotated[str, Form(pattern="^(status|owner|tag|delete)$")],
               status: Annotated[str, Form(max_length=20)] = "",
               owner_id: Annotated[str, Form(max_length=40)] = "",
               tag: Annotated[str, Form(max_length=100)] = "",
               back: Annotated[str, Form(max_length=2000)] = "",
               ids: Annotated[list[uuid.UUID] | None, Form(max_length=PER_PAGE * 8)] = None,
               ) -> Response:
    """The selected leads changed or deleted at once (the bulk service, by ids: each lead
    checked as a single change; those the caller may not reach fail)."""
    query = back if back and "//" not in back else ""
    if not ids:  # nothing selected: nothing to do
        return redirect(request, f"{PREFIX}/leads" + (f"?{query}" if query else ""))
    changes: dict[str, Any] = {}
    if action == "status":
        changes = {"status": status}
    elif action == "owner":
        changes = {"owner_id": owner_id or None}
    elif action == "tag":
        changes = {"tags_add": [tag.strip()]}
    try:
        body = BulkRequest.model_validate({"action": "delete" if action == "delete" else "update",
                                           "ids": ids, "changes": changes or None})
        job = await bulk_service.run_ids(scope.session, ctx=scope.ctx, body=body)
        done = f"done={job['updated']}&failed={job['failed_count']}"
    except (ValidationError, ValidationFailed):
        done = "failed=" + str(len(ids))
    return redirect(request, f"{PREFIX}/leads?{query}{'&' if query else ''}{done}")


@router.get("/leads/export")
async def export_view(
    request: Request, scope: ConsoleScope,
    format: Annotated[Format, Query()] = "csv",
) -> Response:
    """The current view (its filters) as CSV or XLSX: ``GET /api/v1/leads/export``."""
    values = _filter_values(request)
    f = LeadFilter.model_validate(values)
    plan = await exports_service.prepare(scope.session, ctx=scope.ctx, f=f, headers="labels")
    await exports_service.record_download(scope.session, ctx=scope.ctx, fmt=format,
                                          filters=sorted(values))
    return await download(request, ctx=scope.ctx, plan=plan, fmt=format)


i18n.register({
    "en": {
        "leads.title": "Leads", "leads.search": "Search", "leads.status": "Status",
        "leads.tags": "Tags", "leads.source": "Source", "leads.owner": "Owner",
        "leads.list": "List", "leads.stage": "Stage", "leads.any": "Any",
        "leads.nobody": "Nobody", "leads.apply": "Apply", "leads.clear": "Clear",
        "leads.next": "Next page", "leads.first": "First page",
        "leads.total": "{n} leads", "leads.total_about": "about {n} leads",
        "leads.empty": "No leads match.", "leads.export_csv": "Export CSV",
        "leads.export_xlsx": "Export XLSX", "leads.columns": "Columns",
        "leads.columns_save": "Show these columns", "leads.new": "New lead",
        "leads.select_all": "Select all on this page", "leads.select": "Select {name}",
        "col.name": "Name", "col.email": "Email", "col.phone": "Phone",
        "col.company": "Company", "col.job_title": "Job title", "col.status": "Status",
        "col.stage": "Stage", "col.owner": "Owner", "col.score": "Score",
        "col.temperature": "Temperature", "col.tags": "Tags", "col.source": "Source",
        "col.last_contacted_at": "Last contacted", "col.created_at": "Created",
        "status.new": "New", "status.contacted": "Contacted", "status.qualified": "Qualified",
        "status.unqualified": "Unqualified", "status.converted": "Converted",
        "status.lost": "Lost", "sort.asc": "ascending", "sort.desc": "descending",
        "bulk.legend": "With the selected leads", "bulk.action": "Action",
        "bulk.status": "Set status", "bulk.owner": "Assign to", "bulk.tag": "Add tag",
        "bulk.delete": "Delete", "bulk.value_status": "New status",
        "bulk.value_owner": "New owner", "bulk.value_tag": "Tag", "bulk.apply": "Apply",
        "bulk.done": "{n} leads changed.", "bulk.failed": "{n} could not be changed.",
        "bulk.confirm": "Apply this to the selected leads?",
    },
    "es": {
        "leads.title": "Prospectos", "leads.search": "Buscar", "leads.status": "Estado",
        "leads.tags": "Etiquetas", "leads.source": "Origen", "leads.owner": "Responsable",
        "leads.list": "Lista", "leads.stage": "Etapa", "leads.any": "Cualquiera",
        "leads.nobody": "Nadie", "leads.apply": "Aplicar", "leads.clear": "Limpiar",
        "leads.next": "Página siguiente", "leads.first": "Primera página",
        "leads.total": "{n} prospectos", "leads.total_about": "unos {n} prospectos",
        "leads.empty": "Ningún prospecto coincide.", "leads.export_csv": "Exportar CSV",
        "leads.export_xlsx": "Exportar XLSX", "leads.columns": "Columnas",
        "leads.columns_save": "Mostrar estas columnas", "leads.new": "Nuevo prospecto",
        "leads.select_all": "Seleccionar todos en esta página",
        "leads.select": "Seleccionar {name}",
        "col.name": "Nombre", "col.email": "Correo", "col.phone": "Teléfono",
        "col.company": "Empresa", "col.job_title": "Cargo", "col.status": "Estado",
        "col.stage": "Etapa", "col.owner": "Responsable", "col.score": "Puntuación",
        "col.temperature": "Temperatura", "col.tags": "Etiquetas", "col.source": "Origen",
        "col.last_contacted_at": "Último contacto", "col.created_at": "Creado",
        "status.new": "Nuevo", "status.contacted": "Contactado",
        "status.qualified": "Calificado", "status.unqualified": "No calificado",
        "status.converted": "Convertido", "status.lost": "Perdido",
        "sort.asc": "ascendente", "sort.desc": "descendente",
        "bulk.legend": "Con los prospectos seleccionados", "bulk.action": "Acción",
        "bulk.status": "Cambiar estado", "bulk.owner": "Asignar a",
        "bulk.tag": "Agregar etiqueta", "bulk.delete": "Eliminar",
        "bulk.value_status": "Nuevo estado", "bulk.value_owner": "Nuevo responsable",
        "bulk.value_tag": "Etiqueta", "bulk.apply": "Aplicar",
        "bulk.done": "{n} prospectos cambiados.", "bulk.failed": "{n} no se pudieron cambiar.",
        "bulk.confirm": "¿Aplicar a los prospectos seleccionados?",
    },
})
