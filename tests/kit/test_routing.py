"""The indexed branch matcher (leadbase.kit.routing) chooses exactly what FastAPI's own
matcher chooses, for every route of the application and for paths no route serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.kit import routing
from tests.kit.routes import branches, served


def _branches(app: FastAPI) -> list[Any]:
    return branches(app.router)


def _paths(app: FastAPI) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for path_format, route in served(app):
        path = re.sub(r"\{[^}]+\}", "0196f0c8-8b4c-7b5e-9a1e-3c1f0f5f2a10", path_format)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            out.append((method, path))
    out += [("GET", "/api/v1/nothing-here"), ("GET", "/api/v1/leads/x/y/z"),
            ("DELETE", "/api/v1/leads"), ("GET", "/"), ("GET", "/api/v1"),
            ("PUT", "/api/v1/leads/export"), ("GET", "/compat/autos/api/v1/cars")]
    return out


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "",
            "query_string": b"", "headers": []}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("routing")),
                      run_worker=False)


def test_installed(app: FastAPI) -> None:
    assert routing.install()


def test_same_choice_as_fastapi_for_every_route(app: FastAPI) -> None:
    branches = _branches(app)
    assert branches
    checked = 0
    for method, path in _paths(app):
        for branch in branches:
            original = type(branch)._lb_original_match(branch, _scope(method, path))
            indexed = branch._match(_scope(method, path))
            assert (original[0], original[2]) == (indexed[0], indexed[2]), (method, path)
            assert original[1] == indexed[1], (method, path)
            checked += 1
    assert checked > 500


def test_routes_version_follows_changes(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The memoized routes version changes when any router, however deep, changes: a
    route added after requests were matched is matched too."""
    from fastapi import APIRouter
    from fastapi.routing import _IncludedRouter  # type: ignore[attr-defined]
    from fastapi.testclient import TestClient

    assert routing.install()
    inner = APIRouter(prefix="/inner")

    @inner.get("/first")
    def first() -> dict[str, str]:
        return {"route": "first"}

    outer = APIRouter(prefix="/outer")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    client = TestClient(app)
    assert client.get("/outer/inner/first").json() == {"route": "first"}
    assert client.get("/outer/inner/second").status_code == 404
    before = app.router._get_routes_version()
    assert app.router._get_routes_version() == before

    @inner.get("/second")
    def second() -> dict[str, str]:
        return {"route": "second"}

    after = app.router._get_routes_version()
    assert after != before
    assert after == type(app.router)._get_routes_version(app.router, set())
    assert client.get("/outer/inner/second").json() == {"route": "second"}
    assert any(isinstance(r, _IncludedRouter) for r in app.router.routes)
