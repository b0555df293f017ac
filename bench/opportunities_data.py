"""The opportunities benchmark's data: deterministic, CRM-shaped deals in the default deal
pipeline with their stage history, generated in SQL (``INSERT ... SELECT`` over
``generate_series``), in chunks, triggers off (``session_replication_role``, as a restore
would), then ``VACUUM (ANALYZE)``.

Per deal ``i`` (its ``number``; ``u(k)`` a fraction in [0, 1) hashed from ``i`` and ``k``):
created over the last two years; 60% open (half in the first open stage, 30% in the
second, 20% in the third), 20% won, 20% lost (from one of the open stages); value
1,000–200,000 with cents, skewed low; 5% in EUR, the rest in USD; 30% with a probability
of their own, the others the stage's; open deals expected to close from six months ago to
two years ahead (5% without a date), closed ones three months after creation; owners
round-robin over the given users (every tenth none); 70% with a last activity. Stage
history: the walk from the first stage to the current one (won deals skip the third open
stage three times in ten), spread over the deal's first 120 days.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from bench.report import fmt_int, out

CHUNK = 50_000


def u(num: str, k: int) -> str:
    """A deterministic fraction in [0, 1) of the deal ``num`` (an SQL expression)."""
    return f"((abs(hashint8(({num})::bigint * 31 + {k})) %% 10000) / 10000.0)"


# The positions a deal walked through, from the deal's number, status and stage position.
def _path(num: str, status: str, pos: str) -> str:
    return (f"CASE WHEN {status} = 'open' THEN ARRAY(SELECT generate_series(0, {pos})) "
            f"WHEN {status} = 'won' THEN CASE WHEN {u(num, 4)} < 0.3 THEN ARRAY[0, 1, 3] "
            "ELSE ARRAY[0, 1, 2, 3] END "
            f"ELSE ARRAY(SELECT generate_series(0, floor({u(num, 3)} * 3)::int)) || 4 END")


_OPPS_SQL = f"""
WITH st AS (SELECT position, id, probability FROM pipeline_stages
            WHERE tenant_id = %(t)s AND pipeline_id = %(p)s AND deleted_at IS NULL),
g AS (SELECT i, now() - make_interval(secs => 730 * 86400 * {u('i', 1)}) AS created_at,
             CASE WHEN {u('i', 2)} < 0.6 THEN 'open' WHEN {u('i', 2)} < 0.8 THEN 'won'
                  ELSE 'lost' END AS status
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS i),
g2 AS (SELECT g.*, CASE WHEN status = 'won' THEN 3 WHEN status = 'lost' THEN 4
                        WHEN {u('i', 3)} < 0.5 THEN 0 WHEN {u('i', 3)} < 0.8 THEN 1
                        ELSE 2 END AS pos,
              least(now(), created_at + interval '120 days') AS walked_until
       FROM g),
g3 AS (SELECT g2.*, cardinality({_path('i', 'status', 'pos')}) AS steps FROM g2),
g4 AS (SELECT g3.*, created_at + (walked_until - created_at) * ((steps - 1)::float8 / steps)
              AS entered_at FROM g3)
INSERT INTO opportunities (id, number, tenant_id, name, pipeline_id, stage_id,
    stage_entered_at, status, value, currency, probability, expected_close_date, owner_id,
    source, closed_at, close_date, actual_value, lost_reason, last_activity_at, created_at,
    updated_at)
SELECT gen_random_uuid(), i, %(t)s, 'Deal ' || i, %(p)s, st.id, entered_at, status,
       round((1000 + power({u('i', 5)}, 2) * 199000)::numeric, 2),
       CASE WHEN {u('i', 6)} < 0.05 THEN 'EUR' ELSE 'USD' END,
       CASE WHEN {u('i', 7)} < 0.3 THEN floor({u('i', 8)} * 101)::int END,
       CASE WHEN status <> 'open' THEN (created_at + interval '90 days')::date
            WHEN {u('i', 9)} < 0.05 THEN NULL
            ELSE current_date + (-180 + floor({u('i', 10)} * 900))::int END,
       CASE WHEN i %% 10 = 0 THEN NULL
            ELSE (%(owners)s::uuid[])[1 + i %% cardinality(%(owners)s::uuid[])] END,
       'bench', CASE WHEN status <> 'open' THEN entered_at END,
       CASE WHEN status <> 'open' THEN entered_at::date END,
       CASE WHEN status = 'won' THEN round((1000 + power({u('i', 5)}, 2) * 199000)::numeric, 2)
       END,
       CASE WHEN status = 'lost' THEN 'price' END,
       CASE WHEN {u('i', 11)} < 0.7
            THEN entered_at + (now() - entered_at) * {u('i', 12)} END,
       created_at, entered_at
