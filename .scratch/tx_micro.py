import asyncio, os, sys, time
sys.path.insert(0, os.getcwd())
import psycopg
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.db import raw
DB = sys.argv[1]; N = 500
URL = f"postgresql://postgres@127.0.0.1:5432/{DB}"
async def main():
    with psycopg.connect(URL) as c:
        tenant, = c.execute("select tenant_id from pipelines limit 1").fetchone()
    db = Database(URL, Settings(database_url=URL, db_pool_size=2))
    async def empty():
        async with db.transaction(tenant) as s:
            pass
    async def one_stmt():
        async with db.transaction(tenant) as s:
            await raw.fetch_row(s, "select 1", ())
    async def pipe5():
        async with db.transaction(tenant) as s:
            await raw.fetch_each(s, [("select 1", ())] * 5)
    for f in (empty, one_stmt, pipe5):
        for _ in range(50): await f()
        p0, t0 = time.process_time(), time.perf_counter()
        for _ in range(N): await f()
        print(f"{f.__name__}: python CPU {1000*(time.process_time()-p0)/N:.3f} ms, wall {1000*(time.perf_counter()-t0)/N:.3f} ms")
    conn = await psycopg.AsyncConnection.connect(URL)
    p0 = time.process_time()
    for _ in range(N):
        async with conn.transaction():
            await (await conn.execute("select 1")).fetchone()
    print(f"bare psycopg tx+select: {1000*(time.process_time()-p0)/N:.3f} ms")
    await db.dispose()
asyncio.run(main())
