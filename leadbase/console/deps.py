"""Console dependencies: the signed-in principal from the session cookie, and the
workspace transaction (the API's own ``workspace_scope``: same membership, session and
role checks, so an agent sees only its leads and a viewer changes nothing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request

from leadbase.auth.context import Principal
from leadbase.auth.deps import RequestScope, get_limiter, get_settings_dep, workspace_scope
from leadbase.console.session import current
from leadbase.kit.errors import Unauthorized


class SignInRequired(Unauthorized):
    code = "SIGN_IN_REQUIRED"


async def console_principal(request: Request) -> Principal:
    """The signed-in user of the session cookie (redirected to sign-in when there is
    none), counted against the same per-user rate limit as the API."""
    s = current(request)
    if not s.signed_in or s.role is None:
        raise SignInRequired("Sign in to use the console.")
    await get_limiter(request).hit(get_settings_dep(request).rate_limit, "api", str(s.user_id))
    principal = Principal(role=s.role, tenant_id=s.tenant_id, user_id=s.user_id,
                          session_id=s.session_id)
    request.state.principal = principal
    return principal


ConsoleScope = Annotated[RequestScope, workspace_scope(principal_from=console_principal)]
ManagerConsoleScope = Annotated[RequestScope, workspace_scope(
    "manager", principal_from=console_principal)]
AdminConsoleScope = Annotated[RequestScope, workspace_scope(
    "admin", principal_from=console_principal)]
