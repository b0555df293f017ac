"""The job queue: procrastinate's schema, in the same database.

procrastinate ships its schema as SQL; later procrastinate upgrades add their own
migration files, applied by further revisions here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:00:00
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    exists = op.get_bind().exec_driver_sql(
        "SELECT to_regclass('public.procrastinate_jobs')").scalar()
    if exists is None:
        # Through the driver directly: the script contains '%' that SQLAlchemy's
        # parameter handling would misread.
        raw = op.get_bind().connection.driver_connection
        raw.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
               "procrastinate_jobs, procrastinate_workers CASCADE")
