"""Export jobs and bulk-operation jobs, with row-level security.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"
TABLES = ("export_jobs", "bulk_jobs")


def _common(table: str) -> list[Any]:
    return [
        sa.Column('tenant_id', sa.UUID(), nullable=False),
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=True),
        sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=f'fk_{table}_tenant_id_tenants', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=f'pk_{table}'),
    ]


def upgrade() -> None:
    op.create_table('export_jobs',
    *_common('export_jobs'),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('headers', sa.String(length=8), server_default='labels', nullable=False),
    sa.Column('filters', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('total_rows', sa.BigInteger(), nullable=True),
    sa.Column('processed_rows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('file_name', sa.Text(), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    )
    op.create_index('uq_export_jobs_tenant_number', 'export_jobs', ['tenant_id', 'number'], unique=True)
    op.create_index('ix_export_jobs_tenant_created', 'export_jobs', ['tenant_id', sa.text('created_at DESC'), sa.text('id DESC')], unique=False)
    op.create_table('bulk_jobs',
    *_common('bulk_jobs'),
    sa.Column('actor', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('filters', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('matched', sa.BigInteger(), nullable=True),
    sa.Column('processed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('failed_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('failures', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    )
    op.create_index('uq_bulk_jobs_tenant_number', 'bulk_jobs', ['tenant_id', 'number'], unique=True)
    op.create_index('ix_bulk_jobs_tenant_created', 'bulk_jobs', ['tenant_id', sa.text('created_at DESC'), sa.text('id DESC')], unique=False)
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = lb_current_tenant()) "
            "WITH CHECK (tenant_id = lb_current_tenant())"
        )


def downgrade() -> None:
    op.drop_table('bulk_jobs')
    op.drop_table('export_jobs')
