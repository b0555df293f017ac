"""Sequential stage moves in-process: wall and PostgreSQL backend CPU per move."""
import asyncio, os, random, sys, time, uuid, cProfile, pstats
sys.path.insert(0, os.getcwd())
import psycopg
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.auth.context import Context, Principal
from leadbase.pipelines import moves
from leadbase.pipelines.schemas import StageMove
from leadbase.db import raw

DB = sys.argv[1]; N = int(sys.argv[2]) if len(sys.argv) > 2 else 300
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"

def cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

async def main():
    with psycopg.connect(URL) as c:
        tenant, = c.execute("select tenant_id from pipelines where kind='lead' and is_default limit 1").fetchone()
        user, = c.execute("select id from users where tenant_id=%s limit 1", (tenant,)).fetchone()
        codes = [r[0] for r in c.execute("select code from pipeline_stages s join pipelines p on p.id=s.pipeline_id where p.tenant_id=%s and p.kind='lead' and p.is_default and s.deleted_at is null order by s.position", (tenant,))]
        leads = [r for r in c.execute("select id, (select code from pipeline_stages where id=stage_id) from leads where tenant_id=%s and deleted_at is null order by random() limit %s", (tenant, N + 20))]
    settings = Settings(database_url=URL, db_pool_size=2)
    db = Database(URL, settings)
    ctx = Context(tenant_id=tenant, principal=Principal(role="owner", tenant_id=tenant, user_id=user))
    pid = None
    async def one(i):
        nonlocal pid
        lead, code = leads[i]
        to = random.choice([c for c in codes if c != code])
        async with db.transaction(tenant) as session:
            if pid is None:
                pid = (await raw.fetch_row(session, "select pg_backend_pid()", ()))[0]
            await moves.move_lead(session, ctx=ctx, lead_id=lead, body=StageMove(stage=to, reason="micro"), expected_version=None)
    for i in range(20):
        await one(N + i)
    c0, t0 = cpu(pid), time.perf_counter()
    prof = cProfile.Profile() if "-p" in sys.argv else None
    if prof: prof.enable()
    p0 = time.process_time()
    for i in range(N):
        await one(i)
    p1 = time.process_time()
    if prof: prof.disable()
    wall = time.perf_counter() - t0
    print(f"{N} moves: {1000*wall/N:.2f} ms wall each, PG backend CPU {1000*(cpu(pid)-c0)/N:.2f} ms, python CPU {1000*(p1-p0)/N:.2f} ms")
    if prof:
        pstats.Stats(prof).sort_stats(sys.argv[-1] if sys.argv[-1] in ("tottime","cumulative") else "cumulative").print_stats(45)
    await db.dispose()
asyncio.run(main())