FROM g4 JOIN st ON st.position = g4.pos
"""

_CHANGES_SQL = f"""
WITH st AS (SELECT position, id FROM pipeline_stages
            WHERE tenant_id = %(t)s AND pipeline_id = %(p)s AND deleted_at IS NULL),
o AS (SELECT o.id, o.number, o.created_at,
             least(now(), o.created_at + interval '120 days') AS walked_until,
             {_path('o.number', 'o.status', 's.position')} AS path
      FROM opportunities o JOIN st s ON s.id = o.stage_id
      WHERE o.tenant_id = %(t)s AND o.number >= %(lo)s AND o.number < %(hi)s),
w AS (SELECT o.id, o.created_at, o.walked_until, cardinality(o.path) AS steps, x.pos, x.k,
             lag(x.pos) OVER (PARTITION BY o.id ORDER BY x.k) AS prev
      FROM o CROSS JOIN LATERAL unnest(o.path) WITH ORDINALITY AS x(pos, k)),
w2 AS (SELECT w.*, created_at + (walked_until - created_at) * ((k - 1)::float8 / steps) AS at
       FROM w)
INSERT INTO opportunity_stage_changes (id, number, tenant_id, opportunity_id, pipeline_id,
    from_stage_id, to_stage_id, changed_at, reason, seconds_in_previous, created_at,
    updated_at)
SELECT gen_random_uuid(), nextval(%(seq)s::regclass), %(t)s, w2.id, %(p)s, f.id, t.id, at,
       'bench', CASE WHEN k > 1 THEN floor(extract(epoch FROM (walked_until - created_at)
                                                   / steps))::bigint END, at, at
FROM w2 JOIN st t ON t.position = w2.pos LEFT JOIN st f ON f.position = w2.prev
"""


def default_deal_pipeline(url: str, tenant: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM pipelines WHERE tenant_id = %s AND kind = 'deal' "
                           "AND is_default AND deleted_at IS NULL", (tenant,)).fetchone()
    assert row is not None, "the workspace has no default deal pipeline"
    return str(row[0])


def load_opportunities(url: str, tenant: str, owners: list[str], count: int) -> float:
    """``count`` deals (numbers 1..count) in the workspace's default deal pipeline with
    their stage changes; the number sequences moved past them. Seconds taken."""
    t0 = time.perf_counter()
    pipeline = default_deal_pipeline(url, tenant)
    with psycopg.connect(url, autocommit=True) as conn:
        seq_o = conn.execute("SELECT lb_number_seq(%s, 'opportunities')::text",
                             (tenant,)).fetchone()
        seq_c = conn.execute("SELECT lb_number_seq(%s, 'opportunity_stage_changes')::text",
                             (tenant,)).fetchone()
        assert seq_o is not None and seq_c is not None
        params: dict[str, Any] = {"t": tenant, "p": pipeline, "owners": owners,
                                  "seq": seq_c[0]}
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET work_mem = '256MB'")
        for lo in range(1, count + 1, CHUNK):
            hi = min(count + 1, lo + CHUNK)
            conn.execute(_OPPS_SQL, {**params, "lo": lo, "hi": hi})
            conn.execute(_CHANGES_SQL, {**params, "lo": lo, "hi": hi})
            out(f"  deals {fmt_int(lo)}..{fmt_int(hi - 1)} with their stage changes "
                f"({time.perf_counter() - t0:.0f} s)")
        conn.execute("SELECT setval(%s::regclass, %s)", (seq_o[0], count))
        conn.execute("VACUUM (ANALYZE) opportunities")
        conn.execute("VACUUM (ANALYZE) opportunity_stage_changes")
    return time.perf_counter() - t0
