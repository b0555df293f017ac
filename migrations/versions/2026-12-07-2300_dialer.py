"""The dialer (issue 15): voice agents, the dial queue, calls, provider events, the
do-not-call list, and the narrow lookup that routes an unauthenticated provider webhook to
its workspace.

- ``call_agents``, ``dial_tasks``, ``calls``, ``dnc_numbers`` (numbered) and
  ``call_events`` (not numbered) are tenant tables under row-level security.
- ``call_routes`` (call id -> workspace, agent, provider, external id) is plumbing: no
  privilege for ``leadbase_app`` at all (forced row-level security with a policy that
  admits every row, so the table owner's functions read it whatever its attributes). A trigger on ``calls``
  (SECURITY DEFINER) keeps it; ``lb_voice_call_route(provider, call_id, external_id)``
  (SECURITY DEFINER) answers only ``(tenant_id, call_id, agent_id)`` for one call. The
  webhook endpoint calls it before it knows the workspace, then verifies the provider's
  signature with the agent's secret inside that workspace's scoped transaction (see
  docs/DECISIONS.md, "Routing provider webhooks to a workspace").

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0026'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROUTES = """
CREATE TABLE call_routes (
    call_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    agent_id uuid NOT NULL,
    provider text NOT NULL,
    external_id text
);
CREATE UNIQUE INDEX uq_call_routes_provider_external ON call_routes (provider, external_id)
    WHERE external_id IS NOT NULL;
REVOKE ALL ON call_routes FROM PUBLIC, leadbase_app;
-- Under forced row-level security like every table with a tenant_id, with one policy
-- that admits every row: the guard is that no role but the owner (through the two
-- functions below) has any privilege on the table.
ALTER TABLE call_routes ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_routes FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_functions_only ON call_routes USING (true) WITH CHECK (true);

CREATE FUNCTION lb_call_route_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO public.call_routes (call_id, tenant_id, agent_id, provider, external_id)
    VALUES (NEW.id, NEW.tenant_id, NEW.agent_id, NEW.provider, NEW.external_id)
    ON CONFLICT (call_id) DO UPDATE SET external_id = excluded.external_id
    WHERE call_routes.external_id IS DISTINCT FROM excluded.external_id;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION lb_call_route_sync() FROM PUBLIC;
CREATE TRIGGER lb_call_route AFTER INSERT OR UPDATE OF external_id ON calls
    FOR EACH ROW EXECUTE FUNCTION lb_call_route_sync();

