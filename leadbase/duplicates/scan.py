"""The scan of a workspace for likely duplicate groups, run by the worker.

Set-based blockings, each one statement over the workspace's live leads in its own
transaction with the job's progress: the same mailbox (``lb_email_key``), the same phone,
the same email domain (not webmail) and last name, and similar names (trigram
``similarity`` ≥ 0.6) within blocks of the same company and first three letters of the
last name. Blocks of more than ``MAX_BLOCK`` leads (a shared info@ mailbox; name blocks:
``MAX_COMPANY_BLOCK``) are skipped and counted. The blocks and pairs
are joined into groups (union-find) in Python, scored by their reasons, and written
replacing the workspace's previous groups. A cancelled scan stops before its next step."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import context_of
from leadbase.db import raw
from leadbase.db.session import Database
from leadbase.duplicates import repository
from leadbase.duplicates.candidates import FREE_DOMAINS, NAME_CLOSE, NAME_POINTS, POINTS
from leadbase.kit.ids import new_id

log = logging.getLogger(__name__)

MAX_BLOCK = 50
MAX_COMPANY_BLOCK = 200
MAX_GROUP = 50
NAME_SIMILARITY = 0.6
LIVE = "tenant_id = %(t)s AND deleted_at IS NULL"

BLOCKINGS: list[tuple[str, str]] = [
    ("same_email",
     f"SELECT array_agg(id) AS ids, count(*) AS n FROM leads WHERE {LIVE} "
     "AND email IS NOT NULL GROUP BY lb_email_key(email) HAVING count(*) > 1"),
    ("same_phone",
     f"SELECT array_agg(id) AS ids, count(*) AS n FROM leads WHERE {LIVE} "
     "AND phone IS NOT NULL GROUP BY phone HAVING count(*) > 1"),
    ("same_domain_last_name",
     f"SELECT array_agg(id) AS ids, count(*) AS n FROM leads WHERE {LIVE} "
     "AND email IS NOT NULL AND last_name IS NOT NULL "
     "AND lb_email_domain(email) <> ALL(%(free)s) "
     "GROUP BY lb_domain_last(email, last_name) HAVING count(*) > 1"),
    ("similar_name",
     "WITH b AS MATERIALIZED (SELECT id, lower(company) || chr(31) || "
     "left(lower(lb_unaccent(coalesce(last_name, ''))), 3) AS c, "
     "lower(lb_unaccent(concat_ws(' ', first_name, last_name))) AS n FROM leads "
     f"WHERE {LIVE} AND company IS NOT NULL "
     "AND (first_name IS NOT NULL OR last_name IS NOT NULL)), "
     "s AS (SELECT c, count(*) AS n FROM b GROUP BY c HAVING count(*) > 1), "
     "k AS (SELECT b.* FROM b JOIN s USING (c) WHERE s.n <= %(company_block)s) "
     "SELECT ARRAY[x.id, y.id] AS ids, 2::bigint AS n FROM k x JOIN k y "
     "ON x.c = y.c AND x.id < y.id WHERE similarity(x.n, y.n) >= %(sim)s "
     "UNION ALL SELECT ARRAY[]::uuid[], s.n FROM s WHERE s.n > %(company_block)s"),
]
REASON_POINTS = {**POINTS, "similar_name": NAME_POINTS[NAME_CLOSE]}
STEPS = len(BLOCKINGS) + 1


class _Groups:
    """Union-find over lead ids, with the reasons that joined each group."""

    def __init__(self) -> None:
        self.parent: dict[uuid.UUID, uuid.UUID] = {}
        self.reasons: dict[uuid.UUID, set[str]] = {}

    def find(self, x: uuid.UUID) -> uuid.UUID:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def join(self, ids: list[uuid.UUID], reason: str) -> None:
        root = self.find(ids[0])
        for other in ids[1:]:
            r = self.find(other)
            if r != root:
                self.parent[r] = root
                self.reasons.setdefault(root, set()).update(self.reasons.pop(r, set()))
        self.reasons.setdefault(root, set()).add(reason)

    def groups(self) -> list[tuple[list[uuid.UUID], set[str]]]:
        members: dict[uuid.UUID, list[uuid.UUID]] = {}
        for x in list(self.parent):
            members.setdefault(self.find(x), []).append(x)
        return [(sorted(ids), self.reasons.get(root, set()))
                for root, ids in members.items() if len(ids) > 1]


def group_score(reasons: set[str]) -> int:
    return min(100, sum(REASON_POINTS[r] for r in reasons))


async def _step(db: Database, tenant_id: uuid.UUID, scan_id: uuid.UUID,
                values: dict[str, Any]) -> bool:
    """Record progress; False when the scan was cancelled meanwhile."""
    async with db.transaction(tenant_id) as session:
        scan = await repository.get_scan(session, tenant_id=tenant_id, scan_id=scan_id,
                                         for_update=True)
        if scan is None or scan["status"] != "running":
            return False
        await repository.SCAN_ROWS.update(session, tenant_id=tenant_id, row_id=scan_id,
                                          values=values)
        return True


async def _block(session: AsyncSession, tenant_id: uuid.UUID,
                 sql: str) -> list[dict[str, Any]]:
    return await raw.fetch_all(session, sql, {"t": tenant_id, "free": sorted(FREE_DOMAINS),
                                              "company_block": MAX_COMPANY_BLOCK,
                                              "sim": NAME_SIMILARITY})


async def run_scan(db: Database, *, tenant_id: uuid.UUID, scan_id: uuid.UUID) -> str:
    """Run a queued scan (safe to run twice: only a queued scan is taken)."""
    async with db.transaction(tenant_id) as session:
        scan = await repository.get_scan(session, tenant_id=tenant_id, scan_id=scan_id,
                                         for_update=True)
        if scan is None:
            return "missing"
        if scan["status"] != "queued":
            return str(scan["status"])
        await repository.SCAN_ROWS.update(session, tenant_id=tenant_id, row_id=scan_id,
                                          values={"status": "running", "total": STEPS,
                                                  "started_at": datetime.now(UTC)})
    started = datetime.now(UTC)
    try:
        status, result, count = await _walk(db, tenant_id, scan_id)
        values: dict[str, Any] = {"status": status, "finished_at": datetime.now(UTC)}
        if status == "completed":
            result["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 3)
            values.update(result=result, groups=count, processed=STEPS)
    except Exception as exc:  # recorded on the scan
        log.warning("duplicate scan %s failed: %s", scan_id, exc)
        values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000],
                  "finished_at": datetime.now(UTC)}
    async with db.transaction(tenant_id) as session:
        current = await repository.get_scan(session, tenant_id=tenant_id, scan_id=scan_id,
                                            for_update=True)
        if current is None or current["status"] == "cancelled":
            return "cancelled"
        done = await repository.SCAN_ROWS.update(session, tenant_id=tenant_id, row_id=scan_id,
                                                 values=values)
        await audit.record(session, ctx=context_of(tenant_id, scan["actor"]),
                           action=f"duplicates.scan_{values['status']}",
                           entity_type="duplicate_scan", entity_id=scan_id,
                           changes={"groups": done["groups"]})
    return str(values["status"])


async def _walk(db: Database, tenant_id: uuid.UUID,
                scan_id: uuid.UUID) -> tuple[str, dict[str, Any], int]:
    groups = _Groups()
    result: dict[str, Any] = {"skipped_blocks": {}, "pairs": {}, "step_seconds": {}}
    leads = 0
    for done, (reason, sql) in enumerate(BLOCKINGS, start=1):
        started = time.perf_counter()
        async with db.transaction(tenant_id) as session:
            if done == 1:
                counted = await raw.fetch_row(session, "SELECT count(*) FROM leads WHERE "
                                              "tenant_id = %s AND deleted_at IS NULL",
                                              (tenant_id,))
                leads = int(counted[0]) if counted else 0
            rows = await _block(session, tenant_id, sql)
        skipped = used = 0
        limit = MAX_COMPANY_BLOCK if reason == "similar_name" else MAX_BLOCK
        for row in rows:
            if not row["ids"] or row["n"] > limit:
                skipped += 1
                continue
            groups.join(row["ids"], reason)
            used += 1
        result["step_seconds"][reason] = round(time.perf_counter() - started, 3)
        result["skipped_blocks"][reason] = skipped
        result["pairs"][reason] = used
        if not await _step(db, tenant_id, scan_id, {"processed": done, "leads": leads}):
            return "cancelled", result, 0
    started = time.perf_counter()
    found = groups.groups()
    large = [g for g in found if len(g[0]) > MAX_GROUP]
    kept = [g for g in found if len(g[0]) <= MAX_GROUP]
    result["skipped_groups"] = len(large)
    async with db.transaction(tenant_id) as session:
        scan = await repository.get_scan(session, tenant_id=tenant_id, scan_id=scan_id,
                                         for_update=True)
        if scan is None or scan["status"] != "running":
            return "cancelled", result, 0
        await write_groups(session, tenant_id=tenant_id, scan_id=scan_id, groups=kept)
    result["step_seconds"]["groups"] = round(time.perf_counter() - started, 3)
    return "completed", result, len(kept)


# One statement for all the groups: arrays of arrays differ in length, so each group's
# leads and reasons travel as array literals, cast in SQL.
_INSERT_GROUPS = (
    "INSERT INTO duplicate_groups (id, tenant_id, scan_id, score, reasons, lead_ids, size) "
    "SELECT g.id, %(t)s, %(s)s, g.score, g.reasons::text[], g.leads::uuid[], g.size "
    "FROM unnest(%(ids)s::uuid[], %(scores)s::smallint[], %(reasons)s::text[], "
    "%(leads)s::text[], %(sizes)s::smallint[]) AS g(id, score, reasons, leads, size)")


def _literal(values: list[Any]) -> str:
    return "{" + ",".join(str(v) for v in values) + "}"


async def write_groups(session: AsyncSession, *, tenant_id: uuid.UUID, scan_id: uuid.UUID,
                       groups: list[tuple[list[uuid.UUID], set[str]]]) -> None:
    """The scan's groups, replacing those of the workspace's earlier scans."""
    await raw.execute(session, "DELETE FROM duplicate_groups WHERE tenant_id = %s "
                      "AND scan_id <> %s", (tenant_id, scan_id))
    for start in range(0, len(groups), 10_000):
        part = groups[start:start + 10_000]
        await raw.execute(session, _INSERT_GROUPS, {
            "t": tenant_id, "s": scan_id, "ids": [new_id() for _ in part],
            "scores": [group_score(reasons) for _, reasons in part],
            "reasons": [_literal(sorted(reasons)) for _, reasons in part],
            "leads": [_literal(ids) for ids, _ in part], "sizes": [len(ids) for ids, _ in part]})
