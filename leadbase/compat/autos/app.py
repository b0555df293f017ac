"""The profile as a FastAPI sub-application (its own routes, docs and error handlers)."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from leadbase import __version__
from leadbase.compat import autos as package
from leadbase.compat.autos import cars, errors, leads
from leadbase.kit.input import check_request

PREFIX = "/compat/autos/v1"


def build_app(parent: FastAPI) -> FastAPI:
    """A new profile application sharing ``parent``'s state (database, settings, rate
    limiter, token issuer)."""
    sub = FastAPI(title="Leadbase — vehicle leads profile", version=__version__,
                  description=package.__doc__ or "", dependencies=[Depends(check_request)])
    sub.state = parent.state
    errors.install(sub)
    for module in (leads, cars):
        sub.include_router(module.router)
    return sub
