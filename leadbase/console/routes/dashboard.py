"""``/app/dashboard``: the analytics service's figures (``GET /api/v1/analytics/dashboard``)
drawn as charts (uPlot, vendored) with each chart's figures also as a table (screen
readers, no JavaScript). A bad range shows its message and the form again (422)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.analytics import service as analytics
from leadbase.analytics.repository import Bucket
from leadbase.analytics.schemas import Dashboard
from leadbase.console import i18n
from leadbase.console.deps import ConsoleScope
from leadbase.console.nav import NavItem, add
from leadbase.console.render import PREFIX, render, workspace_formats
from leadbase.kit.errors import ValidationFailed

router = APIRouter()
add(NavItem("nav.dashboard", PREFIX + "/dashboard", order=5))
BUCKETS = ("day", "week", "month")


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed("Dates are YYYY-MM-DD.", code="INVALID_DATE") from exc


@router.get("/dashboard")
async def dashboard(request: Request, scope: ConsoleScope,
                    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                    bucket: Annotated[Bucket, Query()] = "week") -> Response:
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    chosen = bucket
    problem = None
    body: dict[str, Any] | None = None
    try:
        found = await analytics.dashboard(scope.session, ctx=scope.ctx, start=_date(start),
                                          end=_date(end), bucket=chosen)
        body = Dashboard.model_validate(found).model_dump(mode="json", by_alias=True)
    except ValidationFailed as exc:
        problem = exc.detail
    return render(request, "dashboard/index.html", {
        "data": body, "bucket": chosen, "buckets": BUCKETS, "problem": problem,
        "start": start or (body["leads"]["by_source"]["from"] if body else ""),
        "end": end or (body["leads"]["by_source"]["to"] if body else ""),
        "data_json": orjson.dumps(body).decode().replace("</", "<\\/") if body else "null",
    }, workspace=ws, status=422 if problem else 200)


i18n.register({
    "en": {
        "nav.dashboard": "Dashboard", "dash.title": "Dashboard", "dash.from": "From",
        "dash.to": "To", "dash.bucket": "Per", "dash.day": "day", "dash.week": "week",
        "dash.month": "month", "dash.show": "Show",
        "dash.by_source": "New leads by source", "dash.funnel": "Status funnel",
        "dash.pipeline": "Pipeline value by stage", "dash.imports": "Imports",
        "dash.activities": "Activity by type", "dash.period": "Period",
        "dash.total": "Total", "dash.count": "Leads", "dash.value": "Value",
        "dash.weighted": "Weighted", "dash.deals": "Deals", "dash.stage": "Stage",
        "dash.step": "Step", "dash.no_pipeline": "No deal pipeline.",
        "dash.empty": "Nothing in this range.", "dash.figures": "Figures",
        "dash.exits": "Left the funnel", "dash.none_source": "(no source)",
    },
    "es": {
        "nav.dashboard": "Panel", "dash.title": "Panel", "dash.from": "Desde",
        "dash.to": "Hasta", "dash.bucket": "Por", "dash.day": "día", "dash.week": "semana",
        "dash.month": "mes", "dash.show": "Mostrar",
        "dash.by_source": "Prospectos nuevos por origen", "dash.funnel": "Embudo por estado",
        "dash.pipeline": "Valor del embudo de ventas por etapa",
        "dash.imports": "Importaciones", "dash.activities": "Actividad por tipo",
        "dash.period": "Período", "dash.total": "Total", "dash.count": "Prospectos",
        "dash.value": "Valor", "dash.weighted": "Ponderado", "dash.deals": "Negocios",
        "dash.stage": "Etapa", "dash.step": "Paso",
        "dash.no_pipeline": "No hay embudo de negocios.",
        "dash.empty": "Nada en este período.", "dash.figures": "Cifras",
        "dash.exits": "Salieron del embudo", "dash.none_source": "(sin origen)",
    },
})
