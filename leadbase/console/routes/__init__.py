"""The console's pages, one module each; ``ROUTERS`` in the order they are matched."""

from __future__ import annotations

from fastapi import APIRouter

from leadbase.console.routes import auth, home, leads

ROUTERS: list[APIRouter] = [auth.router, home.router, leads.router]
