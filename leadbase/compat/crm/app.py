"""The profile as a FastAPI sub-application (its own routes, docs and error handlers)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from leadbase import __version__
from leadbase.compat import crm as package
from leadbase.compat.crm import (
    activities,
    assignment,
    conversion,
    errors,
    leads,
    limits,
    opportunities,
    opportunity_activities,
    opportunity_views,
    scoring,
    transfer,
)
from leadbase.kit.input import check_request

PREFIX = "/compat/crm/v1"
IMPORT_PATH = PREFIX + "/leads/import"


def build_app(parent: FastAPI) -> FastAPI:
    """A new profile application sharing ``parent``'s state (database, settings, rate
    limiter, token issuer)."""
    sub = FastAPI(title="Leadbase — CRM profile", version=__version__,
                  description=package.__doc__ or "",
                  dependencies=[Depends(check_request), Depends(limits.rate_limit)])
    sub.state = parent.state
    errors.install(sub)
    # The fixed paths under /leads (scoring/..., assignment/..., import, export,
    # bulk-update) before /leads/{id}, which would take them; under /opportunities
    # (pipeline/..., forecast/..., activities/upcoming) before /opportunities/{id}.
    for module in (scoring, assignment, transfer, conversion, leads, opportunity_views,
                   opportunity_activities, opportunities, activities):
        sub.include_router(module.router)
    return sub
