"""lb_jsonb_numeric(): a JSONB value as numeric (numbers and numeric strings), else NULL;
an index on (tenant_id, list_id) for per-list counts and filters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(r"""
CREATE OR REPLACE FUNCTION lb_jsonb_numeric(value jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
    SELECT CASE
        WHEN jsonb_typeof(value) = 'number' THEN (value #>> '{}')::numeric
        WHEN jsonb_typeof(value) = 'string' AND (value #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$'
            THEN (value #>> '{}')::numeric
    END
$$
""")
    op.create_index("ix_leads_tenant_list", "leads", ["tenant_id", "list_id"],
                    postgresql_where="deleted_at IS NULL")


def downgrade() -> None:
    op.drop_index("ix_leads_tenant_list", table_name="leads")
    op.execute("DROP FUNCTION IF EXISTS lb_jsonb_numeric(jsonb)")
