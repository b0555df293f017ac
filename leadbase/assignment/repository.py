"""All SQL for assignment (always tenant-scoped; RLS checks the workspace again): rules,
the rotation state, users' loads under their locks, owners written set-based, and jobs.
The per-lead paths run on the raw driver (see leadbase.db.raw)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.kit.ids import new_id
from leadbase.models import AssignmentJob, AssignmentRule

RULES = table_of(AssignmentRule)
JOBS = table_of(AssignmentJob)
RULE_ROWS = crud.Rows(RULES)

# The most open leads counted per user (least_loaded without capacities).
LOAD_CAP = 100_000

_RULE_COLUMNS = ("id, name, position, strategy, condition, members, territory, "
                 "respect_working_hours, respect_capacity, fallback, fallback_user_id, version")
_ENABLED_SQL = (f"SELECT {_RULE_COLUMNS} FROM assignment_rules WHERE tenant_id = %(t)s "
                "AND enabled ORDER BY position, id")
_USER_COLUMNS = ("id, name, role, is_active, capacity, working_hours, timezone, "
                 "out_of_office_until")
_USERS_SQL = (
    f"SELECT {_USER_COLUMNS} FROM users WHERE tenant_id = %(t)s AND id IN ("
    "SELECT (m->>'user_id')::uuid FROM assignment_rules r, jsonb_array_elements(r.members) m "
    "WHERE r.tenant_id = %(t)s AND r.enabled UNION ALL "
    "SELECT fallback_user_id FROM assignment_rules WHERE tenant_id = %(t)s AND enabled "
    "AND fallback_user_id IS NOT NULL)")
_STATE_SQL = ("SELECT rule_id, bucket, position FROM assignment_state WHERE tenant_id = %(t)s "
              "AND rule_id = ANY(%(rules)s::uuid[])")
_LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
             "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys")
_LOADS_SQL = (
    "SELECT u.id, (SELECT count(*) FROM (SELECT 1 FROM leads l WHERE l.tenant_id = %(t)s "
    "AND l.owner_id = u.id AND l.deleted_at IS NULL "
    "AND l.status NOT IN ('converted', 'lost', 'unqualified') AND l.owner_id IS NOT NULL "
    "LIMIT u.cap) AS x)::int AS n FROM unnest(%(ids)s::uuid[], %(caps)s::int[]) AS u(id, cap)")
# ``k`` picks of a rotation: from the first eligible slot after the last pick, the k-th
# eligible slot (wrapping), in one statement that takes the row's lock.
# Its transaction commits without waiting for the WAL flush: a crash may forget the last
# picks' positions (a member gets one more turn), never a lead; the fsync of a second
# commit per create cost more than the rest of the assignment together.
_ASYNC_COMMIT_SQL = "SELECT set_config('synchronous_commit', 'off', true)"
# The slots come once, as the text of an int[] ('{0,2,5}'): cheaper to send than a
# list the driver would dump for each use.
_ADVANCE_SQL = (
    "WITH a AS (SELECT %(slots)s::int[] AS slots) "
    "INSERT INTO assignment_state AS s (tenant_id, rule_id, bucket, position, picks) "
    "SELECT %(t)s, %(r)s, %(b)s, a.slots[((%(k)s - 1) %% %(n)s) + 1], %(k)s FROM a "
    "ON CONFLICT (tenant_id, rule_id, bucket) DO UPDATE SET position = "
    "(SELECT a.slots[(((SELECT count(*) FROM unnest(a.slots) AS e "
    "WHERE e <= s.position) + %(k)s - 1) %% %(n)s) + 1] FROM a), picks = s.picks + %(k)s, "
    "updated_at = now() RETURNING position")
# The batch form: lock (creating) the rows, then write the positions reached.
_LOCK_STATE_SQL = (
    "INSERT INTO assignment_state AS s (tenant_id, rule_id, bucket, position) "
    "SELECT %(t)s, k.r, k.b, -1 FROM unnest(%(rules)s::uuid[], %(buckets)s::int[]) AS k(r, b) "
    "ORDER BY k.r, k.b ON CONFLICT (tenant_id, rule_id, bucket) DO UPDATE SET "
    "picks = s.picks RETURNING rule_id, bucket, position")
_SET_STATE_SQL = (
    "UPDATE assignment_state AS s SET position = k.p, picks = s.picks + k.n, "
    "updated_at = now() FROM unnest(%(rules)s::uuid[], %(buckets)s::int[], %(positions)s::int[], "
    "%(picks)s::int[]) AS k(r, b, p, n) WHERE s.tenant_id = %(t)s AND s.rule_id = k.r "
    "AND s.bucket = k.b")
# A new lead's assignment: its timeline entry and ``lead.assigned`` event in one
# statement (scalar parameters). The entry's moment is the lead's ``last_activity_at``
# (set with the owner before the lead's insert), so the lead's clock needs no touch.
_NEW_LEAD_SQL = (
    "WITH entry AS (INSERT INTO activities (id, tenant_id, lead_id, type, description, "
    "attributes, occurred_at, completed_at, author_user_id) VALUES (%(entry)s, %(t)s, "
    "%(lead)s, 'assignment', %(words)s, %(attributes)s, %(at)s, %(at)s, %(author)s)) "
    "INSERT INTO events (id, tenant_id, type, entity_type, entity_id, payload) "
    "VALUES (%(event)s, %(t)s, 'lead.assigned', 'lead', %(lead)s, %(payload)s)")


def new_lead_statement(*, tenant_id: uuid.UUID, lead_id: uuid.UUID, at: Any,
                       author_user_id: uuid.UUID | None, words: str,
                       attributes: dict[str, Any]) -> raw.Statement:
    """A new lead's ``assignment`` timeline entry (at ``at``) and its ``lead.assigned``
    event (payload: the lead's id and the entry's attributes), as one statement."""
    return _NEW_LEAD_SQL, {
        "entry": new_id(), "event": new_id(), "t": tenant_id, "lead": lead_id,
        "words": words, "attributes": raw.jsonb(attributes), "at": at,
        "author": author_user_id,
        "payload": raw.jsonb({"lead_id": str(lead_id), **attributes})}


_SET_OWNERS_SQL = (
    "WITH v AS (SELECT * FROM unnest(%(ids)s::uuid[], %(owners)s::uuid[]) AS v(id, owner)), "
    "old AS (SELECT l.id, l.owner_id FROM leads l JOIN v ON v.id = l.id "
    "WHERE l.tenant_id = %(t)s AND l.deleted_at IS NULL FOR UPDATE OF l) "
    "UPDATE leads l SET owner_id = v.owner, updated_at = now(), version = l.version + 1 "
    "FROM v, old WHERE l.tenant_id = %(t)s AND l.id = v.id AND old.id = v.id "
    "AND l.owner_id IS DISTINCT FROM v.owner RETURNING l.id, old.owner_id AS previous, "
    "l.owner_id")


async def _all(session: AsyncSession, statements: Sequence[raw.Statement]
               ) -> list[list[dict[str, Any]]]:
    """Every row of each statement, the statements sent in one round trip."""
    conn = await raw.connection(session)
    cursors = []
    async with conn.pipeline():
        for sql, params in statements:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(sql.encode(), params)
            cursors.append(cur)
    return [await cur.fetchall() if cur.description is not None else [] for cur in cursors]


# ---------------------------------------------------------------------------- rules

async def list_rules(session: AsyncSession, *, tenant_id: uuid.UUID, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_rows(session, RULES, tenant_id=tenant_id,
                                order=[RULES.c.position, RULES.c.id], offset=offset,
                                limit=limit)


async def all_rules(session: AsyncSession, *, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    rows, _ = await crud.list_rows(session, RULES, tenant_id=tenant_id,
                                   order=[RULES.c.position, RULES.c.id])
    return rows


async def get_rule(session: AsyncSession, *, tenant_id: uuid.UUID, rule_id: uuid.UUID,
                   for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, RULES, tenant_id=tenant_id, row_id=rule_id,
                              for_update=for_update)


async def lock_rules(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Serialise changes of the workspace's rule order (until commit)."""
    await raw.execute(session, _LOCK_SQL, ([f"assign-rules:{tenant_id}"],))


