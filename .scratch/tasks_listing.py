import sys, uuid
sys.path.insert(0, "/work/wt-perf12"); sys.path.insert(0, "/work/wt-perf12/.scratch")
from sqlalchemy.dialects import postgresql
from leadbase.kit.sorting import parse_sort
from leadbase.leads.repository import Readable
from leadbase.tasks import listing as L, repository as R
from explain import run
D = postgresql.psycopg.dialect()
def comp(stmt):
    c = stmt.compile(dialect=D, compile_kwargs={"render_postcompile": True})
    return str(c), dict(c.params)
tenant, listing = sys.argv[1], sys.argv[2]
scope = Readable(uuid.UUID(tenant))
_, sort = parse_sort(None, R.SORTABLE, default="position", tiebreak=("id", R.ID_COLUMN))
f = R.TaskFilter(listing_ids=(uuid.UUID(listing),))
stmts = [comp(L.page_query(scope, f, sort, None, 0, 26)), comp(L.count_query(scope, f, 1000, "gather"))]
if "-v" in sys.argv:
    for s, p in stmts: print(s, p)
run(sys.argv[3] if len(sys.argv) > 3 and not sys.argv[3].startswith("-") else "leadbase_bench_tasks", tenant, stmts, repeat=2)
