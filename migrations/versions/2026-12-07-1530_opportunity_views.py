"""Opportunity views: sums per stage and month kept by triggers, and the stale index.

- **Sums** of live opportunities, in shard rows summed on read: their count, value, the
  value of those without a probability of their own (``value_default``: weighted on read
  by the stage's probability as it is then) and the sum of value x probability of the
  others (``weighted_set``, x 100). ``opportunity_stage_sums`` per (stage, status, owner,
  currency): the pipeline view; ``opportunity_month_sums`` the open ones per (month of the
  expected close, stage, owner, currency; ``'infinity'`` without a date): the forecast.
  Kept exact by statement-level triggers on ``opportunities`` (insert, update,
  delete), each statement one set-based upsert into the shard its transaction holds
  (``lb_stage_shard()``, migration 0020), as the lead counters are. The pipeline view and
  the forecast read them instead of scanning the opportunities.
- **Stale** ``ix_opportunities_tenant_touched``: open live opportunities by when they were
  last touched (``greatest(last_activity_at, stage_entered_at)``), oldest first.
- **Forecast pages** ``ix_opportunities_tenant_close_id``: open live opportunities by
  expected close and id, the keyset of a month's page (a month's first page reads its
  first rows instead of sorting the month's first day's by id; 0021's
  ``ix_opportunities_tenant_close`` without ``id`` could go).
- **History** ``ix_opportunities_tenant_closed``: the closed live opportunities of a
  pipeline with their status (probability from history; an index-only scan).

Revision ID: 0024
Revises: 0025
Create Date: 2026-12-07 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbase.db import rls

revision: str = '0024'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ZERO = "'00000000-0000-0000-0000-000000000000'::uuid"
_SUMS = "n, value, value_default, weighted_set"
# The two tables' keys (their primary keys without ``shard``) and what they hold.
TABLES = {
    "opportunity_stage_sums": ("tenant_id, stage_id, status, owner_key, currency", ""),
    "opportunity_month_sums": ("tenant_id, close_month, stage_id, owner_key, currency",
                               " AND status = 'open'"),
}
# Columns whose change moves a sum.
_WATCHED = ("stage_id", "status", "owner_id", "currency", "expected_close_date", "value",
            "probability", "deleted_at")


def project(table: str, sign: str, where: str = "") -> str:
    """The rows of ``table`` as signed sum contributions (live rows only)."""
    return (
        f"SELECT tenant_id, stage_id, status, coalesce(owner_id, {_ZERO}) AS owner_key, "
        "currency, CASE WHEN expected_close_date IS NOT NULL "
        "THEN date_trunc('month', expected_close_date::timestamp)::date "
        "ELSE 'infinity'::date END AS close_month, "
        f"{sign} AS n, {sign} * value AS value, "
        f"CASE WHEN probability IS NULL THEN {sign} * value ELSE 0 END AS value_default, "
        f"CASE WHEN probability IS NULL THEN 0 ELSE {sign} * value * probability END "
        f"AS weighted_set FROM {table} WHERE deleted_at IS NULL{where}")


def _upsert(table: str, rows: str) -> str:
    key, only = TABLES[table]
    groups = ", ".join(str(i + 1) for i in range(key.count(",") + 1))
    return (
        f"INSERT INTO {table} AS c ({key}, shard, {_SUMS}) "
        f"SELECT {key}, (SELECT lb_stage_shard()), sum(n), sum(value), sum(value_default), "
        f"sum(weighted_set) FROM ({rows}) AS x WHERE true{only} GROUP BY {groups} "
        "HAVING sum(n) <> 0 OR sum(value) <> 0 OR sum(value_default) <> 0 "
        f"OR sum(weighted_set) <> 0 ORDER BY {groups} "
        f"ON CONFLICT ({key}, shard) DO UPDATE SET n = c.n + excluded.n, "
        "value = c.value + excluded.value, "
        "value_default = c.value_default + excluded.value_default, "
        "weighted_set = c.weighted_set + excluded.weighted_set")


def _take(table: str) -> str:
    """A delete takes from a shard row that exists (a workspace's cascade must not
    insert)."""
    key, only = TABLES[table]
    cols = [c.strip() for c in key.split(",")]
    groups = ", ".join(str(i + 1) for i in range(len(cols)))
    k_cols = ", ".join(f"k.{c}" for c in cols)
    join = " AND ".join(f"k.{c} = g.{c}" for c in cols)
    match = " AND ".join(f"c.{c} = d.{c}" for c in cols)
    return (
        f"UPDATE {table} c SET n = c.n - d.n, value = c.value - d.value, "
        "value_default = c.value_default - d.value_default, "
        "weighted_set = c.weighted_set - d.weighted_set "
        f"FROM (SELECT DISTINCT ON ({k_cols}) {k_cols}, k.shard, g.n, g.value, "
        "g.value_default, g.weighted_set "
        f"FROM (SELECT {key}, sum(n) AS n, sum(value) AS value, "
        "sum(value_default) AS value_default, sum(weighted_set) AS weighted_set "
        f"FROM ({project('old_rows', '1')}) AS x WHERE true{only} GROUP BY {groups}) g "
        f"JOIN {table} k ON {join} ORDER BY {k_cols}, k.shard) d "
        f"WHERE {match} AND c.shard = d.shard")


_CHANGED = ("SELECT o.id FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE ("
            + ", ".join(f"o.{c}" for c in _WATCHED) + ") IS DISTINCT FROM ("
            + ", ".join(f"w.{c}" for c in _WATCHED) + ")")
_MOVED = (project("old_rows", "-1", f" AND id IN ({_CHANGED})") + " UNION ALL "
          + project("new_rows", "1", f" AND id IN ({_CHANGED})"))


def _function(name: str, body: list[str]) -> str:
    return (f"CREATE FUNCTION lb_opportunity_sums_{name}() RETURNS trigger "
            "LANGUAGE plpgsql AS $$\nBEGIN\n" + "".join(f"    {s};\n" for s in body)
            + "    RETURN NULL;\nEND $$")


_FUNCTIONS = (
    _function("insert", [_upsert(t, project("new_rows", "1")) for t in TABLES]),
    # Each table's statement finds the changed rows itself (a join of the transition
    # tables on id: one row for a single-row update).
    _function("update", [_upsert(t, _MOVED) for t in TABLES]),
    _function("delete", [_take(t) for t in TABLES]),
)

_TRIGGERS = (
    "CREATE TRIGGER lb_opportunity_sums_insert AFTER INSERT ON opportunities REFERENCING "
    "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lb_opportunity_sums_insert()",
    "CREATE TRIGGER lb_opportunity_sums_update AFTER UPDATE ON opportunities REFERENCING "
    "OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
    "lb_opportunity_sums_update()",
    "CREATE TRIGGER lb_opportunity_sums_delete AFTER DELETE ON opportunities REFERENCING "
    "OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lb_opportunity_sums_delete()",
)


def rebuild(table: str) -> str:
    """The sums of ``table`` from the opportunities as they are (shard 0), for the
    statement's workspace ``%(t)s``: the back-fill, and a bulk load's (triggers off)."""
    key, only = TABLES[table]
    groups = ", ".join(str(i + 1) for i in range(key.count(",") + 1))
    return (f"INSERT INTO {table} ({key}, shard, {_SUMS}) "
            f"SELECT {key}, 0, sum(n), sum(value), sum(value_default), sum(weighted_set) "
            f"FROM ({project('opportunities', '1')}) AS x WHERE tenant_id = %(t)s{only} "
            f"GROUP BY {groups}")


def _sums_table(name: str, key: str) -> None:
    columns = [c.strip() for c in key.split(",")]
    types = {"tenant_id": sa.UUID(), "stage_id": sa.UUID(), "owner_key": sa.UUID(),
             "status": sa.String(length=8), "currency": sa.String(length=3),
             "close_month": sa.Date()}
    op.create_table(name,
    *[sa.Column(c, types[c], nullable=False) for c in columns],
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('value', sa.Numeric(), server_default='0', nullable=False),
    sa.Column('value_default', sa.Numeric(), server_default='0', nullable=False),
    sa.Column('weighted_set', sa.Numeric(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['pipeline_stages.id'], name=op.f(f'fk_{name}_stage_id_pipeline_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{name}_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(*columns, 'shard', name=op.f(f'pk_{name}'))
    )
    rls.protect(name, numbered=False)


def upgrade() -> None:
    for name, (key, _) in TABLES.items():
        _sums_table(name, key)
    for sql in _FUNCTIONS:
        op.execute(sql)
    tables = ("opportunities", *TABLES)
    for table in tables:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    for table in TABLES:
        op.execute(rebuild(table).replace("tenant_id = %(t)s", "true"))
    for table in tables:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for sql in _TRIGGERS:
        op.execute(sql)
    op.create_index('ix_opportunities_tenant_touched', 'opportunities', ['tenant_id', sa.literal_column('greatest(last_activity_at, stage_entered_at)'), 'id'], unique=False, postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.create_index('ix_opportunities_tenant_close_id', 'opportunities', ['tenant_id', 'expected_close_date', 'id'], unique=False, postgresql_where=sa.text("deleted_at IS NULL AND status = 'open'"))
    op.create_index('ix_opportunities_tenant_closed', 'opportunities', ['tenant_id', 'pipeline_id', 'id'], unique=False, postgresql_include=['status'], postgresql_where=sa.text("deleted_at IS NULL AND status IN ('won', 'lost')"))


def downgrade() -> None:
    op.drop_index('ix_opportunities_tenant_closed', table_name='opportunities')
    op.drop_index('ix_opportunities_tenant_close_id', table_name='opportunities')
    op.drop_index('ix_opportunities_tenant_touched', table_name='opportunities')
    for name in ('delete', 'update', 'insert'):
        op.execute(f"DROP TRIGGER lb_opportunity_sums_{name} ON opportunities")
        op.execute(f"DROP FUNCTION lb_opportunity_sums_{name}()")
    for name in TABLES:
        op.drop_table(name)
