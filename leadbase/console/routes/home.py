"""``/app``: the start page (the leads, for now)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadbase.console.deps import ConsoleScope
from leadbase.console.render import PREFIX, redirect

router = APIRouter()


@router.get("")
@router.get("/")
async def home(request: Request, scope: ConsoleScope) -> Response:
    return redirect(request, PREFIX + "/leads")
