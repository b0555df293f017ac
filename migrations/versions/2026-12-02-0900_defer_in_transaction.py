"""Jobs are deferred in the transaction that writes their row (``leadbase/worker/defer.py``).

That transaction runs as ``leadbase_app``, which had no privilege on procrastinate's
tables (0001 granted on the tables that existed then; 0002 created these). Deferring
inserts a row into ``procrastinate_jobs`` (``RETURNING id``: SELECT) and, through its
triggers, into ``procrastinate_events``. Nothing more: the worker itself connects as the
login role, not as ``leadbase_app``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"


def upgrade() -> None:
    op.execute(f"GRANT SELECT, INSERT ON procrastinate_jobs TO {APP_ROLE}")
    op.execute(f"GRANT INSERT ON procrastinate_events TO {APP_ROLE}")
    op.execute(f"GRANT USAGE ON SEQUENCE procrastinate_jobs_id_seq, "
               f"procrastinate_events_id_seq TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"REVOKE USAGE ON SEQUENCE procrastinate_jobs_id_seq, "
               f"procrastinate_events_id_seq FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT ON procrastinate_events FROM {APP_ROLE}")
    op.execute(f"REVOKE SELECT, INSERT ON procrastinate_jobs FROM {APP_ROLE}")
