"""The staging tables an import writes through (SQL; the flow is in
:mod:`leadbase.imports.flows`).

An import runs in one transaction. Each chunk of validated rows is copied (``COPY``)
into a temporary staging table, classified there in a few set-based statements
(duplicates inside the file, matches with existing leads, primary-field and related-lead
checks) and written to ``leads`` with ``INSERT ... SELECT`` and ``UPDATE ... FROM``, so
row-level security applies to every lead written (``COPY`` itself cannot write a table
under RLS). ``imp_keys`` remembers the keys (email, phone, id, primary values) of every
row so far: the first line holding a key wins, later ones are duplicates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.imports.rows import STAGE_COLUMNS

_STAGE_DDL = """
CREATE TEMP TABLE imp_stage (
    line integer PRIMARY KEY, state text NOT NULL, lead_id uuid,
    first_name text, last_name text, email text, phone text, company text, job_title text,
    source text, status text, tags text[], notes text, owner_id uuid, do_not_contact boolean,
    consent boolean, timezone text, country text, fields_sent jsonb, fields_create jsonb,
    create_errors jsonb, metadata jsonb, raw text, errors jsonb, match_id_key uuid,
    match_field jsonb,
    bucket text, match_id uuid, dup_line integer, dup_on text
) ON COMMIT DROP;
CREATE TEMP TABLE imp_keys (k uuid NOT NULL, line integer NOT NULL) ON COMMIT DROP;
CREATE INDEX ON imp_keys USING hash (k);
CREATE TEMP TABLE imp_existing (k uuid NOT NULL, id uuid NOT NULL,
    created_at timestamptz NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE imp_updates (
    id uuid PRIMARY KEY, first_name text, last_name text, email text, phone text,
    company text, job_title text, source text, status text, tags text[], notes text,
    owner_id uuid, do_not_contact boolean, consent boolean, timezone text, country text,
    fields jsonb, metadata jsonb
) ON COMMIT DROP
"""
UPDATE_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "job_title",
                  "source", "status", "tags", "notes", "owner_id", "do_not_contact",
                  "consent", "timezone", "country", "fields", "metadata")
_LEAD_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "company", "job_title",
                 "source", "status", "tags", "notes", "owner_id", "do_not_contact", "consent",
                 "timezone", "country", "fields", "metadata", "version")
DEFAULT_SOURCE = "import"
# A file of n rows into a workspace of at least LOOKUP_RATIO * n leads is matched lead by
# lead through the indexes of ``leads``; otherwise through a table of the workspace's keys.
LOOKUP_RATIO = 20


@dataclass(frozen=True)
class StagePlan:
    """How the rows of one job are matched and checked (fixed for the job)."""

    tenant_id: uuid.UUID
    list_id: uuid.UUID
    job_id: uuid.UUID
    mode: str  # skip | update | create
    match_keys: tuple[str, ...]  # of email, phone, id, field
    match_field: str | None = None
    primary_codes: tuple[str, ...] = ()  # primary fields other than match_field
    related: tuple[tuple[str, uuid.UUID], ...] = ()  # LEAD fields and their lists
    columns: dict[str, str] = field(default_factory=dict)  # lead field -> header


def _key(expr: str) -> str:
    """A key as stored in imp_keys and imp_existing: the MD5 of its text as a uuid, in a
    hash index (random keys: measured 3x faster than a B-tree for 2M keys added 20,000
    at a time; only this transaction writes the table, so anti-joins keep it unique)."""
    return f"md5({expr})::uuid"


_KEY_SQL = {
    "email": _key("'e:' || {t}.email"),
    "phone": _key("'p:' || {t}.phone"),
    "id": _key("'i:' || {t}.match_id_key::text"),
    "field": _key("'f:' || {t}.match_field::text"),
}
_KEY_COLUMN = {"email": "email", "phone": "phone", "id": "match_id_key",
               "field": "match_field"}
_PRIMARY_KEY = _key("'u:' || e.key || ':' || e.value::text")
_MATCHED_KEY = _key("'m:' || {t}.match_id::text")


GIN_PENDING_LIST = "64MB"
TEMP_BUFFERS = "256MB"
WORK_MEM = "256MB"


class Stage:
    """The staging statements of one job, on the import transaction's connection."""

    def __init__(self, session: AsyncSession, plan: StagePlan) -> None:
        self.session = session
        self.plan = plan
        self.params = {"t": plan.tenant_id, "l": plan.list_id, "j": plan.job_id,
                       "primary": list(plan.primary_codes)}
        self.staged = 0  # rows of the chunk in imp_stage
        self.keys_rows = 0  # an upper bound of the rows in imp_keys
        self.keys_analyzed = 0
        self.analyzed = False
        self.key_table = False

    async def _exec(self, sql: str, params: dict[str, Any] | None = None) -> None:
        await raw.execute(self.session, sql, {**self.params, **(params or {})})

    async def create(self, rows: int) -> None:
        """The staging tables (dropped at commit), after waiting for any other import
        into this workspace: one import at a time per workspace.

        A file that is not tiny next to the workspace (``rows``: its size) is matched
        against a temporary table of the workspace's keys, taken now in one pass, rather
        than against ``leads``: the planner's statistics of ``leads`` do not count the
        rows this import adds, and a first import of a million leads into an empty
        workspace would otherwise be matched by nested loops over the whole workspace
        (quadratic: measured in minutes per 10,000 rows)."""
        await raw.fetch_row(self.session,
                            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            (f"import:{self.plan.tenant_id}",))
        # The staging tables in memory (temporary tables have their own buffers, 8 MB by
        # default: a million rows' keys then go to and from files). Settable only before
        # a session's first temporary table, then only to the same value: a session that
        # had them another size keeps it.
        await self._exec("SAVEPOINT lb_temp_buffers")
        try:
            await self._exec(f"SET LOCAL temp_buffers = '{TEMP_BUFFERS}'")
        except psycopg.Error:
            await self._exec("ROLLBACK TO SAVEPOINT lb_temp_buffers")
        await self._exec("RELEASE SAVEPOINT lb_temp_buffers")
        for statement in _STAGE_DDL.split(";"):
            await self._exec(statement)
        # Primary-field keys of the inserted leads checked per statement, not per row
        # (migration 0009).
        await self._exec("SET LOCAL leadbase.bulk_insert = 'on'")
        # New index entries of the GIN indexes (search, tags, custom fields) gather in
        # their pending lists and are merged into the trees in large sorted batches
        # (flush_indexes merges what is left before commit).
        await self._exec(f"SET LOCAL gin_pending_list_limit = '{GIN_PENDING_LIST}'")
        await self._exec(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cap = rows * LOOKUP_RATIO
        found = await raw.fetch_row(
            self.session, "SELECT count(*) FROM (SELECT 1 FROM leads WHERE tenant_id = %(t)s "
            "AND deleted_at IS NULL LIMIT %(cap)s) AS capped", {**self.params, "cap": cap})
        self.key_table = found is not None and int(found[0]) < cap
        if self.key_table:
            await self._existing_keys()

    async def _existing_keys(self) -> None:
        plan = self.plan
        live = "FROM leads l WHERE l.tenant_id = %(t)s AND l.deleted_at IS NULL"
        parts = []
        if plan.mode != "create":
            for key in plan.match_keys:
                if key == "email":
                    parts.append(f"SELECT {_KEY_SQL['email'].format(t='l')}, l.id, "
                                 f"l.created_at {live} "
                                 "AND l.email IS NOT NULL")
                elif key == "phone":
                    parts.append(f"SELECT {_KEY_SQL['phone'].format(t='l')}, l.id, "
                                 f"l.created_at {live} "
                                 "AND l.phone IS NOT NULL")
                elif key == "field":
                    parts.append(
                        "SELECT " + _key("'f:' || jsonb_build_object(%(field)s::text, "
                                         "l.fields -> %(field)s::text)::text")
                        + f", l.id, l.created_at {live} "
                        "AND l.list_id = %(l)s AND l.fields ? %(field)s::text")
        if plan.primary_codes:
            parts.append(f"SELECT {_PRIMARY_KEY}, l.id, l.created_at "
                         f"{live.replace('FROM leads l', 'FROM leads l, jsonb_each(l.fields) e')}"
                         " AND l.list_id = %(l)s AND e.key = ANY(%(primary)s)")
        if parts:
            await self._exec("INSERT INTO imp_existing (k, id, created_at) "
                             + " UNION ALL ".join(parts), {"field": plan.match_field})
        await self._exec("CREATE INDEX ON imp_existing USING hash (k)")
        await self._exec("ANALYZE imp_existing")

    async def load(self, data: bytes, rows: int) -> None:
        """Replace the staging rows with one chunk (CSV, as rows.process_chunk wrote it)."""
        await self._exec("TRUNCATE imp_stage")
        self.staged = rows
        conn = await raw.connection(self.session)
        async with conn.cursor() as cur, cur.copy(
                f"COPY imp_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT csv)"
        ) as copy:
            view = memoryview(data)
            for start in range(0, len(data), 1 << 20):
                await copy.write(view[start:start + (1 << 20)])
        if not self.analyzed:
            # Temporary tables get no autovacuum: without statistics the planner takes
            # the chunk for a handful of rows and joins it by nested loops over seq
            # scans (minutes per chunk). The first chunk's statistics serve the others.
            await self._exec("ANALYZE imp_stage (line, state, email, phone, match_id_key)")
            self.analyzed = True

    def _keys(self, table: str) -> list[str]:
        return [_KEY_SQL[k].format(t=table) for k in self.plan.match_keys]

    async def classify(self) -> None:
        """Give every staged row its bucket: ``invalid``, ``skipped_duplicate``,
        ``updated`` (matched, on_duplicate=update) or ``created``, which stays NULL (most
        rows: they are not rewritten)."""
        plan = self.plan
        keys = self._keys("s")
        if keys:
            # One pass over the chunk's keys: each is looked up once in imp_keys, the new
            # ones are added, and a row holding a key first seen on an earlier line
            # (of this chunk or an earlier one) is a duplicate inside the file.
            row_keys = " UNION ALL ".join(
                f"SELECT line, {k} AS k, '{name}' AS kind, {rank} AS rank FROM imp_stage s "
                f"WHERE state = 'ok' AND s.{_KEY_COLUMN[name]} IS NOT NULL"
                for rank, (k, name) in enumerate(zip(keys, plan.match_keys, strict=True)))
            await self._exec(
                f"WITH rk AS ({row_keys}), "
                "firsts AS (SELECT k, min(line) AS line FROM rk GROUP BY k), "
                "known AS (SELECT f.k, COALESCE(x.line, f.line) AS first, x.k IS NULL AS new "
                "FROM firsts f LEFT JOIN imp_keys x ON x.k = f.k), "
                "added AS (INSERT INTO imp_keys (k, line) SELECT k, first FROM known "
                "WHERE new), "
                "dup AS (SELECT DISTINCT ON (rk.line) rk.line, known.first, rk.kind "
                "FROM rk JOIN known ON known.k = rk.k WHERE known.first < rk.line "
                "ORDER BY rk.line, known.first, rk.rank) "
                "UPDATE imp_stage s SET bucket = 'skipped_duplicate', dup_line = dup.first, "
                "dup_on = dup.kind FROM dup WHERE s.line = dup.line")
        if plan.primary_codes:
            await self._exec(
                f"INSERT INTO imp_keys (k, line) SELECT f.k, f.line FROM (SELECT "
                f"{_PRIMARY_KEY} AS k, min(s.line) AS line FROM imp_stage s, "
                "jsonb_each(COALESCE(s.fields_sent, s.fields_create)) e "
                "WHERE s.state = 'ok' AND e.key = ANY(%(primary)s) GROUP BY 1) f "
                "WHERE NOT EXISTS (SELECT 1 FROM imp_keys x WHERE x.k = f.k)")
        if keys or plan.primary_codes:
            self.keys_rows += self.staged
            if self.keys_rows >= 2 * self.keys_analyzed:  # statistics as the table grows
                await self._exec("ANALYZE imp_keys")
                self.keys_analyzed = self.keys_rows
        if keys and plan.mode != "create":
            await self._match_existing()
        matched = "'updated'" if plan.mode == "update" else "'skipped_duplicate'"
        await self._exec(
            "UPDATE imp_stage SET bucket = CASE WHEN state = 'invalid' THEN 'invalid' "
            f"WHEN match_id IS NOT NULL THEN {matched} ELSE 'invalid' END, "
            "errors = CASE WHEN state = 'ok' AND match_id IS NULL THEN create_errors "
            "ELSE errors END WHERE bucket IS NULL AND (state = 'invalid' OR "
            "match_id IS NOT NULL OR create_errors IS NOT NULL)")
        await self._exec(
            "UPDATE imp_stage SET errors = jsonb_build_array(jsonb_build_object("
            "'column', %(columns)s::jsonb ->> dup_on, 'field', dup_on, "
            "'code', CASE WHEN dup_line IS NOT NULL THEN 'DUPLICATE_IN_FILE' "
            "ELSE 'DUPLICATE_LEAD' END, "
            "'message', CASE WHEN dup_on = 'lead' THEN 'the same lead as line ' || dup_line "
            "WHEN dup_line IS NOT NULL THEN 'the same ' || dup_on || ' as line ' || dup_line "
            "ELSE 'a lead with this ' || dup_on || ' exists' END, "
            "'duplicate_of_line', dup_line, 'existing_id', match_id)) "
            "WHERE bucket = 'skipped_duplicate'", {"columns": raw.jsonb(plan.columns)})
        if plan.primary_codes:
            await self._check_primary()
        for code, related_list in plan.related:
            await self._check_related(code, related_list)

    async def _match_existing(self) -> None:
        """Existing live leads matching a row: by id, then email, then phone (the oldest
        lead when several match), or by the primary field ``match_field``."""
        plan = self.plan
        live = "l.tenant_id = %(t)s AND l.deleted_at IS NULL"
        conditions = {
            "id": f"{live} AND l.id = s2.match_id_key",
            "email": f"{live} AND l.email = s2.email",
            "phone": f"{live} AND l.phone = s2.phone",
            "field": f"{live} AND l.list_id = %(l)s AND l.fields @> s2.match_field",
        }
        for key in plan.match_keys:
            if self.key_table and key != "id":  # ids go through the primary key
                source = f"imp_existing l ON l.k = {_KEY_SQL[key].format(t='s2')}"
            else:
                source = f"leads l ON {conditions[key]}"
            await self._exec(
                "UPDATE imp_stage s SET match_id = m.id, dup_on = %(key)s FROM ("
                f"SELECT DISTINCT ON (s2.line) s2.line, l.id FROM imp_stage s2 JOIN {source} "
                "WHERE s2.bucket IS NULL AND s2.state = 'ok' "
                "AND s2.match_id IS NULL ORDER BY s2.line, l.created_at, l.id) m "
                "WHERE s.line = m.line", {"key": key})
        # Rows matching one lead through different keys (one by email, one by phone):
        # the first takes the lead, the others are duplicates inside the file.
        await self._exec(
            f"INSERT INTO imp_keys (k, line) SELECT f.k, f.line FROM (SELECT "
            f"{_MATCHED_KEY.format(t='imp_stage')} AS k, min(line) AS line "
            "FROM imp_stage WHERE bucket IS NULL AND match_id IS NOT NULL GROUP BY 1) f "
            "WHERE NOT EXISTS (SELECT 1 FROM imp_keys x WHERE x.k = f.k)")
        await self._exec(
            "UPDATE imp_stage s SET bucket = 'skipped_duplicate', dup_line = k.line, "
            "dup_on = 'lead' FROM imp_keys k WHERE s.bucket IS NULL AND "
            f"s.match_id IS NOT NULL AND k.k = {_MATCHED_KEY.format(t='s')} "
            "AND k.line < s.line")

    async def _check_primary(self) -> None:
        """A primary field's value must be unique among the list's live leads: a value
        held by an earlier row, or by another lead, makes the row invalid."""
        if self.key_table:
            held = (f"SELECT l.id FROM imp_existing l WHERE l.k = {_PRIMARY_KEY} "
                    "AND l.id IS DISTINCT FROM s2.match_id LIMIT 1")
        else:
            held = ("SELECT l.id FROM leads l WHERE l.tenant_id = %(t)s AND l.list_id = %(l)s "
                    "AND l.deleted_at IS NULL AND l.fields @> jsonb_build_object(e.key, e.value)"
                    " AND l.id IS DISTINCT FROM s2.match_id AND l.id IS DISTINCT FROM "
                    "s2.lead_id LIMIT 1")
        await self._exec(
            "UPDATE imp_stage s SET bucket = 'invalid', errors = d.errors FROM ("
            "SELECT s2.line, jsonb_agg(jsonb_build_object('column', %(columns)s::jsonb ->> "
            "('fields.' || e.key), 'field', 'fields.' || e.key, 'code', "
            "'DUPLICATE_FIELD_VALUE', 'rule', 'primary', 'message', "
            "CASE WHEN k.line < s2.line THEN 'the same value as line ' || k.line "
            "ELSE 'already taken by another lead' END, 'existing_id', l.id)) AS errors "
            "FROM imp_stage s2 CROSS JOIN jsonb_each(COALESCE(s2.fields_sent, "
            "s2.fields_create)) e "
            f"LEFT JOIN imp_keys k ON k.k = {_PRIMARY_KEY} "
            f"LEFT JOIN LATERAL ({held}) l ON true "
            "WHERE COALESCE(s2.bucket, 'created') IN ('created', 'updated') "
            "AND e.key = ANY(%(primary)s) "
            "AND (k.line < s2.line OR l.id IS NOT NULL) GROUP BY s2.line) d "
            "WHERE s.line = d.line", {"columns": raw.jsonb(self.plan.columns)})

    async def _check_related(self, code: str, related_list: uuid.UUID) -> None:
        await self._exec(
            "UPDATE imp_stage s SET bucket = 'invalid', errors = COALESCE(s.errors, '[]') || "
            "jsonb_build_array(jsonb_build_object('column', %(column)s::text, 'field', "
            "'fields.' || %(code)s::text, 'code', 'INVALID_FIELD_VALUE', 'rule', "
            "'related_lead', 'message', 'must be a lead of the related list')) "
            "WHERE COALESCE(s.bucket, 'created') IN ('created', 'updated') "
            "AND COALESCE(s.fields_sent, s.fields_create) ? %(code)s "
            "AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.tenant_id = %(t)s AND "
            "l.list_id = %(rel)s AND l.deleted_at IS NULL AND "
            "l.id = (COALESCE(s.fields_sent, s.fields_create) ->> %(code)s)::uuid)",
            {"code": code, "rel": related_list,
             "column": self.plan.columns.get(f"fields.{code}")})

    async def matched_leads(self, *, lock: bool) -> list[dict[str, Any]]:
        """Rows to merge into existing leads, with the current lead (locked to write)."""
        sent = ", ".join(f"s.{c} AS s_{c}" for c in (
            "first_name", "last_name", "email", "phone", "company", "job_title", "source",
            "status", "tags", "notes", "owner_id", "do_not_contact", "consent", "timezone",
            "country", "metadata"))
        current = ", ".join(f"l.{c}" for c in _LEAD_COLUMNS)
        return await raw.fetch_all(
            self.session,
            f"SELECT s.line, {sent}, COALESCE(s.fields_sent, s.fields_create) AS "
            f"s_fields_sent, {current} FROM imp_stage s JOIN leads l ON "
            "l.tenant_id = %(t)s AND l.id = s.match_id WHERE s.bucket = 'updated' "
            "ORDER BY l.id" + (" FOR UPDATE OF l" if lock else ""), self.params)

    async def mark_invalid(self, rows: list[tuple[int, list[dict[str, Any]]]]) -> None:
        """Rows whose merge failed (line, errors)."""
        if rows:
            await self._exec(
                "UPDATE imp_stage s SET bucket = 'invalid', errors = e.errors::jsonb FROM "
                "unnest(%(lines)s::int[], %(errors)s::text[]) AS e(line, errors) "
                "WHERE s.line = e.line",
                {"lines": [r[0] for r in rows],
                 "errors": [orjson.dumps(r[1]).decode() for r in rows]})

    async def write_updates(self, rows: list[tuple[Any, ...]]) -> None:
        """Merged leads (UPDATE_COLUMNS order) written over the existing ones."""
        if not rows:
            return
        await self._exec("TRUNCATE imp_updates")
        conn = await raw.connection(self.session)
        async with conn.cursor() as cur, cur.copy(
                f"COPY imp_updates ({', '.join(UPDATE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)
        sets = ", ".join(f"{c} = u.{c}" for c in UPDATE_COLUMNS[1:])
        await self._exec(
            f"UPDATE leads l SET {sets}, version = l.version + 1, updated_at = clock_timestamp()"
            " FROM imp_updates u WHERE l.tenant_id = %(t)s AND l.id = u.id")

    async def insert_created(self) -> None:
        """The new leads, numbered in file order from the workspace's sequence, resolved
        once for the statement rather than by the trigger for each row (migration 0015);
        likewise in the default lead pipeline's first stage, looked up once (the
        ``lb_lead_default_stage`` trigger then does not fire)."""
        await self._exec(
            "WITH r AS (SELECT lb_number_seq(%(t)s, 'leads') AS seq), "
            "d AS MATERIALIZED (SELECT p.id AS pipeline_id, s.id AS stage_id FROM pipelines p "
            "JOIN pipeline_stages s ON s.tenant_id = p.tenant_id AND s.pipeline_id = p.id "
            "WHERE p.tenant_id = %(t)s AND p.kind = 'lead' AND p.is_default "
            "AND p.deleted_at IS NULL AND s.deleted_at IS NULL ORDER BY s.position LIMIT 1) "
            "INSERT INTO leads (number, id, tenant_id, list_id, first_name, last_name, email, "
            "phone, company, job_title, source, status, tags, notes, owner_id, do_not_contact, "
            "consent, timezone, country, fields, metadata, created_at, updated_at, "
            "pipeline_id, stage_id, stage_entered_at) "
            "SELECT nextval(r.seq), "
            "lead_id, %(t)s, %(l)s, first_name, last_name, email, phone, company, "
            "job_title, COALESCE(source, %(source)s), COALESCE(status, 'new'), "
            "COALESCE(tags, '{}'), notes, owner_id, "
            "COALESCE(do_not_contact, false), COALESCE(consent, false), timezone, country, "
            "COALESCE(fields_create, '{}'), COALESCE(metadata, '{}'), clock_timestamp(), "
            "clock_timestamp(), d.pipeline_id, d.stage_id, clock_timestamp() "
            "FROM imp_stage CROSS JOIN r LEFT JOIN d ON true WHERE bucket IS NULL ORDER BY line",
            {"source": DEFAULT_SOURCE})

    async def flush_indexes(self) -> None:
        """Merge the GIN pending lists of ``leads`` (migration 0010), so that searches after
        the commit do not scan what this import left in them."""
        await raw.fetch_row(self.session, "SELECT lb_flush_lead_indexes()", ())

    async def save_errors(self) -> None:
        await self._exec(
            "INSERT INTO import_errors (tenant_id, job_id, line, bucket, errors, \"values\") "
            "SELECT %(t)s, %(j)s, line, bucket, COALESCE(errors, '[]'), raw::jsonb "
            "FROM imp_stage WHERE bucket IN ('invalid', 'skipped_duplicate')")

    async def counts(self) -> dict[str, int]:
        rows = await raw.fetch_all(self.session,
                                   "SELECT COALESCE(bucket, 'created') AS bucket, count(*) AS n "
                                   "FROM imp_stage GROUP BY 1",
                                   ())
        return {r["bucket"]: int(r["n"]) for r in rows}
