"""Assignment: users' time zone and out-of-office date, ordered assignment rules, their
rotation state, reassignment jobs, and the open-leads-per-owner index.

- ``users.timezone`` (NULL: the workspace's) is the zone of ``working_hours``;
  ``users.out_of_office_until`` (a date in that zone, inclusive).
- ``assignment_rules``: the workspace's ordered rules (condition in the rule language,
  strategy, members with weights, territory map, fallback).
- ``assignment_state``: per rule (and territory entry) the schedule slot of the last
  pick; one row, updated atomically per pick.
- ``assignment_jobs`` / ``assignment_job_leads``: background passes of the rules over
  many leads (a user's open leads; an import's new leads).
- ``ix_leads_tenant_owner_open``: the open leads of an owner, counted for capacities.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UUID = postgresql.UUID(as_uuid=True)
_JSONB = postgresql.JSONB(astext_type=sa.Text())
_NOW = sa.text("now()")


def _job_state() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_by", _UUID, nullable=True),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.add_column("users", sa.Column("timezone", sa.String(64), nullable=True))
    op.add_column("users", sa.Column("out_of_office_until", sa.Date(), nullable=True))
    op.create_table(
        "assignment_rules",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", _UUID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("condition", _JSONB, nullable=True),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("members", _JSONB, server_default="[]", nullable=False),
        sa.Column("territory", _JSONB, nullable=True),
        sa.Column("respect_working_hours", sa.Boolean(), server_default=sa.text("true"),
                  nullable=False),
        sa.Column("respect_capacity", sa.Boolean(), server_default=sa.text("true"),
                  nullable=False),
        sa.Column("fallback", sa.String(12), server_default="unassigned", nullable=False),
        sa.Column("fallback_user_id", _UUID, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "strategy IN ('round_robin', 'weighted', 'least_loaded', 'territory', "
            "'specific_user')", name=op.f("ck_assignment_rules_strategy")),
        sa.CheckConstraint("fallback IN ('unassigned', 'user')",
                           name=op.f("ck_assignment_rules_fallback")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_rules_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["fallback_user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_assignment_rules_fallback_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rules")),
    )
    op.create_index("ix_assignment_rules_tenant_position", "assignment_rules",
                    ["tenant_id", "position", "id"])
    rls.protect("assignment_rules")
    op.create_table(
        "assignment_state",
        sa.Column("tenant_id", _UUID, nullable=False),
        sa.Column("rule_id", _UUID, nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("picks", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_state_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["rule_id"], ["assignment_rules.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_state_rule_id_assignment_rules")),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id", "bucket",
                                name=op.f("pk_assignment_state")),
    )
    rls.protect("assignment_state", numbered=False)
    op.create_table(
        "assignment_jobs",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", _UUID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        *_job_state(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", _UUID, nullable=True),
        sa.Column("import_job_id", _UUID, nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("actor", _JSONB, server_default="{}", nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("processed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("assigned", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("unassigned", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("kind IN ('reassign_user', 'new_leads')",
                           name=op.f("ck_assignment_jobs_kind")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_jobs_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_jobs")),
    )
    op.create_index("ix_assignment_jobs_tenant_created", "assignment_jobs",
                    ["tenant_id", sa.text("created_at DESC"), sa.text("id DESC")])
    rls.protect("assignment_jobs")
    op.create_table(
        "assignment_job_leads",
        sa.Column("tenant_id", _UUID, nullable=False),
        sa.Column("job_id", _UUID, nullable=False),
        sa.Column("lead_id", _UUID, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_job_leads_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["job_id"], ["assignment_jobs.id"], ondelete="CASCADE",
                                name=op.f("fk_assignment_job_leads_job_id_assignment_jobs")),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", "lead_id",
                                name=op.f("pk_assignment_job_leads")),
    )
    rls.protect("assignment_job_leads", numbered=False)
    op.create_index("ix_leads_tenant_owner_open", "leads", ["tenant_id", "owner_id"],
                    postgresql_where=sa.text(
                        "deleted_at IS NULL AND status NOT IN ('converted', 'lost', "
                        "'unqualified') AND owner_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_leads_tenant_owner_open", table_name="leads")
    op.drop_table("assignment_job_leads")
    op.drop_table("assignment_jobs")
    op.drop_table("assignment_state")
    op.drop_table("assignment_rules")
    op.drop_column("users", "out_of_office_until")
    op.drop_column("users", "timezone")
