"""The console's pages, one module each; ``ROUTERS`` in the order they are matched."""

from __future__ import annotations

from fastapi import APIRouter

from leadbase.console.routes import (
    auth,
    board,
    dashboard,
    home,
    imports,
    lead,
    lead_work,
    leads,
    settings,
)

# /leads/new, /leads/columns and /leads/export before /leads/{lead_id}.
ROUTERS: list[APIRouter] = [auth.router, home.router, leads.router, lead.router,
                            lead_work.router, dashboard.router, board.router, imports.router,
                            settings.router]
