"""Idempotency keys belong to their sender: ``principal_id`` (the user or API key).

The primary key becomes (tenant_id, principal_id, key), so two senders of one
workspace never share a stored response. Stored responses are a 24-hour cache of
replays: the rows present are dropped rather than guessed an owner.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    op.add_column("idempotency_keys", sa.Column("principal_id", sa.UUID(), nullable=False))
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys",
                          ["tenant_id", "principal_id", "key"])


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys")
    op.drop_constraint("pk_idempotency_keys", "idempotency_keys", type_="primary")
    op.drop_column("idempotency_keys", "principal_id")
    op.create_primary_key("pk_idempotency_keys", "idempotency_keys", ["tenant_id", "key"])
