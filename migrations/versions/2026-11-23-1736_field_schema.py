"""Field schema: sections, code lists, field definitions, validation rules; RLS on each;
schema_version on lists; a GIN index for custom-field filters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:36:15.238513
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APP_ROLE = "leadbase_app"
TABLES = ("field_sections", "code_lists", "code_list_items", "field_definitions",
          "validation_rules")


def upgrade() -> None:
    op.create_table('code_lists',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_code_lists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_lists'))
    )
    op.create_index('ix_code_lists_tenant_name', 'code_lists', ['tenant_id', 'name'], unique=False)
    op.create_index('uq_code_lists_tenant_number', 'code_lists', ['tenant_id', 'number'], unique=True)
    op.create_table('code_list_items',
    sa.Column('code_list_id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['code_list_id'], ['code_lists.id'], name=op.f('fk_code_list_items_code_list_id_code_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_code_list_items_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_list_items'))
    )
    op.create_index('uq_code_list_items_code', 'code_list_items', ['tenant_id', 'code_list_id', 'code'], unique=True)
    op.create_index('uq_code_list_items_tenant_number', 'code_list_items', ['tenant_id', 'number'], unique=True)
    op.create_table('field_sections',
    sa.Column('list_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['lead_lists.id'], name=op.f('fk_field_sections_list_id_lead_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_field_sections_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_sections'))
    )
    op.create_index('ix_field_sections_tenant_list', 'field_sections', ['tenant_id', 'list_id', 'position'], unique=False)
    op.create_index('uq_field_sections_tenant_number', 'field_sections', ['tenant_id', 'number'], unique=True)
    op.create_table('field_definitions',
    sa.Column('list_id', sa.UUID(), nullable=False),
    sa.Column('section_id', sa.UUID(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('subtype', sa.String(length=30), nullable=True),
    sa.Column('required', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('default_value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('is_primary', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_visible', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('input_mask', sa.String(length=100), nullable=True),
    sa.Column('code_list_id', sa.UUID(), nullable=True),
    sa.Column('related_list_id', sa.UUID(), nullable=True),
    sa.Column('calculation_expression', sa.Text(), nullable=True),
    sa.Column('template_code', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['code_list_id'], ['code_lists.id'], name=op.f('fk_field_definitions_code_list_id_code_lists'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['list_id'], ['lead_lists.id'], name=op.f('fk_field_definitions_list_id_lead_lists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['related_list_id'], ['lead_lists.id'], name=op.f('fk_field_definitions_related_list_id_lead_lists'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['section_id'], ['field_sections.id'], name=op.f('fk_field_definitions_section_id_field_sections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_field_definitions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_definitions'))
    )
    op.create_index('ix_field_definitions_tenant_list', 'field_definitions', ['tenant_id', 'list_id', 'position'], unique=False)
    op.create_index('uq_field_definitions_code', 'field_definitions', ['tenant_id', 'list_id', sa.literal_column('lower(code)')], unique=True)
    op.create_index('uq_field_definitions_tenant_number', 'field_definitions', ['tenant_id', 'number'], unique=True)
    op.create_table('validation_rules',
    sa.Column('field_id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['field_id'], ['field_definitions.id'], name=op.f('fk_validation_rules_field_id_field_definitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_validation_rules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_validation_rules'))
    )
    op.create_index('ix_validation_rules_tenant_field', 'validation_rules', ['tenant_id', 'field_id', 'position'], unique=False)
    op.create_index('uq_validation_rules_tenant_number', 'validation_rules', ['tenant_id', 'number'], unique=True)
    op.add_column('lead_lists', sa.Column('schema_version', sa.Integer(), server_default='1', nullable=False))
    # fastupdate off: the pending list would be scanned by every lookup (primary-value
    # checks on each write), which grows slow under steady inserts.
    op.create_index('ix_leads_tenant_fields', 'leads', ['tenant_id', sa.literal_column('fields jsonb_path_ops')], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'), postgresql_with={'fastupdate': 'off'})
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
    op.drop_index('ix_leads_tenant_fields', table_name='leads', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_column('lead_lists', 'schema_version')
    op.drop_index('uq_validation_rules_tenant_number', table_name='validation_rules')
    op.drop_index('ix_validation_rules_tenant_field', table_name='validation_rules')
    op.drop_table('validation_rules')
    op.drop_index('uq_field_definitions_tenant_number', table_name='field_definitions')
    op.drop_index('uq_field_definitions_code', table_name='field_definitions')
    op.drop_index('ix_field_definitions_tenant_list', table_name='field_definitions')
    op.drop_table('field_definitions')
    op.drop_index('uq_field_sections_tenant_number', table_name='field_sections')
    op.drop_index('ix_field_sections_tenant_list', table_name='field_sections')
    op.drop_table('field_sections')
    op.drop_index('uq_code_list_items_tenant_number', table_name='code_list_items')
    op.drop_index('uq_code_list_items_code', table_name='code_list_items')
    op.drop_table('code_list_items')
    op.drop_index('uq_code_lists_tenant_number', table_name='code_lists')
    op.drop_index('ix_code_lists_tenant_name', table_name='code_lists')
    op.drop_table('code_lists')
