"""Duplicates and merges: duplicate scans and their groups, lead merges (kept for the
30-day unmerge window), and the indexes candidate lookups and merges need.

- ``lb_email_key(email)``: the email as one mailbox (lower case, ``+tag`` dropped, Gmail's
  dots dropped and googlemail.com as gmail.com); ``lb_email_domain(email)``,
  ``lb_domain_last(email, last_name)``; LEAKPROOF, so that they use their indexes under
  row-level security.
- ``lb_name_key(first_name, last_name)``: Double Metaphone (fuzzystrmatch) of the
  unaccented last and first names.
- ``ix_leads_tenant_email_key``, ``ix_leads_tenant_domain_last`` (email domain and last
  name) and ``ix_leads_tenant_name_key``: the candidate lookups of one lead, by btree (a
  trigram probe of ``search_text`` for the name cost 15-70 ms at 200,000 leads, growing
  with the table; the btree probe is bounded).
- ``ix_activities_tenant_lead_deleted``, ``ix_opportunities_tenant_lead_deleted``: a
  merge moves a lead's deleted activities and opportunities too (their live ones have
  ``ix_activities_tenant_lead_time`` and ``ix_opportunities_tenant_lead``; tasks have
  both halves already).
- ``duplicate_scans`` (jobs), ``duplicate_groups`` (a scan's groups), ``lead_merges``
  (what moved, the survivor's values before): under row-level security.

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0025'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PL/pgSQL, not SQL: an SQL function would be inlined into calls of lower() and
# split_part(), which are not LEAKPROOF, and under row-level security a condition that is
# not LEAKPROOF cannot use an index (see migration 0005).
FUNCTIONS = """
CREATE OR REPLACE FUNCTION lb_email_key(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$
DECLARE
    e text := lower(email);
    local text := split_part(split_part(e, '@', 1), '+', 1);
    domain text := split_part(e, '@', 2);
BEGIN
    IF domain IN ('gmail.com', 'googlemail.com') THEN
        RETURN replace(local, '.', '') || '@gmail.com';
    END IF;
    RETURN local || '@' || domain;
END $$;

CREATE OR REPLACE FUNCTION lb_email_domain(email text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$ BEGIN RETURN nullif(split_part(lower(email), '@', 2), ''); END $$;

-- The name as it sounds: Double Metaphone of the last and first names, unaccented
-- ("Fernández María" and "Maria Fernandes" share it); NULL without a name.
CREATE OR REPLACE FUNCTION lb_name_key(first_name text, last_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    f text := lower(public.unaccent('public.unaccent'::regdictionary, coalesce(first_name, '')));
    l text := lower(public.unaccent('public.unaccent'::regdictionary, coalesce(last_name, '')));
BEGIN
    IF f = '' AND l = '' THEN
        RETURN NULL;
    END IF;
    RETURN public.dmetaphone(l) || ':' || public.dmetaphone(f);
END $$;

CREATE OR REPLACE FUNCTION lb_domain_last(email text, last_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
AS $$ BEGIN RETURN split_part(lower(email), '@', 2) || chr(31) || lower(last_name); END $$;
"""
# They raise no error that depends on a row's value.
LEAKPROOF = (
    "lb_email_key(text)",
    "lb_email_domain(text)",
    "lb_domain_last(text, text)",
    "lb_name_key(text, text)",
)


def _leakproof(on: bool) -> None:
    statements = " ".join(f"ALTER FUNCTION {fn} {'LEAKPROOF' if on else 'NOT LEAKPROOF'};"
                          for fn in LEAKPROOF)
    op.execute(f"""
DO $$
BEGIN
    {statements}
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'leadbase: could not mark the duplicate lookups LEAKPROOF (needs a '
        'superuser); duplicate candidates under row-level security will not use their indexes';
END
$$
""")


LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS fuzzystrmatch")  # dmetaphone (trusted)
    op.execute(FUNCTIONS)
    _leakproof(True)
    op.execute("CREATE INDEX ix_leads_tenant_name_key ON leads "
               "(tenant_id, lb_name_key(first_name, last_name)) "
               "WHERE deleted_at IS NULL AND (first_name IS NOT NULL OR last_name IS NOT NULL)")
    op.execute("CREATE INDEX ix_leads_tenant_email_key ON leads (tenant_id, lb_email_key(email)) "
               "WHERE deleted_at IS NULL AND email IS NOT NULL")
    op.execute("CREATE INDEX ix_leads_tenant_domain_last ON leads "
               "(tenant_id, lb_domain_last(email, last_name)) "
               "WHERE deleted_at IS NULL AND email IS NOT NULL AND last_name IS NOT NULL")
    op.create_index('ix_activities_tenant_lead_deleted', 'activities', ['tenant_id', 'lead_id'],
                    postgresql_where=sa.text('deleted_at IS NOT NULL'))
    op.create_index('ix_opportunities_tenant_lead_deleted', 'opportunities',
                    ['tenant_id', 'lead_id'], postgresql_where=sa.text('deleted_at IS NOT NULL'))

    op.create_table(
        'duplicate_scans',
        sa.Column('actor', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=True),
        sa.Column('processed', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('leads', sa.BigInteger(), nullable=True),
        sa.Column('groups', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=True),
        sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False),
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_duplicate_scans_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_scans')),
    )
    op.create_index('ix_duplicate_scans_tenant_created', 'duplicate_scans',
                    ['tenant_id', sa.literal_column('created_at DESC'),
                     sa.literal_column('id DESC')])
    rls.protect("duplicate_scans")

    op.create_table(
        'duplicate_groups',
        sa.Column('tenant_id', sa.UUID(), nullable=False),
        sa.Column('scan_id', sa.UUID(), nullable=False),
        sa.Column('score', sa.SmallInteger(), nullable=False),
        sa.Column('reasons', postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column('lead_ids', postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column('size', sa.SmallInteger(), nullable=False),
        sa.Column('id', sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_duplicate_groups_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['scan_id'], ['duplicate_scans.id'],
                                name=op.f('fk_duplicate_groups_scan_id_duplicate_scans'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_groups')),
    )
    op.create_index('ix_duplicate_groups_tenant_scan_score', 'duplicate_groups',
                    ['tenant_id', 'scan_id', sa.literal_column('score DESC'), 'id'])
    rls.protect("duplicate_groups", numbered=False)

    op.create_table(
        'lead_merges',
        sa.Column('survivor_id', sa.UUID(), nullable=False),
        sa.Column('merged_ids', postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column('moved', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
        sa.Column('actor_user_id', sa.UUID(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('unmerged_ids', postgresql.ARRAY(sa.UUID()), server_default='{}',
                  nullable=False),
        sa.Column('unmerged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=12), server_default='merged', nullable=False),
        sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
        sa.Column('tenant_id', sa.UUID(), nullable=False),
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['survivor_id'], ['leads.id'],
                                name=op.f('fk_lead_merges_survivor_id_leads'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'],
                                name=op.f('fk_lead_merges_actor_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_lead_merges_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_merges')),
    )
    op.create_index('ix_lead_merges_tenant_survivor', 'lead_merges',
                    ['tenant_id', 'survivor_id', sa.literal_column('created_at DESC')])
    rls.protect("lead_merges")


def downgrade() -> None:
    op.drop_table('lead_merges')
    op.drop_table('duplicate_groups')
    op.drop_table('duplicate_scans')
    op.drop_index('ix_opportunities_tenant_lead_deleted', table_name='opportunities')
    op.drop_index('ix_activities_tenant_lead_deleted', table_name='activities')
    op.execute("DROP INDEX ix_leads_tenant_domain_last")
    op.execute("DROP INDEX ix_leads_tenant_email_key")
    op.execute("DROP INDEX ix_leads_tenant_name_key")
    _leakproof(False)
    op.execute("DROP FUNCTION lb_domain_last(text, text)")
    op.execute("DROP FUNCTION lb_name_key(text, text)")
    op.execute("DROP FUNCTION lb_email_key(text)")
    op.execute("DROP FUNCTION lb_email_domain(text)")
