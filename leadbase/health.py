"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import PlainTextResponse, Response

from leadbase.db.migrate import head_revision
from leadbase.kit.http import json_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: 200 only when the database answers and every migration is applied."""
    db = getattr(request.app.state, "db", None)
    if db is None:
        return json_response({"status": "starting"}, 503)
    try:
        async with db.transaction(None) as session:
            current = (await session.execute(
                text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:
        return json_response({"status": "unavailable", "database": "unreachable"}, 503)
    head = head_revision()
    if current != head:
        return json_response({"status": "migrating", "database": current, "expected": head}, 503)
    return json_response({"status": "ready", "database": current})


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    """Request counts and latency in the Prometheus text format."""
    return PlainTextResponse(request.app.state.metrics.render(),
                             media_type="text/plain; version=0.0.4")
