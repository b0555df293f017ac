"""Rules for lead lists. (The full list and field-schema API arrives with the field engine.)"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.kit.errors import ValidationFailed
from leadbase.lists import repository

DEFAULT_LIST_NAME = "Leads"


async def create_default(session: AsyncSession, *, tenant_id: uuid.UUID) -> uuid.UUID:
    return await repository.create(session, tenant_id=tenant_id, name=DEFAULT_LIST_NAME,
                                   is_default=True)


async def resolve(session: AsyncSession, *, tenant_id: uuid.UUID,
                  list_id: uuid.UUID | None) -> uuid.UUID:
    """The list a lead goes to: the given one (which must exist here) or the default."""
    if list_id is None:
        found = await repository.default_list_id(session, tenant_id=tenant_id)
        if found is None:
            found = await create_default(session, tenant_id=tenant_id)
        return found
    if not await repository.exists(session, tenant_id=tenant_id, list_id=list_id):
        raise ValidationFailed(
            "The list does not exist in this workspace.",
            code="LIST_NOT_FOUND",
            errors=[{"field": "list_id", "message": "unknown list"}],
        )
    return list_id
