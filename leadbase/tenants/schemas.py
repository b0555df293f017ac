"""Request and response bodies for workspaces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import EmailStr, Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel


class WorkspaceCreate(WriteModel):
    name: str = Field(min_length=1, max_length=200)
    default_region: str | None = Field(default=None, min_length=2, max_length=2,
                                       description="Defaults to LEADBASE_DEFAULT_REGION")
    timezone: str = Field(default="UTC", max_length=64)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    locale: str = Field(default="en", max_length=16)
    owner_email: EmailStr
    owner_name: str = Field(min_length=1, max_length=200)
    owner_password: str = Field(min_length=1, max_length=128)


class WorkspaceUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    default_region: str | None = Field(default=None, min_length=2, max_length=2)
    timezone: str | None = Field(default=None, max_length=64)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    locale: str | None = Field(default=None, max_length=16)
    is_active: bool | None = None
    settings: dict[str, Any] | None = None


class WorkspaceRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    slug: str
    default_region: str
    timezone: str
    currency: str
    locale: str
    settings: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int
    user_count: int | None = None


class WorkspacePage(Page[WorkspaceRead]):
    pass
