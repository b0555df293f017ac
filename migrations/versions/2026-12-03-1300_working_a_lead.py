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

_ARRAY_ADD_FN = """
CREATE FUNCTION lb_int_array_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE AS $$
SELECT coalesce(array_agg(coalesce(a[i], 0) + coalesce(b[i], 0) ORDER BY i), '{}')
FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS i
$$
"""

# Exact lead counts per (stage, owner), kept by statement-level triggers on leads for
# every writer (API, imports, bulk, purges): one set-based upsert per statement, into one
# of 16 shard rows per key (the backend's), so concurrent writers rarely meet on a row.
# A shard may go negative; only the sum over the shards means something.
_ZERO = "'00000000-0000-0000-0000-000000000000'::uuid"
_COUNT_UPSERT = (
    "INSERT INTO pipeline_stage_counts AS c (tenant_id, stage_id, owner_key, shard, leads) "
    "SELECT tenant_id, stage_id, owner_key, pg_backend_pid() % 16, sum(n) FROM ({rows}) AS x "
    "GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3 "
    "ON CONFLICT (tenant_id, stage_id, owner_key, shard) "
    "DO UPDATE SET leads = c.leads + excluded.leads")
_STAGE_COUNT_TRIGGERS = (
    f"""
CREATE FUNCTION lb_stage_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_COUNT_UPSERT.format(rows=f"SELECT tenant_id, stage_id, coalesce(owner_id, {_ZERO}) AS owner_key, 1 AS n FROM new_rows WHERE stage_id IS NOT NULL AND deleted_at IS NULL")};
    INSERT INTO pipeline_stage_days AS d (tenant_id, stage_id, day, shard, entered)
    SELECT tenant_id, stage_id, (coalesce(stage_entered_at, created_at) AT TIME ZONE 'UTC')::date,
           pg_backend_pid() % 4, count(*)
    FROM new_rows WHERE stage_id IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, stage_id, day, shard) DO UPDATE SET entered = d.entered + excluded.entered;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION lb_stage_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_COUNT_UPSERT.format(rows=f"SELECT o.tenant_id, o.stage_id, coalesce(o.owner_id, {_ZERO}) AS owner_key, -1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE o.stage_id IS NOT NULL AND o.deleted_at IS NULL AND (w.stage_id IS DISTINCT FROM o.stage_id OR w.owner_id IS DISTINCT FROM o.owner_id OR w.deleted_at IS NOT NULL) UNION ALL SELECT w.tenant_id, w.stage_id, coalesce(w.owner_id, {_ZERO}), 1 FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE w.stage_id IS NOT NULL AND w.deleted_at IS NULL AND (w.stage_id IS DISTINCT FROM o.stage_id OR w.owner_id IS DISTINCT FROM o.owner_id OR o.deleted_at IS NOT NULL)")};
    RETURN NULL;
END $$""",
    # A delete takes from a shard row that exists (a workspace's cascade must not insert).
    f"""
CREATE FUNCTION lb_stage_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pipeline_stage_counts c SET leads = c.leads - d.n
    FROM (SELECT DISTINCT ON (k.tenant_id, k.stage_id, k.owner_key) k.tenant_id, k.stage_id,
                 k.owner_key, k.shard, g.n
          FROM (SELECT tenant_id, stage_id, coalesce(owner_id, {_ZERO}) AS owner_key,
                       count(*) AS n
                FROM old_rows WHERE stage_id IS NOT NULL AND deleted_at IS NULL
                GROUP BY 1, 2, 3) g
          JOIN pipeline_stage_counts k ON k.tenant_id = g.tenant_id
               AND k.stage_id = g.stage_id AND k.owner_key = g.owner_key
          ORDER BY k.tenant_id, k.stage_id, k.owner_key, k.shard) d
    WHERE c.tenant_id = d.tenant_id AND c.stage_id = d.stage_id
      AND c.owner_key = d.owner_key AND c.shard = d.shard;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER lb_stage_counts_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION lb_stage_counts_insert()",
    "CREATE TRIGGER lb_stage_counts_update AFTER UPDATE ON leads REFERENCING OLD TABLE AS "
    "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
    "lb_stage_counts_update()",
    "CREATE TRIGGER lb_stage_counts_delete AFTER DELETE ON leads REFERENCING OLD TABLE AS "
    "old_rows FOR EACH STATEMENT EXECUTE FUNCTION lb_stage_counts_delete()",
)
_DROP_STAGE_COUNTS = (
    "DROP TRIGGER lb_stage_counts_delete ON leads",
    "DROP TRIGGER lb_stage_counts_update ON leads",
    "DROP TRIGGER lb_stage_counts_insert ON leads",
    "DROP FUNCTION lb_stage_counts_delete()",
    "DROP FUNCTION lb_stage_counts_update()",
    "DROP FUNCTION lb_stage_counts_insert()",
)


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
    sa.Column('advanced_at', sa.DateTime(timezone=True), nullable=True),
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
    op.create_index('ix_stage_changes_tenant_from', 'stage_changes', ['tenant_id', 'from_stage_id', 'changed_at'], unique=False, postgresql_include=['seconds_in_previous'])
    op.create_index('ix_stage_changes_tenant_lead', 'stage_changes', ['tenant_id', 'lead_id', sa.literal_column('changed_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_stage_changes_tenant_pipeline', 'stage_changes', ['tenant_id', 'pipeline_id', 'changed_at'], unique=False)
    op.create_index('ix_stage_changes_tenant_to', 'stage_changes', ['tenant_id', 'to_stage_id', 'changed_at'], unique=False)
    # Exact per-stage lead counters and per-day stage statistics (leadbase.pipelines.board).
    op.create_table('pipeline_stage_counts',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('stage_id', sa.UUID(), nullable=False),
    sa.Column('owner_key', sa.UUID(), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('leads', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_pipeline_stage_counts_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipeline_stage_counts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'stage_id', 'owner_key', 'shard', name=op.f('pk_pipeline_stage_counts'))
    )
    op.create_table('pipeline_stage_days',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('stage_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('entered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('exited', sa.Integer(), server_default='0', nullable=False),
    sa.Column('exited_seconds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('converted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('hist', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_pipeline_stage_days_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipeline_stage_days_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'stage_id', 'day', 'shard', name=op.f('pk_pipeline_stage_days'))
    )
    for table in ('pipeline_stage_counts', 'pipeline_stage_days'):
        rls.protect(table, numbered=False)
    op.execute(_ARRAY_ADD_FN)


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
    # The workspace's activities newest first (GET /activities without a lead or author).
    op.create_index('ix_activities_tenant_time', 'activities', ['tenant_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    # The timeline reads a lead's audited changes newest first: the entity index gets the
    # time order (same leading columns, so its lookups by entity are served as before).
    op.drop_index('ix_audit_tenant_entity', table_name='audit_entries')
    op.create_index('ix_audit_tenant_entity', 'audit_entries', ['tenant_id', 'entity_type', 'entity_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)


def _activities_down() -> None:
    op.drop_index('ix_audit_tenant_entity', table_name='audit_entries')
    op.create_index('ix_audit_tenant_entity', 'audit_entries', ['tenant_id', 'entity_type', 'entity_id'], unique=False)
    op.drop_index('ix_activities_tenant_time', table_name='activities', postgresql_where=sa.text('deleted_at IS NULL'))




def _leads() -> None:
    op.add_column('leads', sa.Column('pipeline_id', sa.UUID(), nullable=True))
    op.add_column('leads', sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('leads', sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_leads_tenant_stage_created', 'leads', ['tenant_id', 'stage_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_foreign_key(op.f('fk_leads_pipeline_id_pipelines'), 'leads', 'pipelines', ['pipeline_id'], ['id'], ondelete='RESTRICT')
    op.create_foreign_key(op.f('fk_leads_stage_id_pipeline_stages'), 'leads', 'pipeline_stages', ['stage_id'], ['id'], ondelete='RESTRICT')
    for sql in _STAGE_COUNT_TRIGGERS:
        op.execute(sql)


def _as_owner(sql: str, tables: tuple[str, ...]) -> None:
    """Run ``sql`` across workspaces (the owner, ``NO FORCE`` for its duration)."""
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(sql)
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


# Number sequences of a new workspace (migration 0015): the tenants trigger made them for
# the tables 0015 knew (its arguments), so a table added later got its sequence on the
# workspace's first insert, and two first inserts at once collided on CREATE SEQUENCE (a
# unique violation in pg_class). From here the trigger makes one for every table with the
# lb_number trigger, and lb_number_seq tolerates the race (the loser takes the winner's).
# The downgrade keeps these bodies: they fit 0015's tables as well.
_SEQUENCES_FN = """
CREATE OR REPLACE FUNCTION lb_number_seq(tenant uuid, tbl text) RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    name text := 'lb_n_' || tbl || '_' || replace(coalesce(tenant, '00000000-0000-0000-0000-000000000000'::uuid)::text, '-', '');
    found regclass;
BEGIN
    IF length(name) > 63 THEN
        name := 'lb_n_' || md5(tbl || coalesce(tenant, '00000000-0000-0000-0000-000000000000'::uuid)::text);
    END IF;
    found := to_regclass('public.' || quote_ident(name));
    IF found IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS public.%I', name);
            EXECUTE format('GRANT USAGE ON SEQUENCE public.%I TO leadbase_app', name);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL;  -- made by a concurrent first insert, which has committed
        END;
        found := to_regclass('public.' || quote_ident(name));
    END IF;
    RETURN found;
END
$$;

CREATE OR REPLACE FUNCTION lb_tenant_sequences() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM public.lb_number_seq(NEW.id, c.relname::text)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE t.tgname = 'lb_number' AND n.nspname = 'public';
    RETURN NULL;
END
$$;
"""


def upgrade() -> None:
    op.execute(_SEQUENCES_FN)
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
    _as_owner(_BACKFILL, ("pipelines", "pipeline_stages", "leads", "pipeline_stage_counts",
                          "pipeline_stage_days"))


def downgrade() -> None:
    op.execute("DROP TRIGGER lb_lead_default_stage ON leads")
    op.execute("DROP FUNCTION lb_lead_default_stage()")
    op.execute("DROP FUNCTION lb_create_default_pipelines(uuid)")
    op.execute("DROP FUNCTION lb_uuid7()")
    for sql in _DROP_STAGE_COUNTS:
        op.execute(sql)
    op.drop_table('pipeline_stage_days')
    op.drop_table('pipeline_stage_counts')
    op.execute("DROP FUNCTION lb_int_array_add(integer[], integer[])")
    op.drop_constraint(op.f('fk_leads_stage_id_pipeline_stages'), 'leads', type_='foreignkey')
    op.drop_constraint(op.f('fk_leads_pipeline_id_pipelines'), 'leads', type_='foreignkey')
    op.drop_index('ix_leads_tenant_stage_created', table_name='leads', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_column('leads', 'last_activity_at')
    op.drop_column('leads', 'stage_entered_at')
    op.drop_column('leads', 'pipeline_id')
    _activities_down()
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
