import asyncio, os, sys, time, uuid
sys.path.insert(0, os.getcwd())
import psycopg
from psycopg.rows import dict_row
from leadbase.leads import service as ls
from leadbase.leads.repository import RETURNING
from leadbase.pipelines.schemas import StageChangeRead, StageMoveRead
from datetime import datetime, UTC
DB = sys.argv[1]
with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}", row_factory=dict_row) as c:
    lead = c.execute(f"select {RETURNING} from leads limit 1").fetchone()
change = {"id": uuid.uuid4(), "lead_id": lead["id"], "pipeline_id": lead["pipeline_id"], "from_stage_id": lead["stage_id"], "from_stage": "new", "to_stage_id": lead["stage_id"], "to_stage": "won", "changed_at": datetime.now(UTC), "actor_user_id": None, "reason": "x", "seconds_in_previous": 5}
def t(name, f, n=2000):
    for _ in range(100): f()
    p = time.perf_counter()
    for _ in range(n): f()
    print(f"{name}: {1e6*(time.perf_counter()-p)/n:.0f} us")
t("event_payload", lambda: ls.event_payload(lead))
t("change dump", lambda: StageChangeRead.model_validate(change).model_dump(mode="json"))
t("response", lambda: StageMoveRead.model_validate({"lead": lead, "change": change}).model_dump_json())
import orjson
from leadbase.db.raw import jsonb
t("orjson payload", lambda: orjson.dumps({"lead": ls.event_payload(lead)}))
