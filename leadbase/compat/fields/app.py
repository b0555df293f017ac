"""The profile as a FastAPI sub-application (its own routes, docs and error handlers)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from leadbase import __version__
from leadbase.compat import fields as package
from leadbase.compat.fields import campaigns, errors, lead_fields, nomenclators, rules, sections
from leadbase.kit.input import check_request

PREFIX = "/compat/fields"


def build_app(parent: FastAPI) -> FastAPI:
    """A new profile application sharing ``parent``'s state (database, settings, rate
    limiter, token issuer): dependencies read ``request.app.state``, and inside a mounted
    application ``request.app`` is the mounted one."""
    sub = FastAPI(title="Leadbase — lead fields profile", version=__version__,
                  description=package.__doc__ or "", dependencies=[Depends(check_request)])
    sub.state = parent.state
    errors.install(sub)
    # The lead_fields router declares /lead_fields/templates and /lead_fields/active/{id}
    # before /lead_fields/{id}.
    for module in (lead_fields, rules, sections, nomenclators, campaigns):
        sub.include_router(module.router)
    return sub
