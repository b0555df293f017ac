"""Liveness, readiness, metrics, OpenAPI and error hygiene."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db.session import Database


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_readyz_is_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = Database("postgresql://nobody@127.0.0.1:1/none", settings)
    app: FastAPI = create_app(settings, database=unreachable, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as c:
        resp = await c.get("/readyz")
    assert resp.status_code == 503
    await unreachable.dispose()


async def test_metrics_and_request_id(client: httpx.AsyncClient) -> None:
    resp = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    metrics = (await client.get("/metrics")).text
    assert 'leadbase_http_requests_total{method="GET",status="200"}' in metrics
    assert "leadbase_http_request_duration_seconds_count" in metrics


async def test_openapi_documents_the_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/leads", "/api/v1/leads/{lead_id}", "/api/v1/auth/register",
                 "/api/v1/users", "/api/v1/api-keys", "/api/v1/audit-log",
                 "/api/v1/workspaces"):
        assert path in spec["paths"], path
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "NOT_FOUND"
    resp = await client.put("/api/v1/leads")
    assert resp.status_code == 405 and resp.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_unexpected_errors_reveal_nothing(settings: Settings, db: Database) -> None:
    app: FastAPI = create_app(settings, database=db, run_worker=False)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("SELECT secret FROM internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        resp = await c.get("/boom")
    assert resp.status_code == 500
    assert resp.json()["code"] == "INTERNAL_ERROR"
    assert "SELECT" not in resp.text and "Traceback" not in resp.text
