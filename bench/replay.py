"""In-process replay: a scenario's requests as service calls (no HTTP, no FastAPI), with
the time spent inside ``cursor.execute`` (driver + database) recorded per statement, which
separates database time from application time."""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench.client import Scenario
from bench.report import CpuMeter, out, pct


def _statement_kind(sql: str) -> str:
    low = sql.lower()
    if "set_config" in low:
        return "scope"
    if low.startswith("explain"):
        return "estimate"
    if "count(*)" in low:
        return "count"
    if "from tenants" in low or "from users" in low:
        return "member"
    if "pg_advisory_xact_lock" in low:
        return "lock"
    if low.startswith("insert into leads"):
        return "insert"
    if low.startswith("insert into audit"):
        return "audit"
    if low.startswith("insert into events"):
        return "event"
    if "from lead_lists" in low:
        return "list"
    if "from leads" in low:
        if "order by leads.created_at limit" in " ".join(low.split()):
            return "dup"
        return "page" if "limit" in low else "get"
    return " ".join(low.split())[:30]


@dataclass
class DirectResult:
    name: str
    totals: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    kinds: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    error_sample: str = ""
    other_cores: float | None = None


async def run_direct(url: str, scenarios: list[Scenario], tenant_id: str, user_id: str,
                     requests: int, offset: int, duration: float) -> list[DirectResult]:
    from sqlalchemy import event

    from leadbase.auth.context import Context, Principal
    from leadbase.config import Settings
    from leadbase.db.session import SCOPE_KEY_INFO, Database, scope
    from leadbase.users import repository as users_repository

    settings = Settings(database_url=url, db_pool_size=1, db_max_overflow=0)
    db = Database(url, settings)
    scope_key = (await db.access()).scope_key
    current: list[tuple[str, float]] = []
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        started[id(conn)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        current.append((statement, time.perf_counter() - started.pop(id(conn))))

    event.listen(db.engine.sync_engine, "before_cursor_execute", before)
    event.listen(db.engine.sync_engine, "after_cursor_execute", after)
    tid, uid = uuid.UUID(tenant_id), uuid.UUID(user_id)
    ctx = Context(tenant_id=tid, principal=Principal(role="owner", tenant_id=tid, user_id=uid))

    async def membership(session: Any) -> None:
        # What the request dependency checks (leadbase.auth.deps.workspace_scope).
        if hasattr(users_repository, "member_state"):
            await users_repository.member_state(session, tenant_id=tid, user_id=uid)
        else:
            await users_repository.active_role(session, user_id=uid)

    results = []
    try:
        for sc in scenarios:
            if sc.direct is None:
                continue
            res = DirectResult(sc.name)
            deadline = time.perf_counter() + duration
            before = CpuMeter._system_busy(), time.process_time(), time.perf_counter()
            for k in range(requests + 10):
                if k >= 10 and time.perf_counter() > deadline:
                    break
                current.clear()
                t = time.perf_counter()
                try:
                    # As Database.transaction does for each request, with the commit timed.
                    async with db.sessions() as session:
                        async with session.begin():
                            session.info[SCOPE_KEY_INFO] = scope_key
                            await scope(session, tid)
                            await membership(session)
                            await sc.direct(session, ctx, offset + k)
                            t_commit = time.perf_counter()
                        commit = time.perf_counter() - t_commit
                except Exception as exc:  # an API request would answer 500
                    res.errors += 1
                    res.error_sample = res.error_sample or " ".join(str(exc).split())[:300]
                    continue
                dt = time.perf_counter() - t
                if k < 10:
                    continue  # warm-up
                res.totals.append(dt)
                res.sql.append(sum(d for _, d in current) + commit)
                for stmt, d in current:
                    res.kinds.setdefault(_statement_kind(stmt), []).append(d)
                res.kinds.setdefault("commit", []).append(commit)
            busy, own, wall = CpuMeter._system_busy(), time.process_time(), time.perf_counter()
            if busy is not None and before[0] is not None and wall > before[2]:
                # Everything but this process (which also waits on its PostgreSQL backend).
                res.other_cores = max(0.0, (busy - before[0] - (own - before[1]))
                                      / (wall - before[2]))
            results.append(res)
    finally:
        await db.dispose()
    return results


def print_direct(results: list[DirectResult]) -> None:
    out(f"  {'scenario':<18} {'calls':>6} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'sql p50':>8} {'sql p99':>8}  per statement: mean / p99 ms (count per call)")
    for r in results:
        n = max(1, len(r.totals))
        parts = []
        for kind, values in r.kinds.items():
            parts.append(f"{kind} {statistics.mean(values) * 1000:.1f}/"
                         f"{pct(values, 0.99):.1f} ({len(values) / n:.2g})")
        out(f"  {r.name:<18} {len(r.totals) + r.errors:>6} {r.errors:>6} "
            f"{pct(r.totals, 0.5):>7.1f} {pct(r.totals, 0.99):>7.1f} "
            f"{pct(r.sql, 0.5):>8.1f} {pct(r.sql, 0.99):>8.1f} "
            f"{'-' if r.other_cores is None else f'{r.other_cores:.2f}':>5}  {', '.join(parts)}")
    for r in results:
        if r.error_sample:
            out(f"  ! {r.name}: {r.errors} failed calls, e.g. {r.error_sample}")
