"""Request and response bodies for users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import EmailStr, Field

from leadbase.kit.schemas import Page, ReadModel, WriteModel

WorkspaceRole = Literal["owner", "admin", "manager", "agent", "viewer"]


class UserCreate(WriteModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=128)
    role: WorkspaceRole = "agent"
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    working_hours: dict[str, Any] = Field(default_factory=dict)


class UserUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: WorkspaceRole | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=128)
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    working_hours: dict[str, Any] | None = None


class UserRead(ReadModel):
    id: uuid.UUID
    number: int
    tenant_id: uuid.UUID | None
    email: str
    name: str
    role: str
    is_active: bool
    capacity: int | None
    working_hours: dict[str, Any]
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class UserPage(Page[UserRead]):
    pass
