"""Response bodies for the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from leadbase.kit.schemas import Page, ReadModel


class AuditEntryRead(ReadModel):
    id: uuid.UUID
    number: int
    actor_user_id: uuid.UUID | None
    actor_api_key_id: uuid.UUID | None
    action: str
    entity_type: str
    entity_id: uuid.UUID | None
    changes: dict[str, Any]
    request_id: str | None
    created_at: datetime


class AuditPage(Page[AuditEntryRead]):
    pass
