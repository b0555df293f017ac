"""Stage moves without hot-row waits; one trigram index for a task search.

- **A shard per transaction** (``lb_stage_shard()``). The per-stage lead counters
  (``pipeline_stage_counts``) and the day statistics (``pipeline_stage_days``) have up to
  16 shard rows per key, and a write went to its backend's ``pg_backend_pid() % 16``: two
  backends of one pool with the same remainder met on the same rows at every move of a
  common stage (a lock wait until the other's commit, and a deadlock when one wrote the
  counter first and the other a day row first). Now a transaction takes the first shard
  it can lock (``pg_try_advisory_xact_lock``, from its backend's remainder on; held to its
  end) and writes only that shard's rows: up to 16 writing transactions at once never
  wait on a counter or a day row. Beyond 16 it writes its backend's shard and may wait on
  a row, as before. Only the sum over the shards means something (as before); reads are
  unchanged. The delete trigger still takes from a shard row that exists.
- **Month summaries** ``pipeline_stage_months``: a closed month's exits and time-in-stage
  histogram per stage, folded from its days by a daily job; metrics over a long period
  read them for its whole closed months (and the days for the rest). A month not folded
  yet is read from its days: the summaries only save work, the figures are the same.
- **Tasks' ``search_text``** holds the task's title and tag and its lead's
  ``search_text`` (names, email, phone, company), so a ``q=`` search is one trigram index
  scan of ``tasks`` instead of the union of the tasks' and the leads' scans joined back.
  It is a plain column now (a generated one cannot read another table), kept by
  triggers: ``lb_task_search_text`` (before a task's insert, or an update of its title,
  tag, lead or ``deleted_at``) and ``lb_lead_task_search_text`` (after a lead's update
  that changes its ``search_text``: its tasks, live and deleted, in two statements on
  two partial indexes). The two parts are joined by U+001F, which no search term holds,
  so no match spans the task's part and the lead's. The column keeps a 500-entry
  histogram (as ``leads.search_text``): whether a term is rare or dense is the planner's
  estimate (``tasks.listing``), and the default 100 entries guessed 100 rows for terms
  in thousands of tasks.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0020'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_STATISTICS = 500  # as leads.search_text (migration 0009): q= estimates
SHARD_LOCK_CLASS = 1_650_553_200  # the advisory lock class of the shards (two-int keys)

_SHARD_FN = f"""
CREATE FUNCTION lb_stage_shard() RETURNS smallint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    held text := current_setting('lb.stage_shard', true);
    first int := pg_backend_pid() % 16;
    k int;
BEGIN
    IF held IS NOT NULL AND held <> '' THEN
        RETURN held::smallint;
    END IF;
    FOR i IN 0..15 LOOP
        k := (first + i) % 16;
        IF pg_try_advisory_xact_lock({SHARD_LOCK_CLASS}, k) THEN
            PERFORM set_config('lb.stage_shard', k::text, true);
            RETURN k;
        END IF;
    END LOOP;
    PERFORM set_config('lb.stage_shard', first::text, true);
    RETURN first;
END $$
"""

_ZERO = "'00000000-0000-0000-0000-000000000000'::uuid"
_COUNT_UPSERT = (
    "INSERT INTO pipeline_stage_counts AS c (tenant_id, stage_id, owner_key, shard, leads) "
    "SELECT tenant_id, stage_id, owner_key, {shard}, sum(n) FROM ({rows}) AS x "
    "GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3 "
    "ON CONFLICT (tenant_id, stage_id, owner_key, shard) "
    "DO UPDATE SET leads = c.leads + excluded.leads")
_INSERTED = (f"SELECT tenant_id, stage_id, coalesce(owner_id, {_ZERO}) AS owner_key, 1 AS n "
             "FROM new_rows WHERE stage_id IS NOT NULL AND deleted_at IS NULL")
_UPDATED = (
    f"SELECT o.tenant_id, o.stage_id, coalesce(o.owner_id, {_ZERO}) AS owner_key, -1 AS n "
    "FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE o.stage_id IS NOT NULL AND "
    "o.deleted_at IS NULL AND (w.stage_id IS DISTINCT FROM o.stage_id OR w.owner_id IS "
    "DISTINCT FROM o.owner_id OR w.deleted_at IS NOT NULL) UNION ALL SELECT w.tenant_id, "
    f"w.stage_id, coalesce(w.owner_id, {_ZERO}), 1 FROM old_rows o JOIN new_rows w ON "
    "w.id = o.id WHERE w.stage_id IS NOT NULL AND w.deleted_at IS NULL AND (w.stage_id IS "
    "DISTINCT FROM o.stage_id OR w.owner_id IS DISTINCT FROM o.owner_id OR o.deleted_at IS "
    "NOT NULL)")


def _count_functions(count_shard: str, day_shard: str, declare: str) -> list[str]:
    """The insert and update trigger functions of migration 0016 with their shards."""
    return [f"""
CREATE OR REPLACE FUNCTION lb_stage_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
{declare}BEGIN
    {_COUNT_UPSERT.format(shard=count_shard, rows=_INSERTED)};
    INSERT INTO pipeline_stage_days AS d (tenant_id, stage_id, day, shard, entered)
    SELECT tenant_id, stage_id, (coalesce(stage_entered_at, created_at) AT TIME ZONE 'UTC')::date,
           {day_shard}, count(*)
    FROM new_rows WHERE stage_id IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant_id, stage_id, day, shard) DO UPDATE SET entered = d.entered + excluded.entered;
    RETURN NULL;
