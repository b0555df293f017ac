"""Every route an application serves, however deeply its routers are included or its
sub-applications mounted (FastAPI 0.16x keeps included routers as nested branches, so
``app.routes`` lists only the top level)."""

from __future__ import annotations

from typing import Any

from starlette.routing import Mount


def branches(router: Any) -> list[Any]:
    """The included-router branches under ``router``, depth first."""
    from fastapi.routing import _IncludedRouter  # type: ignore[attr-defined]

    found: list[Any] = []

    def walk(branch: Any) -> None:
        found.append(branch)
        for c in branch.effective_candidates():
            if isinstance(c, _IncludedRouter):
                walk(c)

    for route in router.routes:
        if isinstance(route, _IncludedRouter):
            walk(route)
    return found


def served(app: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(full path format, route) for every route: the effective route of each included
    router, the application's own routes, and those of mounted FastAPI applications."""
    from fastapi.routing import _IncludedRouter

    out: list[tuple[str, Any]] = []
    for branch in branches(app.router):
        for c in branch.effective_candidates():
            if not isinstance(c, _IncludedRouter) and isinstance(
                    getattr(c, "path_format", None), str):
                out.append((prefix + c.path_format, c))
    for route in app.router.routes:
        if isinstance(route, Mount) and hasattr(route.app, "router"):
            out += served(route.app, prefix + route.path)
        elif not isinstance(route, _IncludedRouter) and hasattr(route, "path_format"):
            out.append((prefix + route.path_format, route))
    return out
