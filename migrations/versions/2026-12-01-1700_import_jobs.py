"""Import jobs and their per-row errors, with row-level security (0006 was reserved for
them and stays empty: databases already past it must still get these tables).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"
TABLES = ("import_jobs", "import_errors")


def upgrade() -> None:
    op.create_table('import_jobs',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('actor', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('list_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('dry_run', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('detected', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('total_rows', sa.BigInteger(), nullable=True),
    sa.Column('processed_rows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('unchanged_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('skipped_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('invalid_count', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_import_jobs_tenant_id_tenants', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name='pk_import_jobs'),
    )
    op.create_index('uq_import_jobs_tenant_number', 'import_jobs', ['tenant_id', 'number'], unique=True)
    op.create_index('ix_import_jobs_tenant_created', 'import_jobs', ['tenant_id', sa.text('created_at DESC'), sa.text('id DESC')], unique=False)
    op.create_table('import_errors',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=20), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('values', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name='fk_import_errors_tenant_id_tenants', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['import_jobs.id'], name='fk_import_errors_job_id_import_jobs', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'job_id', 'line', name='pk_import_errors'),
    )
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
    op.drop_table('import_errors')
    op.drop_table('import_jobs')
