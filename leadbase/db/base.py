"""Declarative base and the columns every tenant-owned table shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    FetchedValue,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    Table,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from leadbase.kit.ids import new_id

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class Identified:
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(BigInteger, Identity(always=False), nullable=False)


def workspace_number() -> Mapped[int]:
    """``number`` counted per workspace: a trigger takes it from the workspace's sequence
    for the table when an insert gives none (migration 0015)."""
    return mapped_column(BigInteger, nullable=False, server_default=FetchedValue())


class TenantOwned(Identified, Timestamped):
    """id (UUIDv7), number (per workspace), tenant_id, created_at, updated_at."""

    number: Mapped[int] = workspace_number()

    @declared_attr
    @classmethod
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        )


class UserData:
    """Soft delete and optimistic concurrency for rows that are user data."""

    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, typed as a Table (``__table__`` is typed as FromClause)."""
    return cast(Table, model.__table__)