END $$""", f"""
CREATE OR REPLACE FUNCTION lb_stage_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
{declare}BEGIN
    {_COUNT_UPSERT.format(shard=count_shard, rows=_UPDATED)};
    RETURN NULL;
END $$"""]


# The update trigger takes a shard only when a count changes (a lead update that moves no
# counter, e.g. a rename, takes none): the shard is chosen inside the upsert, once.
_NEW_COUNTS = _count_functions("(SELECT lb_stage_shard())", "(SELECT lb_stage_shard())", "")
_OLD_COUNTS = _count_functions("pg_backend_pid() % 16", "pg_backend_pid() % 4", "")

_TASK_TEXT_FN = """
CREATE FUNCTION lb_task_search_text(title text, tag text, lead_text text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT lb_search_text(title, tag, NULL, NULL, NULL) || chr(31) || coalesce(lead_text, '')
$$
"""
_TASK_TRIGGER_FN = """
CREATE FUNCTION lb_task_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lb_task_search_text(NEW.title, NEW.tag,
        (SELECT l.search_text FROM leads l WHERE l.id = NEW.lead_id));
    RETURN NEW;
END $$
"""
_LEAD_TRIGGER_FN = """
CREATE FUNCTION lb_lead_task_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks SET search_text = lb_task_search_text(title, tag, NEW.search_text)
    WHERE tenant_id = NEW.tenant_id AND lead_id = NEW.id AND deleted_at IS NULL;
    UPDATE tasks SET search_text = lb_task_search_text(title, tag, NEW.search_text)
    WHERE tenant_id = NEW.tenant_id AND lead_id = NEW.id AND deleted_at IS NOT NULL;
    RETURN NULL;
END $$
"""
_TRIGGERS = (
    "CREATE TRIGGER lb_task_search_text BEFORE INSERT OR UPDATE OF title, tag, lead_id, "
    "deleted_at ON tasks FOR EACH ROW EXECUTE FUNCTION lb_task_search_text()",
    "CREATE TRIGGER lb_lead_task_search_text AFTER UPDATE OF first_name, last_name, email, "
    "phone, company ON leads FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM "
    "NEW.search_text) EXECUTE FUNCTION lb_lead_task_search_text()",
)
_BACKFILL = ("UPDATE tasks t SET search_text = lb_task_search_text(t.title, t.tag, "
             "l.search_text) FROM leads l WHERE l.id = t.lead_id")
_SEARCH_INDEX = ("CREATE INDEX ix_tasks_tenant_search ON tasks USING gin "
                 "(tenant_id, search_text gin_trgm_ops) WHERE deleted_at IS NULL")


def _as_owner(sql: str, tables: tuple[str, ...]) -> None:
    """Run ``sql`` across workspaces (the owner, ``NO FORCE`` for its duration)."""
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(sql)
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def _months() -> None:
    op.create_table('pipeline_stage_months',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('stage_id', sa.UUID(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('exited', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('hist', postgresql.ARRAY(sa.Integer()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f('fk_pipeline_stage_months_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_pipeline_stage_months_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'stage_id', 'month', name=op.f('pk_pipeline_stage_months'))
    )
    rls.protect('pipeline_stage_months', numbered=False)


def upgrade() -> None:
    _months()
    op.execute(_SHARD_FN)
    for sql in _NEW_COUNTS:
        op.execute(sql)
    op.drop_index('ix_tasks_tenant_search', table_name='tasks')
    op.execute("ALTER TABLE tasks ALTER COLUMN search_text DROP EXPRESSION")
    op.execute(_TASK_TEXT_FN)
    _as_owner(_BACKFILL, ("tasks", "leads"))
    op.execute(_TASK_TRIGGER_FN)
    op.execute(_LEAD_TRIGGER_FN)
    for sql in _TRIGGERS:
        op.execute(sql)
    op.execute(_SEARCH_INDEX)
    op.execute(f"ALTER TABLE tasks ALTER COLUMN search_text SET STATISTICS {SEARCH_STATISTICS}")
    op.create_index('ix_tasks_tenant_lead_deleted', 'tasks', ['tenant_id', 'lead_id'],
                    postgresql_where=sa.text('deleted_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_tasks_tenant_lead_deleted', table_name='tasks')
    op.execute("DROP TRIGGER lb_lead_task_search_text ON leads")
    op.execute("DROP TRIGGER lb_task_search_text ON tasks")
    op.execute("DROP FUNCTION lb_lead_task_search_text()")
    op.execute("DROP FUNCTION lb_task_search_text()")
    op.drop_index('ix_tasks_tenant_search', table_name='tasks')
    op.drop_column('tasks', 'search_text')
    op.execute("DROP FUNCTION lb_task_search_text(text, text, text)")
    op.add_column('tasks', sa.Column('search_text', sa.Text(), sa.Computed(
        "lb_search_text(title, tag, NULL, NULL, NULL)", persisted=True), nullable=False))
    op.execute(_SEARCH_INDEX)
    for sql in _OLD_COUNTS:
        op.execute(sql)
    op.execute("DROP FUNCTION lb_stage_shard()")
    op.drop_table('pipeline_stage_months')