async def shift_positions(session: AsyncSession, *, tenant_id: uuid.UUID, start: int,
                          by: int) -> None:
    """Move the rules at ``start`` and after by ``by`` places."""
    await session.execute(update(RULES).where(RULES.c.tenant_id == tenant_id,
                                              RULES.c.position >= start)
                          .values(position=RULES.c.position + by))


async def set_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                        rule_ids: Sequence[uuid.UUID]) -> None:
    await raw.execute(session, (
        "UPDATE assignment_rules r SET position = k.pos - 1, updated_at = now(), "
        "version = r.version + 1 FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS k(id, pos) "
        "WHERE r.tenant_id = %(t)s AND r.id = k.id AND r.position <> k.pos - 1"),
        {"t": tenant_id, "ids": list(rule_ids)})


async def count_rules(session: AsyncSession, *, tenant_id: uuid.UUID) -> int:
    q = select(func.count()).select_from(RULES).where(RULES.c.tenant_id == tenant_id)
    return int((await session.execute(q)).scalar_one())


async def users_of(session: AsyncSession, *, tenant_id: uuid.UUID,
                   user_ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    return await raw.fetch_all(session, f"SELECT {_USER_COLUMNS} FROM users WHERE "
                                        "tenant_id = %s AND id = ANY(%s::uuid[])",
                               (tenant_id, list(user_ids)))


# ---------------------------------------------------------------------------- deciding

async def enabled_rules(session: AsyncSession, *, tenant_id: uuid.UUID
                        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The enabled rules in order, and the users they name, in one round trip."""
    rules, users = await _all(session, [(_ENABLED_SQL, {"t": tenant_id}),
                                        (_USERS_SQL, {"t": tenant_id})])
    return rules, users


async def loads(session: AsyncSession, *, tenant_id: uuid.UUID,
                caps: dict[uuid.UUID, int], lock: bool) -> dict[uuid.UUID, int]:
    """Open leads per user (counted up to the user's cap). With ``lock``, the users' load
    locks are taken first (sorted; kept until commit) and the count runs after them, in
    the next statement: its snapshot then holds what the lock's previous holder wrote."""
    if not caps:
        return {}
    ids = sorted(caps)
    count = (_LOADS_SQL, {"t": tenant_id, "ids": ids, "caps": [caps[i] for i in ids]})
    statements: list[raw.Statement] = [count]
    if lock:
        statements.insert(0, (_LOCK_SQL, ([f"assign-load:{tenant_id}:{u}" for u in ids],)))
    results = await _all(session, statements)
    return {r["id"]: int(r["n"]) for r in results[-1]}


async def positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                    rule_ids: Sequence[uuid.UUID]) -> dict[tuple[uuid.UUID, int], int]:
    """The rotation positions (read only: the dry run)."""
    rows = await raw.fetch_all(session, _STATE_SQL, {"t": tenant_id, "rules": list(rule_ids)})
    return {(r["rule_id"], r["bucket"]): r["position"] for r in rows}


async def advance_on(conn: Any, *, first: raw.Statement, tenant_id: uuid.UUID,
                     rule_id: uuid.UUID, bucket: int, slots: Sequence[int], k: int = 1) -> int:
    """``k`` picks as a whole transaction on an autocommit psycopg connection of its
    own, in one round trip: BEGIN, ``first`` (the scope), the picks, COMMIT. The slot of
    the last of them (the others are the ``k - 1`` eligible slots before it). The
    connection commits without waiting for the WAL flush (:func:`pick_connection`)."""
    async with conn.pipeline():
        await conn.execute(b"BEGIN")
        await conn.execute(first[0].encode(), first[1])
        cur = await conn.execute(_ADVANCE_SQL.encode(), {
            "t": tenant_id, "r": rule_id, "b": bucket,
            "slots": "{" + ",".join(str(int(s)) for s in slots) + "}", "k": k,
            "n": len(slots)})
        await conn.execute(b"COMMIT")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def pick_connection(conninfo: str) -> Any:
    """An autocommit connection for picks: its commits do not wait for the WAL flush."""
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
    await conn.execute(b"SET synchronous_commit = off")
    return conn


async def lock_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                         keys: Sequence[tuple[uuid.UUID, int]]
                         ) -> dict[tuple[uuid.UUID, int], int]:
    """Lock the rotation rows of ``keys`` (made when missing) for a batch; positions."""
    if not keys:
        return {}
    await raw.execute(session, _ASYNC_COMMIT_SQL, ())
    ordered = sorted(keys)
    rows = await raw.fetch_all(session, _LOCK_STATE_SQL, {
        "t": tenant_id, "rules": [k[0] for k in ordered], "buckets": [k[1] for k in ordered]})
    return {(r["rule_id"], r["bucket"]): r["position"] for r in rows}


async def save_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                         reached: dict[tuple[uuid.UUID, int], tuple[int, int]]) -> None:
    """``{(rule, bucket): (position, picks)}`` of a batch."""
    if not reached:
        return
    keys = sorted(reached)
    await raw.execute(session, _SET_STATE_SQL, {
        "t": tenant_id, "rules": [k[0] for k in keys], "buckets": [k[1] for k in keys],
        "positions": [reached[k][0] for k in keys], "picks": [reached[k][1] for k in keys]})


