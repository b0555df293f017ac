"""The service calls behind ``leadbase user create``."""

from __future__ import annotations

from leadbase.auth import service as auth_service
from leadbase.auth.context import system_context
from leadbase.db.session import Database
from leadbase.kit.errors import NotFound, ValidationFailed
from leadbase.tenants import service as tenants_service
from leadbase.users import service as users_service
from leadbase.users.schemas import UserCreate


async def create_user(db: Database, *, email: str, name: str, password: str,
                      workspace: str | None, role: str, superadmin: bool,
                      new_workspace: bool, default_region: str = "US") -> str:
    if superadmin:
        async with db.transaction(None, system=True) as session:
            user = await auth_service.create_superadmin(session, email=email, password=password,
                                                        name=name)
        return f"Superadmin {user['email']} created."
    if not workspace:
        raise ValidationFailed("Name a workspace (--workspace), or use --superadmin.",
                               code="WORKSPACE_REQUIRED")
    if new_workspace:
        async with db.transaction(None, system=True) as session:
            tenant, _ = await tenants_service.create_with_owner(
                session, name=workspace, owner_email=email, owner_name=name,
                owner_password=password, default_region=default_region)
        return f"Workspace '{tenant['slug']}' created with owner {email}."
    async with db.transaction(None, system=True) as session:
        tenant_id = await tenants_service.find_by_slug(session, workspace)
    if tenant_id is None:
        raise NotFound(f"No workspace with slug '{workspace}'.", code="WORKSPACE_NOT_FOUND")
    body = UserCreate.model_validate({"email": email, "name": name, "password": password,
                                      "role": role})
    async with db.transaction(tenant_id) as session:
        user = await users_service.create_user(session, ctx=system_context(tenant_id), body=body)
    return f"User {user['email']} ({user['role']}) created in '{workspace}'."
