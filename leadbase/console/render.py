"""Rendering pages: one Jinja2 environment (autoescaped), the page context every
template gets, and writing the session cookie back when it changed."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, RedirectResponse, Response

from leadbase.console import i18n
from leadbase.console.nav import visible_items
from leadbase.console.session import codec, current
from leadbase.tenants import repository as tenants_repository

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = "/app"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(),
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Workspace:
    """The formats of the signed-in workspace."""

    name: str
    locale: str
    timezone: str
    currency: str


_formats: dict[uuid.UUID, tuple[float, Workspace]] = {}
FORMATS_TTL_SECONDS = 30.0


async def workspace_formats(session: AsyncSession, tenant_id: uuid.UUID) -> Workspace:
    """The workspace's name, locale, time zone and currency (kept 30 s per process, as
    ``tenants.service.defaults`` keeps its region and time zone)."""
    now = time.monotonic()
    hit = _formats.get(tenant_id)
    if hit is not None and now - hit[0] < FORMATS_TTL_SECONDS:
        return hit[1]
    row = await tenants_repository.get(session, tenant_id)
    value = (Workspace(row["name"], row["locale"], row["timezone"], row["currency"])
             if row else Workspace("", "en", "UTC", "USD"))
    if len(_formats) > 10_000:
        _formats.clear()
    _formats[tenant_id] = (now, value)
    return value


def translator(request: Request, workspace: Workspace | None = None) -> i18n.Translator:
    lang = i18n.negotiate(request, current(request).lang)
    if workspace is None:
        return i18n.Translator(lang=lang, locale=lang)
    return i18n.Translator(lang=lang, locale=workspace.locale, timezone=workspace.timezone,
                           currency=workspace.currency)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def finish(request: Request, response: Response) -> Response:
    """Write the session cookie when this request made or changed it; never cache."""
    if getattr(request.state, "console_session_new", False):
        codec(request).write(request, response, current(request))
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200, workspace: Workspace | None = None,
           t: i18n.Translator | None = None, headers: dict[str, str] | None = None) -> Response:
    """Render ``template`` with the page context: ``t`` (messages and formats), ``s`` (the
    session), ``csrf``, ``nav``, ``htmx`` (a partial request), ``url`` (prefix helper)."""
    s = current(request)
    tr = t or translator(request, workspace)
    values: dict[str, Any] = {
        "request": request, "t": tr, "lang": tr.lang, "s": s, "csrf": s.csrf,
        "nav": visible_items(s.role) if s.signed_in else [],
        "htmx": is_htmx(request), "prefix": PREFIX, "workspace": workspace,
        "path": request.url.path,
    }
    values.update(context or {})
    html = env.get_template(template).render(values)
    return finish(request, HTMLResponse(html, status_code=status, headers=headers))


def redirect(request: Request, url: str, status: int = 303) -> Response:
    """A redirect; for htmx requests an ``HX-Redirect`` the page follows as a whole."""
    if is_htmx(request):
        return finish(request, Response(status_code=204, headers={"HX-Redirect": url}))
    return finish(request, RedirectResponse(url, status_code=status))