async def set_owners(session: AsyncSession, *, tenant_id: uuid.UUID,
                     owners: dict[uuid.UUID, uuid.UUID | None]) -> list[dict[str, Any]]:
    """Give each live lead its owner (set-based); the leads that changed, with their
    previous owner."""
    if not owners:
        return []
    ids = list(owners)
    return await raw.fetch_all(session, _SET_OWNERS_SQL, {
        "t": tenant_id, "ids": ids, "owners": [owners[i] for i in ids]})


# ---------------------------------------------------------------------------- jobs

async def insert_job(session: AsyncSession, *, tenant_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, JOBS, tenant_id=tenant_id, values=values)


async def get_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  for_update: bool = False) -> dict[str, Any] | None:
    return await crud.get_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                              for_update=for_update)


async def update_job(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                     values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, JOBS, tenant_id=tenant_id, row_id=job_id,
                                 values=values)


async def list_jobs(session: AsyncSession, *, tenant_id: uuid.UUID, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    return await crud.list_rows(session, JOBS, tenant_id=tenant_id,
                                order=[JOBS.c.created_at.desc(), JOBS.c.id.desc()],
                                offset=offset, limit=limit)


async def add_job_leads(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                        select_sql: str, params: dict[str, Any]) -> None:
    """List the leads ``select_sql`` (one ``lead_id`` column) gives for the job."""
    await raw.execute(session, "INSERT INTO assignment_job_leads (tenant_id, job_id, lead_id) "
                               f"SELECT %(jt)s, %(jj)s, lead_id FROM ({select_sql}) AS s "
                               "ON CONFLICT DO NOTHING",
                      {**params, "jt": tenant_id, "jj": job_id})


async def count_job_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                          job_id: uuid.UUID) -> int:
    row = await raw.fetch_row(session, "SELECT count(*) FROM assignment_job_leads WHERE "
                                       "tenant_id = %s AND job_id = %s", (tenant_id, job_id))
    return int(row[0]) if row else 0


