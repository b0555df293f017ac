"""Route matching that skips, by a string prefix test, the included routers and routes a
request's path cannot reach.

FastAPI (0.16x) keeps every included router as a nested branch and matches a request by
trying each branch's routes in order, recursively, twice (once to choose, once to
handle): a path served late in the table (``/api/v1/segments``, ``/api/v1/opportunities``)
paid a regular-expression test of every route before it, about half a millisecond of
CPU per request (``bench/profile_requests.py``: ``not found`` walks the whole table).

A route's path can only match a request path that starts with the route's literal
prefix (its path up to the first ``{``), and an included router's paths only one that
starts with the longest prefix its routes share. :func:`install` makes the branch
matcher test that first, so a branch is entered only when the path can be in it. The
order of the candidates that are tried, and so what matches, is FastAPI's own:
``tests/kit/test_routing.py`` checks it against the unindexed matcher for every route.
When FastAPI's private classes are not what this was written for, nothing is changed.
"""

from __future__ import annotations

import os
from typing import Any

_INSTALLED = False


def _literal(path_format: str) -> str:
    return path_format.split("{", 1)[0]


def _prefix(candidate: Any, included: type) -> str:
    """The literal prefix every path ``candidate`` matches starts with: for a plain route
    (FastAPI's or Starlette's) its path up to the first parameter, for an included router
    what its candidates share, and "" (no test) for anything else (a mount, a host)."""
    from fastapi.routing import APIRoute
    from starlette.routing import Route

    if isinstance(candidate, included):
        branch: Any = candidate
        prefixes = [_prefix(c, included) for c in branch.effective_candidates()]
        # A string prefix (not path components): a startswith test on the request path.
        return os.path.commonprefix(prefixes) if prefixes else ""  # noqa: RUF071
    if not isinstance(getattr(candidate, "original_route", None), APIRoute | Route):
        return ""
    path_format = getattr(candidate, "path_format", None)
    return _literal(path_format) if isinstance(path_format, str) else ""


def install() -> bool:
    """Index FastAPI's branch matcher (once per process); whether it is indexed."""
    global _INSTALLED
    if _INSTALLED:
        return True
    try:
        from fastapi import routing
        from fastapi.routing import _IncludedRouter
        from starlette._utils import get_route_path
    except ImportError:
        return False
    original = getattr(_IncludedRouter, "_match", None)
    if original is None or not hasattr(_IncludedRouter, "effective_candidates") or not (
            hasattr(routing.APIRouter, "_get_routes_version")):
        return False

    def prefixes(branch: Any) -> list[str]:
        version = branch.original_router._get_routes_version()
        cached = branch.__dict__.get("_lb_prefixes")
        if cached is not None and cached[0] == version:
            return list(cached[1])
        found = [_prefix(c, _IncludedRouter) for c in branch.effective_candidates()]
        branch.__dict__["_lb_prefixes"] = (version, found)
        return found

    def indexed_match(self: Any, scope: Any) -> Any:
        if scope.get("type") not in ("http", "websocket"):
            return original(self, scope)
        path = get_route_path(scope)
        candidates = self.effective_candidates()
        keep = prefixes(self)
        if len(keep) != len(candidates):
            return original(self, scope)
        narrowed = [c for c, p in zip(candidates, keep, strict=True) if path.startswith(p)]
        if len(narrowed) == len(candidates):
            return original(self, scope)
        return _match_among(self, scope, narrowed, original)

    branch_class: Any = _IncludedRouter
    branch_class._match = indexed_match
    branch_class._lb_original_match = original
    _memoize_routes_version(routing.APIRouter)
    _INSTALLED = True
    return True


# Bumped by every router's ``_mark_routes_changed``: any change anywhere invalidates every
# memoized version.
_EPOCH = [0]


def _memoize_routes_version(router_class: Any) -> None:
    """FastAPI recomputes a router's routes version, a walk over every route of its whole
    subtree, each time a branch is matched (about 170 calls and 1,400 ``isinstance`` per
    request here). The version only changes through ``_mark_routes_changed``, so remember
    it until a router marks a change."""
    original_version = router_class._get_routes_version
    original_mark = router_class._mark_routes_changed

    def mark(self: Any) -> None:
        _EPOCH[0] += 1
        original_mark(self)

    def version(self: Any, seen: set[int] | None = None) -> int:
        if seen is not None:
            return int(original_version(self, seen))
        cached = self.__dict__.get("_lb_routes_version")
        if cached is not None and cached[0] == _EPOCH[0]:
            return int(cached[1])
        epoch = _EPOCH[0]
        value = int(original_version(self))
        self.__dict__["_lb_routes_version"] = (epoch, value)
        return value

    router_class._mark_routes_changed = mark
    router_class._get_routes_version = version


def _match_among(branch: Any, scope: Any, candidates: list[Any], original: Any) -> Any:
    """FastAPI's ``_match`` over ``candidates`` only (the others cannot match the path)."""
    saved = branch.effective_candidates
    branch.effective_candidates = lambda: candidates
    try:
        return original(branch, scope)
    finally:
        branch.effective_candidates = saved
