"""From lead to revenue: customers, opportunities and their stage history; the lead's
qualification, conversion and merge columns; activities about an opportunity.

- ``customers``: company or person, matched on conversion by ``name_key`` and
  ``email_domain``; its contacts are the leads with ``customer_id``.
- ``opportunities``: deals in a deal pipeline (``probability`` NULL: the stage's), open,
  won or lost; ``opportunity_stage_changes`` their moves.
- ``leads``: ``customer_id``, ``converted_at``, ``qualified_at``, ``unqualified_reason``,
  ``merged_into_id`` and ``merged_at``.
- ``activities.opportunity_id``; ``activities.lead_id`` may be NULL for an entry of an
  opportunity that came from no lead (one of the two is always set).

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 14:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0021'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('kind', sa.String(length=8), server_default='company', nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_domain', sa.String(length=255), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('website', sa.String(length=500), nullable=True),
    sa.Column('industry', sa.String(length=200), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('owner_id', sa.UUID(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('company', 'person')", name=op.f('ck_customers_kind')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_customers_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_customers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_index('ix_customers_tenant_created', 'customers', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_customers_tenant_email_domain', 'customers', ['tenant_id', 'email_domain'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_customers_tenant_name_key', 'customers', ['tenant_id', 'name_key'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_customers_tenant_owner', 'customers', ['tenant_id', 'owner_id', sa.literal_column('created_at DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('opportunities',
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('lead_id', sa.UUID(), nullable=True),
    sa.Column('pipeline_id', sa.UUID(), nullable=False),
    sa.Column('stage_id', sa.UUID(), nullable=False),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.String(length=8), server_default='open', nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), server_default='0', nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('probability', sa.SmallInteger(), nullable=True),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.UUID(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('actual_value', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('lost_reason', sa.Text(), nullable=True),
    sa.Column('competitor', sa.String(length=200), nullable=True),
    sa.Column('close_notes', sa.Text(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reopen_reason', sa.Text(), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('open', 'won', 'lost')", name=op.f('ck_opportunities_status')),
    sa.CheckConstraint('probability IS NULL OR probability BETWEEN 0 AND 100', name=op.f('ck_opportunities_probability')),
    sa.CheckConstraint('value >= 0', name=op.f('ck_opportunities_value')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_opportunities_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_opportunities_lead_id_leads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_opportunities_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_opportunities_pipeline_id_pipelines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_opportunities_stage_id_pipeline_stages'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_opportunities_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )
    op.create_index('ix_opportunities_tenant_close', 'opportunities', ['tenant_id', 'expected_close_date'], unique=False, postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.create_index('ix_opportunities_tenant_created', 'opportunities', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_opportunities_tenant_customer', 'opportunities', ['tenant_id', 'customer_id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_opportunities_tenant_lead', 'opportunities', ['tenant_id', 'lead_id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_opportunities_tenant_owner', 'opportunities', ['tenant_id', 'owner_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_opportunities_tenant_stage', 'opportunities', ['tenant_id', 'stage_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_opportunities_tenant_stale', 'opportunities', ['tenant_id', 'last_activity_at'], unique=False, postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.create_table('opportunity_stage_changes',
    sa.Column('opportunity_id', sa.UUID(), nullable=False),
    sa.Column('pipeline_id', sa.UUID(), nullable=False),
    sa.Column('from_stage_id', sa.UUID(), nullable=True),
    sa.Column('to_stage_id', sa.UUID(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_user_id', sa.UUID(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('seconds_in_previous', sa.BigInteger(), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_opportunity_stage_changes_actor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_stage_id'], ['pipeline_stages.id'], name=op.f('fk_opportunity_stage_changes_from_stage_id_pipeline_stages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_opportunity_stage_changes_opportunity_id_opportunities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_opportunity_stage_changes_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_opportunity_stage_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_stage_id'], ['pipeline_stages.id'], name=op.f('fk_opportunity_stage_changes_to_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_stage_changes'))
    )
    rls.protect("customers")
    rls.protect("opportunities")
    op.create_index('ix_opportunity_stage_changes_tenant_opp', 'opportunity_stage_changes', ['tenant_id', 'opportunity_id', sa.literal_column('changed_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_opportunity_stage_changes_tenant_to', 'opportunity_stage_changes', ['tenant_id', 'to_stage_id', 'opportunity_id'], unique=False)
    rls.protect("opportunity_stage_changes")
    op.add_column('activities', sa.Column('opportunity_id', sa.UUID(), nullable=True))
    op.alter_column('activities', 'lead_id',
               existing_type=sa.UUID(),
               nullable=True)
    op.create_index('ix_activities_tenant_opportunity_time', 'activities', ['tenant_id', 'opportunity_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL AND opportunity_id IS NOT NULL'))
    op.create_check_constraint(op.f('ck_activities_lead_or_opportunity'), 'activities',
                               'lead_id IS NOT NULL OR opportunity_id IS NOT NULL')
    op.create_foreign_key(op.f('fk_activities_opportunity_id_opportunities'), 'activities', 'opportunities', ['opportunity_id'], ['id'], ondelete='SET NULL')
    op.add_column('leads', sa.Column('customer_id', sa.UUID(), nullable=True))
    op.add_column('leads', sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leads', sa.Column('qualified_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leads', sa.Column('unqualified_reason', sa.Text(), nullable=True))
    op.add_column('leads', sa.Column('merged_into_id', sa.UUID(), nullable=True))
    op.add_column('leads', sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_leads_tenant_customer', 'leads', ['tenant_id', 'customer_id'], unique=False, postgresql_where=sa.text('customer_id IS NOT NULL'))
    op.create_index('ix_leads_tenant_merged_into', 'leads', ['tenant_id', 'merged_into_id'], unique=False, postgresql_where=sa.text('merged_into_id IS NOT NULL'))
    op.create_foreign_key(op.f('fk_leads_merged_into_id_leads'), 'leads', 'leads', ['merged_into_id'], ['id'], ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_leads_customer_id_customers'), 'leads', 'customers', ['customer_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    op.drop_constraint(op.f('fk_leads_customer_id_customers'), 'leads', type_='foreignkey')
    op.drop_constraint(op.f('fk_leads_merged_into_id_leads'), 'leads', type_='foreignkey')
    op.drop_index('ix_leads_tenant_merged_into', table_name='leads', postgresql_where=sa.text('merged_into_id IS NOT NULL'))
    op.drop_index('ix_leads_tenant_customer', table_name='leads', postgresql_where=sa.text('customer_id IS NOT NULL'))
    op.drop_column('leads', 'merged_at')
    op.drop_column('leads', 'merged_into_id')
    op.drop_column('leads', 'unqualified_reason')
    op.drop_column('leads', 'qualified_at')
    op.drop_column('leads', 'converted_at')
    op.drop_column('leads', 'customer_id')
    op.drop_constraint(op.f('fk_activities_opportunity_id_opportunities'), 'activities', type_='foreignkey')
    op.drop_index('ix_activities_tenant_opportunity_time', table_name='activities', postgresql_where=sa.text('deleted_at IS NULL AND opportunity_id IS NOT NULL'))
    op.execute("DELETE FROM activities WHERE lead_id IS NULL")
    op.drop_constraint(op.f('ck_activities_lead_or_opportunity'), 'activities', type_='check')
    op.alter_column('activities', 'lead_id',
               existing_type=sa.UUID(),
               nullable=False)
    op.drop_column('activities', 'opportunity_id')
    op.drop_index('ix_opportunity_stage_changes_tenant_to', table_name='opportunity_stage_changes')
    op.drop_index('ix_opportunity_stage_changes_tenant_opp', table_name='opportunity_stage_changes')
    op.drop_table('opportunity_stage_changes')
    op.drop_index('ix_opportunities_tenant_stale', table_name='opportunities', postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.drop_index('ix_opportunities_tenant_stage', table_name='opportunities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_opportunities_tenant_owner', table_name='opportunities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_opportunities_tenant_lead', table_name='opportunities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_opportunities_tenant_customer', table_name='opportunities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_opportunities_tenant_created', table_name='opportunities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_opportunities_tenant_close', table_name='opportunities', postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.drop_table('opportunities')
    op.drop_index('ix_customers_tenant_owner', table_name='customers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_customers_tenant_name_key', table_name='customers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_customers_tenant_email_domain', table_name='customers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_customers_tenant_created', table_name='customers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('customers')