async def take_job_leads(session: AsyncSession, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                         limit: int) -> list[uuid.UUID]:
    """The next ``limit`` leads of a ``new_leads`` job, removed from its list (the
    caller's transaction assigns them)."""
    rows = await raw.fetch_all(session, (
        "DELETE FROM assignment_job_leads WHERE tenant_id = %(t)s AND job_id = %(j)s "
        "AND lead_id IN (SELECT lead_id FROM assignment_job_leads WHERE tenant_id = %(t)s "
        "AND job_id = %(j)s ORDER BY lead_id LIMIT %(n)s FOR UPDATE SKIP LOCKED) "
        "RETURNING lead_id"), {"t": tenant_id, "j": job_id, "n": limit})
    return sorted(r["lead_id"] for r in rows)


_OPEN_OF = ("FROM leads WHERE tenant_id = %(t)s AND owner_id = %(u)s AND deleted_at IS NULL "
            "AND status NOT IN ('converted', 'lost', 'unqualified') AND owner_id IS NOT NULL")


async def count_open_of(session: AsyncSession, *, tenant_id: uuid.UUID,
                        user_id: uuid.UUID) -> int:
    row = await raw.fetch_row(session, "SELECT count(*) " + _OPEN_OF,
                              {"t": tenant_id, "u": user_id})
    return int(row[0]) if row else 0


async def open_leads_of(session: AsyncSession, *, tenant_id: uuid.UUID, user_id: uuid.UUID,
                        after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    """The next ``limit`` open leads of the user by id (keyset)."""
    rows = await raw.fetch_all(session, "SELECT id " + _OPEN_OF + (
        " AND id > %(after)s" if after else "") + " ORDER BY id LIMIT %(n)s",
        {"t": tenant_id, "u": user_id, "after": after, "n": limit})
    return [r["id"] for r in rows]
