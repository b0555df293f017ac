"""create_app(): routers, middleware, error handlers, and the process's resources."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import ORJSONResponse

from leadbase import __version__, console
from leadbase.activities.endpoints import lead_router as lead_timeline_router
from leadbase.activities.endpoints import router as activities_router
from leadbase.analytics.endpoints import router as analytics_router
from leadbase.apikeys.endpoints import router as apikeys_router
from leadbase.assignment.endpoints import leads_router as assignment_leads_router
from leadbase.assignment.endpoints import router as assignment_router
from leadbase.assignment.endpoints import users_router as assignment_users_router
from leadbase.audit.endpoints import router as audit_router
from leadbase.auth.endpoints import router as auth_router
from leadbase.auth.tokens import TokenIssuer
from leadbase.bulk.endpoints import router as bulk_router
from leadbase.calls.endpoints import router as calls_agents_router
from leadbase.calls.queue_endpoints import router as calls_router
from leadbase.codelists.endpoints import router as codelists_router
from leadbase.compat import mount_profiles
from leadbase.compat.crm.app import IMPORT_PATH as CRM_IMPORT
from leadbase.config import Settings, get_settings
from leadbase.customers.conversion_endpoints import leads_router as conversion_leads_router
from leadbase.customers.conversion_endpoints import settings_router as conversion_router
from leadbase.customers.endpoints import router as customers_router
from leadbase.db import migrate
from leadbase.db.session import Database
from leadbase.db.urls import libpq_url
from leadbase.duplicates.endpoints import router as duplicates_router
from leadbase.exports.endpoints import leads_router as leads_export_router
from leadbase.exports.endpoints import router as exports_router
from leadbase.fields.endpoints import router as fields_router
from leadbase.health import router as health_router
from leadbase.imports import pool as imports_pool
from leadbase.imports.endpoints import router as imports_router
from leadbase.kit import errors, fastpath, pagination, routing
from leadbase.kit.input import check_request
from leadbase.kit.ratelimit import RateLimiter
from leadbase.leads.endpoints import router as leads_router
from leadbase.listings.endpoints import lead_links_router as lead_listings_router
from leadbase.listings.endpoints import router as listings_router
from leadbase.lists.endpoints import router as lists_router
from leadbase.lists.sections.endpoints import router as sections_router
from leadbase.middleware import (
    BodyLimitMiddleware,
    Metrics,
    RequestContextMiddleware,
    ServerErrorMiddleware,
)
from leadbase.opportunities.endpoints import router as opportunities_router
from leadbase.opportunities.view_endpoints import router as opportunity_views_router
from leadbase.pipelines.advance.endpoints import leads_router as advance_leads_router
from leadbase.pipelines.advance.endpoints import router as advance_router
from leadbase.pipelines.endpoints import leads_router as pipeline_leads_router
from leadbase.pipelines.endpoints import router as pipelines_router
from leadbase.rules.endpoints import router as rules_router
from leadbase.scoring import handlers as scoring_handlers
from leadbase.scoring.endpoints import leads_router as scoring_leads_router
from leadbase.scoring.endpoints import router as scoring_router
from leadbase.segments.endpoints import router as segments_router
from leadbase.tasks.endpoints import listing_tasks_router
from leadbase.tasks.endpoints import router as tasks_router
from leadbase.tenants.endpoints import router as workspaces_router
from leadbase.users.endpoints import router as users_router

log = logging.getLogger("leadbase")
_HANDLERS = (scoring_handlers,)  # registered with the outbox drain on import

DESCRIPTION = """
Leadbase is a self-hosted, multi-tenant lead-management server.

