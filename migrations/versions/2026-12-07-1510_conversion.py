"""Conversion: the opportunity a lead's conversion created, and the customer search.

- ``leads.converted_opportunity_id``: the opportunity made when the lead was converted
  (NULL: none was asked for), so a repeated convert answers the first result.
- ``ix_customers_tenant_search``: trigram GIN over the customer's lower-cased name and
  email, for ``GET /customers?q=``.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH = "lower(name || ' ' || coalesce(email, ''))"


def upgrade() -> None:
    op.add_column('leads', sa.Column('converted_opportunity_id', sa.UUID(), nullable=True))
    op.create_foreign_key(op.f('fk_leads_converted_opportunity_id_opportunities'), 'leads',
                          'opportunities', ['converted_opportunity_id'], ['id'],
                          ondelete='SET NULL')
    op.create_index('ix_customers_tenant_search', 'customers',
                    ['tenant_id', sa.literal_column(f"({SEARCH}) gin_trgm_ops")],
                    unique=False, postgresql_using='gin',
                    postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_customers_tenant_search', table_name='customers')
    op.drop_constraint(op.f('fk_leads_converted_opportunity_id_opportunities'), 'leads',
                       type_='foreignkey')
    op.drop_column('leads', 'converted_opportunity_id')
