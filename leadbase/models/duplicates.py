"""Duplicates: the scans of a workspace for likely duplicate groups, their groups, and the
merges of leads (kept 30 days for an unmerge; migration 0025)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned
from leadbase.kit.ids import new_id
from leadbase.models.exports import JobState


class DuplicateScan(Base, TenantOwned, JobState):
    """A background scan of the workspace for likely duplicate groups (``processed`` of
    ``total`` steps: the blockings, then the grouping)."""

    __tablename__ = "duplicate_scans"
    __table_args__ = (
        Index("uq_duplicate_scans_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_duplicate_scans_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    actor: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    total: Mapped[int | None] = mapped_column(BigInteger)
    processed: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    leads: Mapped[int | None] = mapped_column(BigInteger)  # live leads scanned
    groups: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


class DuplicateGroup(Base):
    """Leads of a workspace that are likely one person, found by a scan; the groups of the
    last completed scan are the workspace's."""

    __tablename__ = "duplicate_groups"
    __table_args__ = (
        Index("ix_duplicate_groups_tenant_scan_score", "tenant_id", "scan_id",
              text("score DESC"), "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    scan_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("duplicate_scans.id", ondelete="CASCADE"),
        nullable=False)
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    lead_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)),
                                                      nullable=False)
    size: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class LeadMerge(Base, TenantOwned):
    """One merge: the survivor, the leads merged into it, what moved to it (ids per table
    and merged lead) and its values before, so that an unmerge within ``expires_at``
    restores exactly what the merge changed."""

    __tablename__ = "lead_merges"
    __table_args__ = (
        Index("uq_lead_merges_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_lead_merges_tenant_survivor", "tenant_id", "survivor_id",
              text("created_at DESC")),
    )

    survivor_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False)
    merged_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)),
                                                        nullable=False)
    # {table: {merged lead id: [row ids]}}
    moved: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # The survivor's columns the merge changed, with their values before.
    before: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    # The survivor's values the merge wrote (an unmerge restores a column still at it).
    after: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    unmerged_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}")
    unmerged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12), nullable=False, server_default="merged")
