"""The web console, served at ``/app`` by the API's own application.

Server-rendered Jinja2 pages with htmx for partial updates (vendored under
``static/vendor``), over the same services, transactions and role checks as the API
(``deps.ConsoleScope`` is the API's ``workspace_scope`` fed by the session cookie).

Base modules (pages build on them): ``session`` (the sealed cookie), ``csrf``,
``deps`` (principal and scope), ``i18n`` (messages, formats), ``render`` (templates,
redirects), ``nav`` (main navigation), ``errors`` (error pages) and ``routes`` (one
module per page; ``routes.ROUTERS``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from leadbase.console import errors
from leadbase.console.csrf import csrf_protect
from leadbase.console.render import PREFIX, STATIC
from leadbase.console.session import SessionCodec


def console_router() -> APIRouter:
    from leadbase.console.routes import ROUTERS

    router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
    for sub in ROUTERS:
        router.include_router(sub, prefix=PREFIX)
    return router


def install(app: FastAPI) -> None:
    """Mount the console (before the profiles: a root profile at ``/`` takes the rest)."""
    app.state.console_sessions = SessionCodec(app.state.settings)
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(console_router())
    errors.install(app)
    if not app.state.settings.root_profile:
        async def root() -> Response:
            return RedirectResponse(PREFIX, status_code=307)

        app.add_api_route("/", root, methods=["GET", "HEAD"], include_in_schema=False)
