"""Segments (named saved rules, or fixed member lists) and the auto-advance rules of
pipeline stages.

- ``segments``: a dynamic segment keeps its condition (normalised rule JSON), a static
  one none; names are unique per workspace among live segments (case-insensitive).
- ``segment_members``: the leads of static segments, keyed (tenant_id, segment_id,
  lead_id); a purged lead leaves its segments (cascade).
- ``stage_advance_rules``: per lead-pipeline stage, ordered rules (condition -> target
  stage of the same pipeline).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common() -> list[sa.Column[object]]:
    return [
        sa.Column("number", sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("condition", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        *_common(),
        sa.CheckConstraint("kind IN ('dynamic', 'static')", name=op.f("ck_segments_kind")),
        sa.CheckConstraint("(kind = 'dynamic') = (condition IS NOT NULL)",
                           name=op.f("ck_segments_condition")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_segments_created_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_segments_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index("uq_segments_tenant_name", "segments",
                    ["tenant_id", sa.literal_column("lower(name)")], unique=True,
                    postgresql_where=sa.text("deleted_at IS NULL"))
    rls.protect("segments")

    op.create_table(
        "segment_members",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("added_by", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_segment_members_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"],
                                name=op.f("fk_segment_members_segment_id_segments"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"],
                                name=op.f("fk_segment_members_lead_id_leads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by"], ["users.id"],
                                name=op.f("fk_segment_members_added_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("tenant_id", "segment_id", "lead_id",
                                name=op.f("pk_segment_members")),
    )
    op.create_index("ix_segment_members_tenant_lead", "segment_members",
                    ["tenant_id", "lead_id"])
    rls.protect("segment_members", numbered=False)

    op.create_table(
        "stage_advance_rules",
        sa.Column("pipeline_id", sa.UUID(), nullable=False),
        sa.Column("stage_id", sa.UUID(), nullable=False),
        sa.Column("target_stage_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("condition", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_common(),
        sa.CheckConstraint("target_stage_id <> stage_id",
                           name=op.f("ck_stage_advance_rules_target")),
        sa.ForeignKeyConstraint(["pipeline_id"], ["pipelines.id"],
                                name=op.f("fk_stage_advance_rules_pipeline_id_pipelines"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["stage_id"], ["pipeline_stages.id"],
                                name=op.f("fk_stage_advance_rules_stage_id_pipeline_stages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["target_stage_id"], ["pipeline_stages.id"],
            name=op.f("fk_stage_advance_rules_target_stage_id_pipeline_stages"),
            ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                name=op.f("fk_stage_advance_rules_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_advance_rules")),
    )
    op.create_index("ix_stage_advance_rules_tenant_stage", "stage_advance_rules",
                    ["tenant_id", "stage_id", "position"],
                    postgresql_where=sa.text("deleted_at IS NULL"))
    rls.protect("stage_advance_rules")


def downgrade() -> None:
    op.drop_table("stage_advance_rules")
    op.drop_table("segment_members")
    op.drop_table("segments")
