"""Request and response bodies for API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from leadbase.kit.schemas import Page, ReadModel, Timestamp, WriteModel


class ApiKeyCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "manager", "agent", "viewer"] = "manager"
    scopes: list[Literal["read", "write"]] = Field(default=["read", "write"], min_length=1)
    expires_at: Timestamp | None = None


class ApiKeyRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    prefix: str
    role: str
    scopes: list[str]
    created_by: uuid.UUID | None
    last_used_at: datetime | None
    expires_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="The key itself. Shown once; store it now.")


class ApiKeyPage(Page[ApiKeyRead]):
    pass
