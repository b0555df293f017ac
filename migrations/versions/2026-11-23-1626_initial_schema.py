"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:26:08.772982

Extensions, helper functions, the application role, every table, and row-level
security: each tenant-owned table gets ``FORCE ROW LEVEL SECURITY`` and a policy on
the per-transaction setting ``app.tenant_id``. The auth tables (tenants, users,
api_keys, refresh_tokens) also admit the ``app.scope = 'system'`` setting, which
only the sign-in, platform-administration and outbox-drain code paths set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "leadbase_app"

STRICT_TABLES = ("lead_lists", "leads", "audit_entries")
# Also reachable in the system scope: sign-in, API-key lookup, the outbox drain and the
# expiry sweep of idempotency keys.
AUTH_TABLES = ("users", "api_keys", "refresh_tokens", "events", "idempotency_keys")

PRELUDE = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE OR REPLACE FUNCTION lb_unaccent(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, value) $$;

CREATE OR REPLACE FUNCTION lb_search_text(
    first_name text, last_name text, email text, phone text, company text
) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT lower(lb_unaccent(concat_ws(' ', first_name, last_name, email, phone, company))) $$;

CREATE OR REPLACE FUNCTION lb_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION lb_system_scope() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT coalesce(current_setting('app.scope', true), '') = 'system' $$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    END IF;
END
$$;
"""


def _rls() -> None:
    db_user = op.get_bind().exec_driver_sql("SELECT current_user").scalar()
    op.execute(f'GRANT {APP_ROLE} TO "{db_user}"')
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    for table in (*STRICT_TABLES, *AUTH_TABLES, "tenants"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for table in STRICT_TABLES:
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = lb_current_tenant()) "
            "WITH CHECK (tenant_id = lb_current_tenant())"
        )
    for table in AUTH_TABLES:
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = lb_current_tenant() OR lb_system_scope()) "
            "WITH CHECK (tenant_id = lb_current_tenant() OR lb_system_scope())"
        )
    op.execute(
        "CREATE POLICY tenant_isolation ON tenants "
        "USING (id = lb_current_tenant() OR lb_system_scope()) "
        "WITH CHECK (id = lb_current_tenant() OR lb_system_scope())"
    )


def upgrade() -> None:
    op.execute(PRELUDE)

    op.create_table('tenants',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('default_region', sa.String(length=2), server_default='US', nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('locale', sa.String(length=16), server_default='en', nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants'))
    )
    op.create_index('uq_tenants_slug', 'tenants', ['slug'], unique=True)
    op.create_table('audit_entries',
    sa.Column('actor_user_id', sa.UUID(), nullable=True),
    sa.Column('actor_api_key_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=True),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index('ix_audit_tenant_created', 'audit_entries', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_audit_tenant_entity', 'audit_entries', ['tenant_id', 'entity_type', 'entity_id'], unique=False)
    op.create_table('events',
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index('ix_events_pending', 'events', ['next_attempt_at'], unique=False, postgresql_where=sa.text('processed_at IS NULL'))
    op.create_index('ix_events_tenant_created', 'events', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_idempotency_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index('ix_idempotency_expires', 'idempotency_keys', ['expires_at'], unique=False)
    op.create_table('lead_lists',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_default', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lead_lists_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_lists'))
    )
    op.create_index('uq_lead_lists_tenant_default', 'lead_lists', ['tenant_id'], unique=True, postgresql_where=sa.text('is_default AND deleted_at IS NULL'))
    op.create_index('uq_lead_lists_tenant_number', 'lead_lists', ['tenant_id', 'number'], unique=True)
    op.create_table('users',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('working_hours', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_users_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('ix_users_tenant_created', 'users', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_users_email', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_index('uq_users_tenant_number', 'users', ['tenant_id', 'number'], unique=True)
    op.create_table('api_keys',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('prefix', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_keys_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_api_keys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys'))
    )
    op.create_index('ix_api_keys_tenant_created', 'api_keys', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_api_keys_prefix', 'api_keys', ['prefix'], unique=True)
    op.create_index('uq_api_keys_tenant_number', 'api_keys', ['tenant_id', 'number'], unique=True)
    op.create_table('leads',
    sa.Column('list_id', sa.UUID(), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('last_name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('company', sa.String(length=300), nullable=True),
    sa.Column('job_title', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='new', nullable=False),
    sa.Column('stage_id', sa.UUID(), nullable=True),
    sa.Column('score', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('score_breakdown', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('temperature', sa.String(length=8), server_default='cold', nullable=False),
    sa.Column('owner_id', sa.UUID(), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('fields', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('do_not_contact', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('consent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('last_contacted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_text', sa.Text(), sa.Computed('lb_search_text(first_name, last_name, email, phone, company)', persisted=True), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['list_id'], ['lead_lists.id'], name=op.f('fk_leads_list_id_lead_lists'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_leads_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_leads_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leads'))
    )
    op.create_index('ix_leads_tenant_created', 'leads', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_deleted', 'leads', ['tenant_id', 'deleted_at'], unique=False, postgresql_where=sa.text('deleted_at IS NOT NULL'))
    op.create_index('ix_leads_tenant_email', 'leads', ['tenant_id', 'email'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_owner_created', 'leads', ['tenant_id', 'owner_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_phone', 'leads', ['tenant_id', 'phone'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_score', 'leads', ['tenant_id', sa.literal_column('score DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_search', 'leads', ['tenant_id', sa.literal_column('search_text gin_trgm_ops')], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_status_created', 'leads', ['tenant_id', 'status', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_tags', 'leads', ['tenant_id', 'tags'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_leads_tenant_updated', 'leads', ['tenant_id', sa.literal_column('updated_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_leads_tenant_number', 'leads', ['tenant_id', 'number'], unique=True)
    op.create_table('refresh_tokens',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=True),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_refresh_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens'))
    )
    op.create_index('ix_refresh_tokens_family', 'refresh_tokens', ['tenant_id', 'family_id'], unique=False)
    op.create_index('uq_refresh_tokens_hash', 'refresh_tokens', ['token_hash'], unique=True)
    _rls()


def downgrade() -> None:
    op.drop_index('uq_refresh_tokens_hash', table_name='refresh_tokens')
    op.drop_index('ix_refresh_tokens_family', table_name='refresh_tokens')
    op.drop_table('refresh_tokens')
    op.drop_index('uq_leads_tenant_number', table_name='leads')
    op.drop_index('ix_leads_tenant_updated', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_tags', table_name='leads', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_status_created', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_search', table_name='leads', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_score', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_phone', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_owner_created', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_email', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_leads_tenant_deleted', table_name='leads', postgresql_where=sa.text('deleted_at IS NOT NULL'))
    op.drop_index('ix_leads_tenant_created', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('leads')
    op.drop_index('uq_api_keys_tenant_number', table_name='api_keys')
    op.drop_index('uq_api_keys_prefix', table_name='api_keys')
    op.drop_index('ix_api_keys_tenant_created', table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_index('uq_users_tenant_number', table_name='users')
    op.drop_index('uq_users_email', table_name='users')
    op.drop_index('ix_users_tenant_created', table_name='users')
    op.drop_table('users')
    op.drop_index('uq_lead_lists_tenant_number', table_name='lead_lists')
    op.drop_index('uq_lead_lists_tenant_default', table_name='lead_lists', postgresql_where=sa.text('is_default AND deleted_at IS NULL'))
    op.drop_table('lead_lists')
    op.drop_index('ix_idempotency_expires', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index('ix_events_tenant_created', table_name='events')
    op.drop_index('ix_events_pending', table_name='events', postgresql_where=sa.text('processed_at IS NULL'))
    op.drop_table('events')
    op.drop_index('ix_audit_tenant_entity', table_name='audit_entries')
    op.drop_index('ix_audit_tenant_created', table_name='audit_entries')
    op.drop_table('audit_entries')
    op.drop_index('uq_tenants_slug', table_name='tenants')
    op.drop_table('tenants')
    for fn in ("lb_search_text(text, text, text, text, text)", "lb_unaccent(text)",
               "lb_current_tenant()", "lb_system_scope()"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
