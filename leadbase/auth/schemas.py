"""Request and response bodies for authentication."""

from __future__ import annotations

import uuid

from pydantic import EmailStr, Field

from leadbase.kit.schemas import ReadModel, WriteModel


class RegisterBody(WriteModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128,
                          description="At least 8 characters, with an uppercase letter, a "
                                      "lowercase letter and a digit")
    name: str = Field(min_length=1, max_length=200)
    workspace_name: str = Field(min_length=1, max_length=200)


class LoginBody(WriteModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=128)


class RefreshBody(WriteModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutBody(WriteModel):
    refresh_token: str | None = Field(default=None, max_length=512)


class TokenResponse(ReadModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(ReadModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    tenant_id: uuid.UUID | None
    is_active: bool