-- The one cross-workspace read of an unauthenticated webhook: which workspace, call and
-- agent a provider's call id (ours, echoed as metadata) or external id belongs to.
CREATE FUNCTION lb_voice_call_route(p_provider text, p_call_id uuid, p_external_id text)
RETURNS TABLE (tenant_id uuid, call_id uuid, agent_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.tenant_id, r.call_id, r.agent_id FROM public.call_routes r
    WHERE r.provider = p_provider AND (r.call_id = p_call_id
        OR (p_external_id IS NOT NULL AND r.external_id = p_external_id))
    ORDER BY (r.call_id = p_call_id) DESC LIMIT 1
$$;
REVOKE ALL ON FUNCTION lb_voice_call_route(text, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lb_voice_call_route(text, uuid, text) TO leadbase_app;
"""


def upgrade() -> None:
    op.create_table('call_agents',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('secrets', sa.Text(), nullable=True),
    sa.Column('secret_keys', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('webhook_secret', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('business_hours', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('max_attempts', sa.Integer(), server_default='3', nullable=False),
    sa.Column('retry_delay_minutes', sa.Integer(), server_default='60', nullable=False),
    sa.Column('retry_delays', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('max_concurrent_calls', sa.Integer(), server_default='1', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('enqueue_on_lead_create', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("provider IN ('vapi', 'bland', 'simulator')", name=op.f('ck_call_agents_provider')),
    sa.CheckConstraint('max_attempts BETWEEN 1 AND 20', name=op.f('ck_call_agents_max_attempts')),
    sa.CheckConstraint('max_concurrent_calls BETWEEN 1 AND 1000', name=op.f('ck_call_agents_concurrency')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_call_agents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_agents'))
    )
    op.create_index('ix_call_agents_tenant_created', 'call_agents', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_call_agents_tenant_name', 'call_agents', ['tenant_id', sa.literal_column('lower(name)')], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('dnc_numbers',
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dnc_numbers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dnc_numbers'))
    )
    op.create_index('ix_dnc_numbers_tenant_created', 'dnc_numbers', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('uq_dnc_numbers_tenant_phone', 'dnc_numbers', ['tenant_id', 'phone'], unique=True)
    op.create_table('dial_tasks',
    sa.Column('agent_id', sa.UUID(), nullable=False),
    sa.Column('lead_id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='new', nullable=False),
    sa.Column('disposition', sa.String(length=20), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_outcome', sa.String(length=32), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_call_id', sa.UUID(), nullable=True),
    sa.Column('source', sa.String(length=16), server_default='api', nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("disposition IS NULL OR disposition IN ('completed', 'no_answer', 'not_interested', 'hung_up', 'busy', 'voicemail', 'failed', 'do_not_call')", name=op.f('ck_dial_tasks_disposition')),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'done')", name=op.f('ck_dial_tasks_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['call_agents.id'], name=op.f('fk_dial_tasks_agent_id_call_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_dial_tasks_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_dial_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dial_tasks'))
    )
    op.create_index('ix_dial_tasks_tenant_agent_due', 'dial_tasks', ['tenant_id', 'agent_id', 'next_attempt_at', 'id'], unique=False, postgresql_where=sa.text("status <> 'done' AND deleted_at IS NULL AND active_call_id IS NULL"))
    op.create_index('ix_dial_tasks_tenant_created', 'dial_tasks', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_dial_tasks_tenant_lead', 'dial_tasks', ['tenant_id', 'lead_id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_dial_tasks_tenant_agent_lead', 'dial_tasks', ['tenant_id', 'agent_id', 'lead_id'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('calls',
    sa.Column('agent_id', sa.UUID(), nullable=False),
    sa.Column('lead_id', sa.UUID(), nullable=False),
    sa.Column('dial_task_id', sa.UUID(), nullable=True),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('attempt', sa.Integer(), server_default='1', nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('callee_timezone', sa.String(length=64), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('recording_url', sa.Text(), nullable=True),
    sa.Column('cost', sa.Numeric(precision=12, scale=4), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activity_id', sa.UUID(), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'initiated', 'ringing', 'in_progress', 'completed', 'failed')", name=op.f('ck_calls_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['call_agents.id'], name=op.f('fk_calls_agent_id_call_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dial_task_id'], ['dial_tasks.id'], name=op.f('fk_calls_dial_task_id_dial_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_calls_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_calls_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    op.create_index('ix_calls_tenant_agent_created', 'calls', ['tenant_id', 'agent_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_calls_tenant_created', 'calls', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_calls_tenant_lead', 'calls', ['tenant_id', 'lead_id'], unique=False)
    op.create_index('ix_calls_tenant_open', 'calls', ['tenant_id', 'agent_id', 'queued_at'], unique=False, postgresql_where=sa.text("status NOT IN ('completed', 'failed')"))
    op.create_index('ix_calls_tenant_task', 'calls', ['tenant_id', 'dial_task_id'], unique=False)
    op.create_index('uq_calls_tenant_provider_external', 'calls', ['tenant_id', 'provider', 'external_id'], unique=True, postgresql_where=sa.text('external_id IS NOT NULL'))
    op.create_table('call_events',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('call_id', sa.UUID(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_events_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_call_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_events'))
    )
    op.create_index('ix_call_events_tenant_call', 'call_events', ['tenant_id', 'call_id', 'occurred_at'], unique=False)
    op.create_index('uq_call_events_tenant_key', 'call_events', ['tenant_id', 'provider', 'event_key'], unique=True)
    for table in ("call_agents", "dnc_numbers", "dial_tasks", "calls"):
        rls.protect(table)
    rls.protect("call_events", numbered=False)
    op.execute(ROUTES)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS lb_voice_call_route(text, uuid, text)")
    op.execute("DROP TRIGGER IF EXISTS lb_call_route ON calls")
    op.execute("DROP FUNCTION IF EXISTS lb_call_route_sync()")
    op.execute("DROP TABLE IF EXISTS call_routes")
    for table in ("call_events", "calls", "dial_tasks", "dnc_numbers", "call_agents"):
        op.drop_table(table)
