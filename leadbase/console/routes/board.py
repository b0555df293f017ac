"""``/app/pipelines/{id}/board``: the pipelines service's board (columns per stage with
their counts, the caller's readable set), cards moved by drag and drop or by each card's
move form (keyboard), through the stage move of ``POST /api/v1/leads/{id}/stage``; a
card's stage history (``/stage-history``) opens on the card, and shows at once on the
card just moved. Viewers see the board and move nothing (the scope refuses the post)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from leadbase.console import i18n
from leadbase.console.deps import ConsoleScope
from leadbase.console.nav import NavItem, add
from leadbase.console.render import PREFIX, is_htmx, redirect, render, workspace_formats
from leadbase.kit.errors import AppError, NotFound
from leadbase.kit.pagination import PageParams
from leadbase.pipelines import board, moves
from leadbase.pipelines import service as pipelines
from leadbase.pipelines.schemas import StageMove

router = APIRouter()
add(NavItem("nav.board", PREFIX + "/pipelines", order=20))
PER_PAGE = 20
HISTORY_PAGE = PageParams(page=1, per_page=10, cursor=None, count="none")
PIPELINES_PAGE = PageParams(page=1, per_page=50, cursor=None, count="exact")


async def _history(request: Request, scope: ConsoleScope, lead_id: uuid.UUID,
                   names: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    rows, _ = await moves.stage_history(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                        params=HISTORY_PAGE)
    return [{**r, "from_name": names.get(r["from_stage_id"], r["from_stage"] or ""),
             "to_name": names.get(r["to_stage_id"], r["to_stage"] or "")} for r in rows]


async def _context(request: Request, scope: ConsoleScope, pipeline_id: uuid.UUID,
                   moved: uuid.UUID | None = None, problem: str | None = None
                   ) -> dict[str, Any]:
    pipeline = await pipelines.get_pipeline(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id)
    body = await board.board(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                             per_page=PER_PAGE)
    names = {s["id"]: s["name"] for s in pipeline["stages"]}
    history = await _history(request, scope, moved, names) if moved else []
    return {"pipeline": pipeline, "columns": body["stages"], "moved": moved,
            "history": history, "problem": problem,
            "can_move": scope.ctx.principal.at_least("agent")}


@router.get("/pipelines")
async def default_board(request: Request, scope: ConsoleScope) -> Response:
    rows, _ = await pipelines.list_pipelines(scope.session, ctx=scope.ctx, kind="lead",
                                             params=PIPELINES_PAGE)
    if not rows:
        raise NotFound("No lead pipeline.", code="PIPELINE_NOT_FOUND")
    chosen = next((r for r in rows if r["is_default"]), rows[0])
    return redirect(request, f"{PREFIX}/pipelines/{chosen['id']}/board", status=307)


@router.get("/pipelines/{pipeline_id}/board")
async def board_page(request: Request, pipeline_id: uuid.UUID, scope: ConsoleScope,
                     moved: Annotated[uuid.UUID | None, Query()] = None) -> Response:
    ctx = await _context(request, scope, pipeline_id, moved)
    others, _ = await pipelines.list_pipelines(scope.session, ctx=scope.ctx, kind="lead",
                                               params=PIPELINES_PAGE)
    ctx["pipelines"] = others
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "board/index.html", ctx, workspace=ws)


@router.post("/pipelines/{pipeline_id}/board/move")
async def move(request: Request, pipeline_id: uuid.UUID, scope: ConsoleScope,
               lead_id: Annotated[uuid.UUID, Form()],
               stage: Annotated[str, Form(min_length=1, max_length=64)],
               reason: Annotated[str | None, Form(max_length=1000)] = None) -> Response:
    """Move a card (the stage move of the API, with its history, timeline entry and
    event); answers the board again (htmx) or redirects to it."""
    problem = None
    try:
        await moves.move_lead(scope.session, ctx=scope.ctx, lead_id=lead_id,
                              body=StageMove(stage=stage, reason=reason or None),
                              expected_version=None)
    except AppError as exc:
        if exc.status == 403 or not is_htmx(request):
            raise
        problem = exc.detail
    if not is_htmx(request):
        return redirect(request, f"{PREFIX}/pipelines/{pipeline_id}/board?moved={lead_id}")
    ctx = await _context(request, scope, pipeline_id, None if problem else lead_id, problem)
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "board/columns.html", ctx, workspace=ws,
                  status=422 if problem else 200)


@router.get("/pipelines/{pipeline_id}/board/stages/{stage_id}")
async def more_cards(request: Request, pipeline_id: uuid.UUID, stage_id: uuid.UUID,
                     scope: ConsoleScope,
                     cursor: Annotated[str | None, Query(max_length=2048)] = None) -> Response:
    """The next cards of a column (a 'more' button: keyset cursor)."""
    pipeline = await pipelines.get_pipeline(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id)
    page = await board.stage_leads(scope.session, ctx=scope.ctx, pipeline_id=pipeline_id,
                                   stage_id=stage_id, cursor=cursor, per_page=PER_PAGE)
    column = {"stage": next(s for s in pipeline["stages"] if s["id"] == stage_id),
              "leads": page}
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "board/cards.html", {
        "pipeline": pipeline, "column": column, "moved": None, "history": [],
        "can_move": scope.ctx.principal.at_least("agent")}, workspace=ws)


@router.get("/pipelines/{pipeline_id}/board/leads/{lead_id}/history")
async def history(request: Request, pipeline_id: uuid.UUID, lead_id: uuid.UUID,
                  scope: ConsoleScope) -> Response:
    pipeline = await pipelines.get_pipeline(scope.session, ctx=scope.ctx,
                                            pipeline_id=pipeline_id)
    names = {s["id"]: s["name"] for s in pipeline["stages"]}
    ws = await workspace_formats(scope.session, scope.ctx.tenant_id)
    return render(request, "board/history.html", {
        "history": await _history(request, scope, lead_id, names), "lead_id": lead_id},
        workspace=ws)


i18n.register({
    "en": {
        "nav.board": "Board", "board.title": "Pipeline board", "board.pipeline": "Pipeline",
        "board.move_to": "Move to", "board.move": "Move", "board.history": "Stage history",
        "board.no_history": "No moves yet.", "board.moved": "{name}: {from_} → {to}",
        "board.more": "More", "board.empty": "No leads.", "board.count": "{n} leads",
        "board.drag_hint": "Drag a card to another column, or choose a stage on the card.",
        "board.open": "Open lead", "board.unnamed": "(no name)",
    },
    "es": {
        "nav.board": "Tablero", "board.title": "Tablero del embudo",
        "board.pipeline": "Embudo", "board.move_to": "Mover a", "board.move": "Mover",
        "board.history": "Historial de etapas", "board.no_history": "Sin movimientos.",
        "board.moved": "{name}: {from_} → {to}", "board.more": "Más",
        "board.empty": "Sin prospectos.", "board.count": "{n} prospectos",
        "board.drag_hint": "Arrastre una tarjeta a otra columna o elija una etapa en la "
                           "tarjeta.",
        "board.open": "Abrir prospecto", "board.unnamed": "(sin nombre)",
    },
})
