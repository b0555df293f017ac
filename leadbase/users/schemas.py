"""Request and response bodies for users."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import EmailStr, Field, field_validator

from leadbase.kit.schemas import Page, ReadModel, WriteModel
from leadbase.users import hours

_HOURS = ('Per weekday up to 4 ["HH:MM", "HH:MM"] intervals in the user\'s time zone, '
          'e.g. {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}; {} = always available')


def _check_hours(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        return hours.normalise(value, field="")
    except hours.HoursError as exc:
        raise ValueError(f"{exc.field.lstrip('.')}: {exc.message}".lstrip(": ")) from None


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return hours.check_timezone(value)
    except hours.HoursError as exc:
        raise ValueError(exc.message) from None


WorkspaceRole = Literal["owner", "admin", "manager", "agent", "viewer"]


class UserCreate(WriteModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=128)
    role: WorkspaceRole = "agent"
    capacity: int | None = Field(default=None, ge=0, le=100_000,
                                 description="Most open leads (assignment)")
    working_hours: dict[str, Any] = Field(default_factory=dict, description=_HOURS)
    timezone: str | None = Field(default=None, max_length=64,
                                 description="Of the working hours (default: the workspace's)")
    out_of_office_until: date | None = Field(
        default=None, description="Out of office through this date (inclusive)")

    _hours = field_validator("working_hours")(_check_hours)
    _zone = field_validator("timezone")(_check_zone)


class UserUpdate(WriteModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: WorkspaceRole | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=128)
    capacity: int | None = Field(default=None, ge=0, le=100_000,
                                 description="Most open leads (assignment)")
    working_hours: dict[str, Any] | None = Field(default=None, description=_HOURS)
    timezone: str | None = Field(default=None, max_length=64)
    out_of_office_until: date | None = None

    _hours = field_validator("working_hours")(_check_hours)
    _zone = field_validator("timezone")(_check_zone)


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
    timezone: str | None = None
    out_of_office_until: date | None = None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class UserPage(Page[UserRead]):
    pass
