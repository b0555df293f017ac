"""Working a lead: pipelines and stages with stage history, listings and their leads,
tasks, activities (the timeline), and the lead's pipeline, stage and last activity.

One function per domain below; each domain's later changes to this revision go in its own
function (this revision had not shipped when they were written).

- Every workspace gets a default lead pipeline and a default deal pipeline
  (``lb_create_default_pipelines(tenant)``, also called at workspace creation); existing
  leads go to the first stage of their workspace's default lead pipeline.
- A lead inserted without a stage gets the default lead pipeline's first stage from the
  ``lb_lead_default_stage`` trigger (a safety net: the services and the import name it).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:41:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A UUIDv7 (millisecond time, then random bits) for rows made in SQL, as kit.ids makes them.
_UUID7_FN = """
CREATE FUNCTION lb_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$
"""

_DEFAULT_PIPELINES_FN = """
CREATE FUNCTION lb_create_default_pipelines(tenant uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    lead_pipeline uuid := lb_uuid7();
    deal_pipeline uuid := lb_uuid7();
BEGIN
    IF EXISTS (SELECT 1 FROM pipelines WHERE tenant_id = tenant AND is_default
               AND deleted_at IS NULL) THEN
        RETURN;
    END IF;
    INSERT INTO pipelines (id, tenant_id, name, kind, is_default, position) VALUES
        (lead_pipeline, tenant, 'Leads', 'lead', true, 0),
        (deal_pipeline, tenant, 'Deals', 'deal', true, 1);
    INSERT INTO pipeline_stages (id, tenant_id, pipeline_id, name, code, position,
                                 probability, category)
    SELECT lb_uuid7(), tenant, lead_pipeline, s.name, s.code, s.position, s.probability,
           s.category
    FROM (VALUES ('New', 'new', 0, 5, 'open'), ('Contacted', 'contacted', 1, 15, 'open'),
                 ('Qualified', 'qualified', 2, 40, 'open'),
                 ('Proposal', 'proposal', 3, 60, 'open'),
                 ('Won', 'won', 4, 100, 'won'), ('Lost', 'lost', 5, 0, 'lost'))
         AS s(name, code, position, probability, category);
    INSERT INTO pipeline_stages (id, tenant_id, pipeline_id, name, code, position,
                                 probability, category)
    SELECT lb_uuid7(), tenant, deal_pipeline, s.name, s.code, s.position, s.probability,
           s.category
    FROM (VALUES ('Qualified', 'qualified', 0, 20, 'open'),
                 ('Proposal', 'proposal', 1, 50, 'open'),
                 ('Negotiation', 'negotiation', 2, 75, 'open'),
                 ('Closed won', 'closed_won', 3, 100, 'won'),
                 ('Closed lost', 'closed_lost', 4, 0, 'lost'))
         AS s(name, code, position, probability, category);
END $$
"""

_LEAD_DEFAULT_STAGE_FN = """
CREATE FUNCTION lb_lead_default_stage() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stage_id IS NULL AND NEW.pipeline_id IS NOT NULL THEN
        SELECT s.id INTO NEW.stage_id FROM pipeline_stages s
        WHERE s.tenant_id = NEW.tenant_id AND s.pipeline_id = NEW.pipeline_id
          AND s.deleted_at IS NULL
        ORDER BY s.position LIMIT 1;
    ELSIF NEW.stage_id IS NULL THEN
        SELECT p.id, s.id INTO NEW.pipeline_id, NEW.stage_id
        FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id
        WHERE p.tenant_id = NEW.tenant_id AND p.kind = 'lead' AND p.is_default
          AND p.deleted_at IS NULL AND s.deleted_at IS NULL
        ORDER BY s.position LIMIT 1;
    ELSIF NEW.pipeline_id IS NULL THEN
        SELECT s.pipeline_id INTO NEW.pipeline_id FROM pipeline_stages s
        WHERE s.id = NEW.stage_id;
    END IF;
    NEW.stage_entered_at := coalesce(NEW.stage_entered_at, NEW.created_at, now());
    RETURN NEW;
END $$
"""

_BACKFILL = """
SELECT lb_create_default_pipelines(id) FROM tenants;
UPDATE leads l SET pipeline_id = d.pipeline_id, stage_id = d.stage_id,
                   stage_entered_at = l.created_at
FROM (SELECT DISTINCT ON (p.tenant_id) p.tenant_id, p.id AS pipeline_id, s.id AS stage_id
      FROM pipelines p JOIN pipeline_stages s ON s.pipeline_id = p.id
      WHERE p.kind = 'lead' AND p.is_default AND p.deleted_at IS NULL
        AND s.deleted_at IS NULL
      ORDER BY p.tenant_id, s.position) d
WHERE l.tenant_id = d.tenant_id AND l.stage_id IS NULL;
"""

APP_TABLES = ('pipelines', 'pipeline_stages', 'stage_changes', 'listings', 'lead_listings',
              'tasks', 'activities')


def _pipelines() -> None:
    op.create_table('pipelines',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('is_default', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('lead', 'deal')", name=op.f('ck_pipelines_kind')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipelines_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipelines'))
    )
    op.create_index('ix_pipelines_tenant_kind', 'pipelines', ['tenant_id', 'kind', 'position'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_pipelines_tenant_default', 'pipelines', ['tenant_id', 'kind'], unique=True, postgresql_where=sa.text('is_default AND deleted_at IS NULL'))
    op.create_table('pipeline_stages',
    sa.Column('pipeline_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('probability', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('category', sa.String(length=8), server_default='open', nullable=False),
    sa.Column('rot_days', sa.Integer(), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("category IN ('open', 'won', 'lost')", name=op.f('ck_pipeline_stages_category')),
    sa.CheckConstraint('probability BETWEEN 0 AND 100', name=op.f('ck_pipeline_stages_probability')),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_pipeline_stages_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipeline_stages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pipeline_stages'))
    )
    op.create_index('ix_pipeline_stages_tenant_pipeline', 'pipeline_stages', ['tenant_id', 'pipeline_id', 'position'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_pipeline_stages_tenant_code', 'pipeline_stages', ['tenant_id', 'pipeline_id', 'code'], unique=True, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('stage_changes',
    sa.Column('lead_id', sa.UUID(), nullable=False),
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
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_stage_changes_actor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_stage_id'], ['pipeline_stages.id'], name=op.f('fk_stage_changes_from_stage_id_pipeline_stages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_stage_changes_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipelines.id'], name=op.f('fk_stage_changes_pipeline_id_pipelines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_stage_changes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_stage_id'], ['pipeline_stages.id'], name=op.f('fk_stage_changes_to_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    op.create_index('ix_stage_changes_tenant_from', 'stage_changes', ['tenant_id', 'from_stage_id', 'changed_at'], unique=False)
    op.create_index('ix_stage_changes_tenant_lead', 'stage_changes', ['tenant_id', 'lead_id', sa.literal_column('changed_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_stage_changes_tenant_pipeline', 'stage_changes', ['tenant_id', 'pipeline_id', 'changed_at'], unique=False)
    op.create_index('ix_stage_changes_tenant_to', 'stage_changes', ['tenant_id', 'to_stage_id', 'changed_at'], unique=False)


LISTING_SEARCH_TEXT = ("lb_search_text(title, reference, attributes ->> 'make', "
                       "attributes ->> 'model', NULL)")


def _listings() -> None:
    op.create_table('listings',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='available', nullable=False),
    sa.Column('price', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("kind IN ('vehicle', 'property', 'product', 'service', 'other')", name=op.f('ck_listings_kind')),
    sa.CheckConstraint("status IN ('available', 'reserved', 'sold', 'archived')", name=op.f('ck_listings_status')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_listings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    op.create_index('ix_listings_tenant_created', 'listings', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_listings_tenant_kind_status', 'listings', ['tenant_id', 'kind', 'status'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_listings_tenant_reference', 'listings', ['tenant_id', 'reference'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table('lead_listings',
    sa.Column('lead_id', sa.UUID(), nullable=False),
    sa.Column('listing_id', sa.UUID(), nullable=False),
    sa.Column('interest', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_listings_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_lead_listings_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lead_listings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_listings'))
    )
    op.create_index('uq_lead_listings_tenant_pair', 'lead_listings', ['tenant_id', 'lead_id', 'listing_id'], unique=True)
    # Links carry a version (ETag / If-Match on PATCH and DELETE). The lead's links in
    # order: (tenant_id, lead_id, created_at DESC, id DESC); a listing's: by id too.
    op.add_column('lead_listings', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_index('ix_lead_listings_tenant_listing', 'lead_listings', ['tenant_id', 'listing_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_lead_listings_tenant_lead', 'lead_listings', ['tenant_id', 'lead_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    # q= over title, reference, make and model: a generated text (the leads' own
    # lb_search_text: lower-cased, unaccented) under a trigram GIN index; price ranges
    # and sorts: (tenant_id, price, id).
    op.add_column('listings', sa.Column('search_text', sa.Text(), sa.Computed(LISTING_SEARCH_TEXT, persisted=True), nullable=False))
    op.create_index('ix_listings_tenant_search', 'listings', ['tenant_id', sa.literal_column('search_text gin_trgm_ops')], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_listings_tenant_price', 'listings', ['tenant_id', 'price', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))


TASK_SEARCH_TEXT = "lb_search_text(title, tag, NULL, NULL, NULL)"


def _tasks() -> None:
    op.create_table('tasks',
    sa.Column('lead_id', sa.UUID(), nullable=False),
    sa.Column('listing_id', sa.UUID(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('priority', sa.String(length=8), server_default='normal', nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('assignee_id', sa.UUID(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('position', sa.Numeric(), nullable=False),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('open', 'completed', 'not_needed', 'cancelled')", name=op.f('ck_tasks_status')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_tasks_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_tasks_listing_id_listings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_tenant_assignee_due', 'tasks', ['tenant_id', 'assignee_id', 'status', 'due_at'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_lead_position', 'tasks', ['tenant_id', 'lead_id', 'position', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_listing_position', 'tasks', ['tenant_id', 'listing_id', 'position', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_position', 'tasks', ['tenant_id', 'position', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_status_due', 'tasks', ['tenant_id', 'status', 'due_at'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    # Free JSON of the task (a profile's own fields, e.g. the autos document's targetInfo
    # as sent); q= over title and tag: a generated text (lb_search_text, as the leads')
    # under a trigram GIN index, searched together with the leads' own search_text index
    # (tasks.repository: a UNION of the two index scans). Sorts due and created.
    op.add_column('tasks', sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False))
    op.add_column('tasks', sa.Column('search_text', sa.Text(), sa.Computed(TASK_SEARCH_TEXT, persisted=True), nullable=False))
    op.create_index('ix_tasks_tenant_search', 'tasks', ['tenant_id', sa.literal_column('search_text gin_trgm_ops')], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_due', 'tasks', ['tenant_id', 'due_at', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_tasks_tenant_created', 'tasks', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))


def _activities() -> None:
    op.create_table('activities',
    sa.Column('lead_id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('author_user_id', sa.UUID(), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('listing_id', sa.UUID(), nullable=True),
    sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_activities_author_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_activities_lead_id_leads'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_activities_listing_id_listings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_activities_task_id_tasks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_activities_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities'))
    )
    op.create_index('ix_activities_tenant_author_time', 'activities', ['tenant_id', 'author_user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_activities_tenant_lead_time', 'activities', ['tenant_id', 'lead_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_activities_tenant_upcoming', 'activities', ['tenant_id', 'author_user_id', 'scheduled_for'], unique=False, postgresql_where=sa.text('deleted_at IS NULL AND completed_at IS NULL AND scheduled_for IS NOT NULL'))




def _leads() -> None:
    op.add_column('leads', sa.Column('pipeline_id', sa.UUID(), nullable=True))
    op.add_column('leads', sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leads', sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_leads_tenant_stage_created', 'leads', ['tenant_id', 'stage_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_foreign_key(op.f('fk_leads_pipeline_id_pipelines'), 'leads', 'pipelines', ['pipeline_id'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_leads_stage_id_pipeline_stages'), 'leads', 'pipeline_stages', ['stage_id'], ['id'], ondelete='RESTRICT')


def _as_owner(sql: str, tables: tuple[str, ...]) -> None:
    """Run ``sql`` across workspaces (the owner, ``NO FORCE`` for its duration)."""
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(sql)
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    _pipelines()
    _listings()
    _tasks()
    _activities()
    _leads()
    for table in APP_TABLES:
        rls.protect(table)
    op.execute(_UUID7_FN)
    op.execute(_DEFAULT_PIPELINES_FN)
    op.execute(_LEAD_DEFAULT_STAGE_FN)
    op.execute("CREATE TRIGGER lb_lead_default_stage BEFORE INSERT ON leads FOR EACH ROW "
               "WHEN (NEW.stage_id IS NULL OR NEW.pipeline_id IS NULL) "
               "EXECUTE FUNCTION lb_lead_default_stage()")
    _as_owner(_BACKFILL, ("pipelines", "pipeline_stages", "leads"))


def downgrade() -> None:
    op.execute("DROP TRIGGER lb_lead_default_stage ON leads")
    op.execute("DROP FUNCTION lb_lead_default_stage()")
    op.execute("DROP FUNCTION lb_create_default_pipelines(uuid)")
    op.execute("DROP FUNCTION lb_uuid7()")
    op.drop_constraint(op.f('fk_leads_stage_id_pipeline_stages'), 'leads', type_='foreignkey')
    op.drop_constraint(op.f('fk_leads_pipeline_id_pipelines'), 'leads', type_='foreignkey')
    op.drop_index('ix_leads_tenant_stage_created', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_column('leads', 'last_activity_at')
    op.drop_column('leads', 'stage_entered_at')
    op.drop_column('leads', 'pipeline_id')
    op.drop_index('ix_activities_tenant_upcoming', table_name='activities', postgresql_where=sa.text('deleted_at IS NULL AND completed_at IS NULL AND scheduled_for IS NOT NULL'))
    op.drop_index('ix_activities_tenant_lead_time', table_name='activities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_activities_tenant_author_time', table_name='activities', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('activities')
    op.drop_index('ix_tasks_tenant_status_due', table_name='tasks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_tasks_tenant_position', table_name='tasks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_tasks_tenant_listing_position', table_name='tasks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_tasks_tenant_lead_position', table_name='tasks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_tasks_tenant_assignee_due', table_name='tasks', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('tasks')
    op.drop_index('ix_stage_changes_tenant_to', table_name='stage_changes')
    op.drop_index('ix_stage_changes_tenant_pipeline', table_name='stage_changes')
    op.drop_index('ix_stage_changes_tenant_lead', table_name='stage_changes')
    op.drop_index('ix_stage_changes_tenant_from', table_name='stage_changes')
    op.drop_table('stage_changes')
    op.drop_index('uq_lead_listings_tenant_pair', table_name='lead_listings')
    op.drop_index('ix_lead_listings_tenant_listing', table_name='lead_listings')
    op.drop_table('lead_listings')
    op.drop_index('uq_pipeline_stages_tenant_code', table_name='pipeline_stages', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_pipeline_stages_tenant_pipeline', table_name='pipeline_stages', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('pipeline_stages')
    op.drop_index('uq_pipelines_tenant_default', table_name='pipelines', postgresql_where=sa.text('is_default AND deleted_at IS NULL'))
    op.drop_index('ix_pipelines_tenant_kind', table_name='pipelines', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('pipelines')
    op.drop_index('ix_listings_tenant_reference', table_name='listings', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_listings_tenant_kind_status', table_name='listings', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_listings_tenant_created', table_name='listings', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('listings')
