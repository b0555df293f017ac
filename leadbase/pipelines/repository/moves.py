"""SQL of stage moves: one lead (its lock and target in one round trip, then every write
in one more) and every lead of a stage at once (set-based). Both write the
``stage_changes`` rows and the per-day stage statistics (``pipeline_stage_days``, in the
shard rows of the transaction, ``lb_stage_shard()``, migration 0020); the per-stage
counters follow from the ``leads`` triggers (migrations 0016, 0020)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.kit.ids import new_id
from leadbase.leads import repository as leads_repository

BUCKETS = 120
"""Histogram of time in stage: bucket ``b`` (1-based) holds ``4·log2(1 + s)`` in
``[b - 1, b)``, four buckets per doubling (the last holds everything beyond)."""



def bucket(seconds: int) -> int:
    return min(BUCKETS, 1 + math.floor(4 * math.log2(1 + max(seconds, 0))))


def bucket_bounds(b: int) -> tuple[float, float]:
    """The seconds bucket ``b`` spans."""
    return 2 ** ((b - 1) / 4) - 1, 2 ** (b / 4) - 1


_BUCKET_SQL = f"least({BUCKETS}, 1 + floor(4 * log(2, 1 + greatest(s, 0)::numeric)))::int"

_DAY_CONFLICT = (
    " ON CONFLICT (tenant_id, stage_id, day, shard) DO UPDATE SET "
    "entered = d.entered + excluded.entered, exited = d.exited + excluded.exited, "
    "exited_seconds = d.exited_seconds + excluded.exited_seconds, "
    "converted = d.converted + excluded.converted, "
    "hist = lb_int_array_add(d.hist, excluded.hist)")

# The lead's entry into its first stage, written at its first move (its creation
# counted as an entry in the day statistics already, by the insert trigger).
_FIRST_ENTRY = (
    "INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, from_stage_id, "
    "to_stage_id, changed_at) SELECT %(id)s, %(t)s, %(l)s, %(p)s, NULL, %(s)s, %(at)s "
    "WHERE NOT EXISTS (SELECT 1 FROM stage_changes WHERE tenant_id = %(t)s "
    "AND lead_id = %(l)s)")
# Earlier entries of the lead into stages before the new one (same pipeline) have now
# advanced: counted as conversions on the day of that entry.
_ADVANCED = (
    "WITH adv AS (UPDATE stage_changes c SET advanced_at = %(now)s FROM pipeline_stages s "
    "WHERE c.tenant_id = %(t)s AND c.lead_id = %(l)s AND c.advanced_at IS NULL "
    "AND c.pipeline_id = %(p)s AND s.tenant_id = %(t)s AND s.id = c.to_stage_id "
    "AND s.position < %(pos)s "
    "RETURNING c.to_stage_id, (c.changed_at AT TIME ZONE 'UTC')::date AS day) "
    "INSERT INTO pipeline_stage_days AS d (tenant_id, stage_id, day, shard, converted) "
    "SELECT %(t)s, to_stage_id, day, lb_stage_shard(), count(*) FROM adv "
    "GROUP BY 2, 3 ORDER BY 2, 3" + _DAY_CONFLICT)
_CHANGE = (
    "INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, from_stage_id, "
    "to_stage_id, changed_at, actor_user_id, reason, seconds_in_previous) VALUES "
    "(%(id)s, %(t)s, %(l)s, %(p)s, %(from)s, %(to)s, %(now)s, %(actor)s, %(reason)s, "
    "%(secs)s)")
_DAY_ROW = ("(%s, %s, (%s AT TIME ZONE 'UTC')::date, lb_stage_shard(), "
            "%s, %s, %s, 0, %s::int[])")
_DAYS = ("INSERT INTO pipeline_stage_days AS d (tenant_id, stage_id, day, shard, entered, "
         "exited, exited_seconds, converted, hist) VALUES {rows}" + _DAY_CONFLICT)


def _lead_update(where: str) -> str:
    # last_activity_at as activities.log_system sets it (the move logs a timeline entry).
    return ("UPDATE leads SET stage_id = %s, pipeline_id = %s, stage_entered_at = %s, "
            "last_activity_at = greatest(last_activity_at, %s), "
            "version = version + 1, updated_at = %s WHERE id = %s AND " + where
            + f" RETURNING {leads_repository.RETURNING}")


# The stages a move may name (id or code), in one statement after the lead's lock: those
# of the lead pipeline it names (else the lead's own), and, when it names none, a stage of
# another lead pipeline given by id (the lead moves there).
_TARGETS = (
    "SELECT s.id, s.pipeline_id, s.code, s.position FROM pipeline_stages s "
    "JOIN pipelines p ON p.tenant_id = s.tenant_id AND p.id = s.pipeline_id "
    "WHERE s.tenant_id = %(t)s AND p.tenant_id = %(t)s AND s.deleted_at IS NULL "
    "AND p.deleted_at IS NULL AND p.kind = 'lead' "
    "AND (s.id = ANY(%(ids)s) OR s.code = ANY(%(codes)s)) "
    "AND (s.pipeline_id = coalesce(%(p)s::uuid, (SELECT l.pipeline_id FROM leads l "
    "WHERE l.tenant_id = %(t)s AND l.id = %(l)s)) "
    "OR (%(p)s::uuid IS NULL AND s.id = ANY(%(ids)s)))")


async def lock_lead(session: AsyncSession, *, scope: leads_repository.Readable,
                    lead_id: uuid.UUID, stage: str, pipeline_id: uuid.UUID | None
                    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The live lead in ``scope``, locked (None: not found), and the stages ``stage`` (id
    or code) may name for it (see ``_TARGETS``), in one round trip."""
    try:
        ids, codes = [uuid.UUID(stage)], []
    except ValueError:
        ids, codes = [], [stage]
    conn = await raw.connection(session)
    async with conn.pipeline():
        lead = conn.cursor(row_factory=dict_row)
        sql, params = leads_repository.get_statement(scope, lead_id, for_update=True)
        await lead.execute(sql.encode(), params)
        targets = conn.cursor(row_factory=dict_row)
        await targets.execute(_TARGETS.encode(), {
            "t": scope.tenant_id, "l": lead_id, "p": pipeline_id, "ids": ids,
            "codes": codes})
    return await lead.fetchone(), await targets.fetchall()


