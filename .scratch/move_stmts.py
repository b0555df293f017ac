"""Per-statement execution time of the move's statements (EXPLAIN ANALYZE, warm, rolled back)."""
import os, random, sys, uuid, statistics, re
sys.path.insert(0, os.getcwd())
from datetime import UTC, datetime
import psycopg
from psycopg.types.json import Jsonb
from leadbase.pipelines.repository import moves as M
from leadbase.leads.repository import Readable, get_statement
from leadbase.activities import repository as A
from leadbase.audit import repository as AU
from leadbase.events import outbox
from leadbase.db import roles
DB = sys.argv[1]
url = f"postgresql://postgres@127.0.0.1:5432/{DB}"
acc = roles.prepare(url)
with psycopg.connect(url) as c:
    tenant, = c.execute("select tenant_id from pipelines where kind='lead' and is_default limit 1").fetchone()
    stages = c.execute("select s.id, s.position from pipeline_stages s join pipelines p on p.id=s.pipeline_id where p.tenant_id=%s and p.kind='lead' and p.is_default and s.deleted_at is null order by s.position", (tenant,)).fetchall()
    leads = c.execute("select id, stage_id, pipeline_id, stage_entered_at from leads where tenant_id=%s and deleted_at is null order by random() limit 80", (tenant,)).fetchall()
sig = roles.sign(acc.scope_key, str(tenant), "")
times = {}
scope = Readable(tenant)
with psycopg.connect(acc.login_url) as conn:
    for n, (lead, sid, pid, entered) in enumerate(leads):
        to, pos = random.choice([s for s in stages if s[0] != sid])
        now = datetime.now(UTC)
        where, wp = scope.sql()
        secs = 100
        hist = [0] * (M.bucket(secs) - 1) + [1]
        days = sorted([(to, 1, 0, 0, []), (sid, 0, 1, secs, hist)], key=lambda r: str(r[0]))
        dp = []
        for s_, e, x, ss, h in days: dp += [tenant, s_, now, e, x, ss, h]
        _, act = A.system_statement(tenant_id=tenant, lead_id=lead, type="stage_change", attributes={"a": 1}, description=None, author_user_id=None, occurred_at=now)
        stmts = [("lock", get_statement(scope, lead, for_update=True)),
                 ("activity", act),
                 ("audit", AU.entry_statement(tenant_id=tenant, values={"action": "lead.stage_changed", "entity_type": "lead", "entity_id": lead})),
                 ("event", outbox.event(tenant_id=tenant, type="lead.stage_changed", entity_type="lead", entity_id=lead, payload={"lead": {"x": 1}})),
                 ("first", (M._FIRST_ENTRY, {"id": uuid.uuid4(), "t": tenant, "l": lead, "p": pid, "s": sid, "at": entered})),
                 ("advanced", (M._ADVANCED, {"t": tenant, "l": lead, "p": pid, "pos": pos, "now": now})),
                 ("change", (M._CHANGE, {"id": uuid.uuid4(), "t": tenant, "l": lead, "p": pid, "from": sid, "to": to, "now": now, "actor": None, "reason": "x", "secs": secs})),
                 ("lead", (M._lead_update(where), (to, pid, now, now, now, lead, *wp))),
                 ("days", (M._DAYS.format(rows=", ".join([M._DAY_ROW] * 2)), tuple(dp)))]
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT set_config('role', 'leadbase_app', true), set_config('app.tenant_id', %s, true), set_config('app.scope_sig', %s, true)", (str(tenant), sig))
            for name, (sql, params) in stmts:
                plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql, params).fetchall()
                text = "\n".join(r[0] for r in plan)
                ms = float(re.search(r"Execution Time: ([\d.]+)", text).group(1))
                pl = float(re.search(r"Planning Time: ([\d.]+)", text).group(1))
                if n >= 20:
                    times.setdefault(name, []).append(ms)
tot = 0
for k, v in times.items():
    m = statistics.median(v); tot += m
    print(f"{k:<10} median {m:.3f} ms  mean {statistics.mean(v):.3f}")
print(f"total medians {tot:.2f} ms")