Authenticate with `Authorization: Bearer <token>`: an access token from
`POST /api/v1/auth/login` (or `/register`), or an API key. Errors are
`application/problem+json` with a stable `code`. Lists are paginated with
`page`/`per_page` (max 200) or `cursor`.
"""


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    # /leads/export and /leads/bulk before /leads/{id}, which would take them. Routes are
    # matched in order, one by one (~1 us each): the leads, the hot path, come first
    # (POST /leads matched in 23 us instead of 56).
    # Conversion's /leads/unqualified-reasons before /leads/{lead_id}.
    for sub in (conversion_leads_router, customers_router, conversion_router):
        router.include_router(sub)
    # /leads/duplicates (leadbase.duplicates) too.
    for sub in (leads_export_router, bulk_router, duplicates_router,
                leads_router, lead_timeline_router,
                activities_router, auth_router, users_router,
                apikeys_router, workspaces_router, exports_router, imports_router, lists_router,
                sections_router, fields_router, codelists_router, audit_router,
                pipeline_leads_router, pipelines_router, advance_leads_router, advance_router,
                listings_router, lead_listings_router, tasks_router, listing_tasks_router,
                rules_router, segments_router, scoring_router, scoring_leads_router,
                assignment_router, assignment_leads_router, assignment_users_router,
                opportunity_views_router, opportunities_router, analytics_router,
                calls_agents_router, calls_router):
        router.include_router(sub)
    return router


def create_app(settings: Settings | None = None, *, database: Database | None = None,
               run_worker: bool | None = None, apply_migrations: bool = True) -> FastAPI:
    """Build the application. With ``database`` given (tests), it is used as is; otherwise
    the lifespan resolves the database (embedded when unconfigured), applies pending
    migrations and, unless ``run_worker`` is False, starts an in-process worker."""
    settings = settings or get_settings()
    worker_enabled = settings.run_worker if run_worker is None else run_worker

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        worker_task: asyncio.Task[None] | None = None
        if owned:
            libpq = await asyncio.to_thread(libpq_url, settings)
            if apply_migrations:
                await asyncio.to_thread(migrate.upgrade, libpq)
            app.state.db = Database(libpq, settings)
        else:
            app.state.db = database
        if worker_enabled:
            from leadbase.worker.app import run_worker as worker_main

            worker_task = asyncio.create_task(
                worker_main(app.state.db.libpq, settings, app.state.db))
        if owned:
            # Everything loaded so far (modules, routes, compiled schemas) lives as long as
            # the process: keep it out of the collector's full passes, which otherwise walk
            # it all and showed as 100 ms stalls in the list p99 (bench/leads_api.py).
            gc.freeze()
        try:
            yield
        finally:
            if worker_task is not None:
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker_task
            if owned:
                await app.state.db.dispose()

    app = FastAPI(
        title="Leadbase",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=ORJSONResponse,
        lifespan=lifespan,
        dependencies=[Depends(check_request)],
        # FastAPI's native OpenTelemetry looks up the global providers on every request
        # (environment reads included) and wraps each dependency in an operation span;
        # Leadbase exports its own metrics (/metrics) and configures no OpenTelemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False,
                   "operation_spans": False},
    )
    app.state.settings = settings
    imports_pool.configure(settings.import_processes)
    app.state.issuer = TokenIssuer(settings)
    pagination.configure_cursors(settings.jwt_secret())
    app.state.limiter = RateLimiter(settings.redis_url)
    app.state.metrics = Metrics()
    if database is not None:
        app.state.db = database
    errors.install(app)
    routing.install()
    fastpath.install()
    app.include_router(health_router)
    app.include_router(api_router())
    console.install(app)  # /app, and / when no root profile is set
    mount_profiles(app)
    # The multipart overhead of an upload (boundaries, form fields) is small: 1 MB spare.
    upload = (settings.import_max_upload_bytes + 1024 * 1024, "IMPORT_TOO_LARGE")
    overrides = {"/api/v1/imports": upload, CRM_IMPORT: upload}
    if (settings.root_profile or "").strip().lower() == "crm":
        overrides["/leads/import"] = upload
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes,
                       overrides=overrides)
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