async def record_move(session: AsyncSession, *, scope: leads_repository.Readable,
                      change_id: uuid.UUID, lead_id: uuid.UUID, from_pipeline_id: uuid.UUID,
                      from_stage_id: uuid.UUID, entered_at: datetime,
                      to_pipeline_id: uuid.UUID, to_stage_id: uuid.UUID, to_position: int,
                      now: datetime, actor_user_id: uuid.UUID | None, reason: str | None,
                      seconds: int, also: list[raw.Statement]) -> dict[str, Any]:
    """One move in one round trip: ``also`` (the caller's timeline entry, audit entry and
    event), the lead's first-entry row (at its first move), the conversions of its
    earlier entries, the stage change, the lead row (its one UPDATE, returned; the
    counters follow by trigger) and the day statistics (the transaction's shard rows,
    ``lb_stage_shard()``)."""
    tenant_id = scope.tenant_id
    hist = [0] * (bucket(seconds) - 1) + [1]
    days = sorted([(to_stage_id, 1, 0, 0, []), (from_stage_id, 0, 1, seconds, hist)],
                  key=lambda r: str(r[0]))
    day_params: list[Any] = []
    for stage_id, entered, exited, secs, h in days:
        day_params += [tenant_id, stage_id, now, entered, exited, secs, h]
    where, where_params = scope.sql()
    first = (_FIRST_ENTRY, {"id": new_id(), "t": tenant_id, "l": lead_id, "p": from_pipeline_id,
                            "s": from_stage_id, "at": entered_at})
    change = (_CHANGE, {"id": change_id, "t": tenant_id, "l": lead_id, "p": to_pipeline_id,
                        "from": from_stage_id, "to": to_stage_id, "now": now,
                        "actor": actor_user_id, "reason": reason, "secs": seconds})
    # Three statements: the inserts that see nothing of each other (the first entry's
    # check predates the change); the conversions, which must see the first entry; the
    # lead's UPDATE (returned) with the day statistics.
    statements: list[raw.Statement] = [raw.combine([*also, first], change)]
    if to_pipeline_id == from_pipeline_id:
        statements.append((_ADVANCED, {"t": tenant_id, "l": lead_id, "p": to_pipeline_id,
                                       "pos": to_position, "now": now}))
    statements.append(raw.combine(
        [(_DAYS.format(rows=", ".join([_DAY_ROW] * len(days))), tuple(day_params))],
        (_lead_update(where), (to_stage_id, to_pipeline_id, now, now, now, lead_id,
                               *where_params))))
    conn = await raw.connection(session)
    cursors = []
    async with conn.pipeline():
        for statement, params in statements:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(statement.encode(), params)
            cursors.append(cur)
    lead = await cursors[-1].fetchone()
    assert lead is not None
    return lead


_MOVE_ALL_FIRST = (
    "INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, from_stage_id, "
    "to_stage_id, changed_at) SELECT lb_uuid7(), l.tenant_id, l.id, %(fp)s, NULL, "
    "l.stage_id, coalesce(l.stage_entered_at, l.created_at) FROM leads l "
    "WHERE l.tenant_id = %(t)s AND l.stage_id = %(from)s AND NOT EXISTS ("
    "SELECT 1 FROM stage_changes c WHERE c.tenant_id = %(t)s AND c.lead_id = l.id)")
