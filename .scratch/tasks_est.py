import sys, uuid, time
sys.path.insert(0, "/work/wt-perf12"); sys.path.insert(0, "/work/wt-perf12/.scratch")
from sqlalchemy.dialects import postgresql
from leadbase.leads.repository import Readable
from leadbase.tasks import listing as L, repository as R
from explain import run
D = postgresql.psycopg.dialect()
def comp(stmt):
    c = stmt.compile(dialect=D, compile_kwargs={"render_postcompile": True})
    return str(c), dict(c.params)
tenant, listing = sys.argv[1], sys.argv[2]
scope = Readable(uuid.UUID(tenant))
f = R.TaskFilter(listing_ids=(uuid.UUID(listing),))
sql, p = comp(L._joined(scope, f, "none"))
run("leadbase_bench_tasks", tenant, [("EXPLAIN (FORMAT JSON) " + sql, p)], analyze=False)
run("leadbase_bench_tasks", tenant, [(sql, p)], analyze=True)
