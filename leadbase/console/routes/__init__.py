"""The console's pages, one module each; ``ROUTERS`` in the order they are matched."""

from __future__ import annotations

from fastapi import APIRouter

from leadbase.console.routes import auth, board, dashboard, home, imports, leads, settings

ROUTERS: list[APIRouter] = [auth.router, home.router, leads.router, dashboard.router,
                            board.router, imports.router, settings.router]
