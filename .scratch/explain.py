"""EXPLAIN (ANALYZE, BUFFERS) statements as the app role with the RLS scope of a tenant.

usage: explain.py DB TENANT  (statements as python literals on stdin: list of (sql, params))
"""
import sys, ast, time
import psycopg
sys.path.insert(0, "/work/wt-perf12")
from leadbase.db import roles
from leadbase.db.roles import APP_ROLE

def run(db: str, tenant: str, statements, analyze=True, repeat=1):
    url = f"postgresql://postgres@127.0.0.1:5432/{db}"
    acc = roles.prepare(url)
    sig = roles.sign(acc.scope_key, tenant, "")
    with psycopg.connect(acc.login_url) as conn:
        for sql, params in statements:
            with conn.transaction():
                conn.execute("SELECT set_config('role', %s, true), set_config('app.tenant_id', %s, true), set_config('app.scope_sig', %s, true)", (APP_ROLE, tenant, sig))
                if analyze:
                    for _ in range(repeat - 1):
                        conn.execute(sql, params).fetchall()
                    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
                    print("\n".join(r[0] for r in rows))
                else:
                    t = time.perf_counter()
                    n = len(conn.execute(sql, params).fetchall())
                    print(f"{n} rows {1000*(time.perf_counter()-t):.1f} ms")
            print("-" * 60)