_MOVE_ALL = (
    "WITH o AS (SELECT id, stage_entered_at AS prev, deleted_at FROM leads "
    "WHERE tenant_id = %(t)s AND stage_id = %(from)s FOR UPDATE), "
    "moved AS (UPDATE leads l SET stage_id = %(to)s, pipeline_id = %(p)s, "
    "stage_entered_at = %(now)s, version = l.version + 1, updated_at = %(now)s FROM o "
    "WHERE l.tenant_id = %(t)s AND l.id = o.id "
    "RETURNING l.id, o.deleted_at IS NULL AS live, "
    "greatest(0, floor(extract(epoch FROM %(now)s - coalesce(o.prev, %(now)s))))::bigint "
    "AS s), "
    "ch AS (INSERT INTO stage_changes (id, tenant_id, lead_id, pipeline_id, from_stage_id, "
    "to_stage_id, changed_at, actor_user_id, reason, seconds_in_previous) "
    "SELECT lb_uuid7(), %(t)s, id, %(p)s, %(from)s, %(to)s, %(now)s, %(actor)s, "
    "%(reason)s, s FROM moved RETURNING 1), "
    f"b AS (SELECT {_BUCKET_SQL} AS b, count(*)::int AS n FROM moved WHERE live GROUP BY 1), "
    "h AS (SELECT coalesce(array_agg(coalesce(b.n, 0) ORDER BY g.i), '{}') AS hist "
    "FROM generate_series(1, (SELECT coalesce(max(b), 0) FROM b)) AS g(i) "
    "LEFT JOIN b ON b.b = g.i), "
    "days AS (INSERT INTO pipeline_stage_days AS d (tenant_id, stage_id, day, shard, "
    "entered, exited, exited_seconds, converted, hist) "
    f"SELECT %(t)s, x.stage_id, (%(now)s AT TIME ZONE 'UTC')::date, "
    f"lb_stage_shard(), x.entered, x.exited, x.secs, 0, x.hist FROM ("
    "SELECT %(to)s::uuid AS stage_id, count(*)::int AS entered, 0 AS exited, "
    "0::bigint AS secs, '{}'::int[] AS hist FROM moved WHERE live UNION ALL "
    "SELECT %(from)s::uuid, 0, count(*)::int, coalesce(sum(s), 0)::bigint, "
    "(SELECT hist FROM h) FROM moved WHERE live) x "
    "WHERE x.entered > 0 OR x.exited > 0 ORDER BY x.stage_id"
    + _DAY_CONFLICT + " RETURNING 1) "
    "SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM ch), "
    "(SELECT count(*) FROM days)")


async def move_all(session: AsyncSession, *, tenant_id: uuid.UUID, from_pipeline_id: uuid.UUID,
                   from_stage_id: uuid.UUID, to_pipeline_id: uuid.UUID,
                   to_stage_id: uuid.UUID, now: datetime, actor_user_id: uuid.UUID | None,
                   reason: str | None) -> int:
    """Every lead of ``from_stage_id`` (deleted ones too: they keep a stage) to
    ``to_stage_id``, with their history rows and the day statistics, in two statements.
    Returns how many moved."""
    params = {"t": tenant_id, "from": from_stage_id, "to": to_stage_id, "p": to_pipeline_id,
              "fp": from_pipeline_id, "now": now, "actor": actor_user_id, "reason": reason}
    await raw.execute(session, _MOVE_ALL_FIRST, params)
    row = await raw.fetch_row(session, _MOVE_ALL, params)
    return int(row[0]) if row else 0


_HISTORY = (
    "SELECT c.id, c.lead_id, c.pipeline_id, c.from_stage_id, f.code AS from_stage, "
    "c.to_stage_id, t.code AS to_stage, c.changed_at, c.actor_user_id, c.reason, "
    "c.seconds_in_previous FROM stage_changes c "
    "LEFT JOIN pipeline_stages f ON f.tenant_id = c.tenant_id AND f.id = c.from_stage_id "
    "LEFT JOIN pipeline_stages t ON t.tenant_id = c.tenant_id AND t.id = c.to_stage_id "
    "WHERE c.tenant_id = %s AND c.lead_id = %s {after} "
    "ORDER BY c.changed_at DESC, c.id DESC LIMIT %s")


async def history(session: AsyncSession, *, tenant_id: uuid.UUID, lead_id: uuid.UUID,
                  after: tuple[datetime, uuid.UUID] | None, limit: int
                  ) -> list[dict[str, Any]]:
    """The lead's stage changes, newest first (keyset on changed_at, id)."""
    if after is None:
        return await raw.fetch_all(session, _HISTORY.format(after=""),
                                   (tenant_id, lead_id, limit))
    return await raw.fetch_all(
        session, _HISTORY.format(after="AND (c.changed_at, c.id) < (%s, %s)"),
        (tenant_id, lead_id, after[0], after[1], limit))
