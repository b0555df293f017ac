"""The audit log (``/api/v1/audit-log``), for admins."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from leadbase.audit import service
from leadbase.audit.schemas import AuditEntryRead, AuditPage
from leadbase.auth.deps import AdminScope
from leadbase.kit.http import json_response
from leadbase.kit.pagination import PageParams, page_params
from leadbase.kit.schemas import Timestamp

router = APIRouter(prefix="/audit-log", tags=["audit"])


@router.get("", response_model=AuditPage)
async def list_audit(
    scope: AdminScope,
    params: Annotated[PageParams, Depends(page_params)],
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_user_id: uuid.UUID | None = None,
    created_after: Timestamp | None = None,
) -> Response:
    """Newest first. Entries name the changed fields, never their values."""
    rows, total, next_cursor = await service.list_entries(
        scope.session, ctx=scope.ctx, params=params, entity_type=entity_type,
        entity_id=entity_id, action=action, actor_user_id=actor_user_id,
        created_after=created_after)
    return json_response(AuditPage(data=[AuditEntryRead.model_validate(r) for r in rows],
                                   total=total, page=params.page if not params.cursor else None,
                                   per_page=params.per_page, next_cursor=next_cursor))
