"""The rule language's two compilations agree: for generated rules and generated leads
(with activities and tasks), the leads ``to_sql`` selects in PostgreSQL are exactly those
``matches`` accepts in memory, with facts from ``load_facts``' twin here (counts computed
from the generated rows) and from PostgreSQL itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, insert, select, true
from sqlalchemy.engine import Connection

from leadbase.db.base import table_of
from leadbase.db.session import Database
from leadbase.leads.repository import T
from leadbase.models import Activity, Task
from leadbase.models.leads import LEAD_STATUSES, TEMPERATURES
from leadbase.rules import Catalog, Facts, counts_of, load_catalog, matches, parse, to_sql
from leadbase.rules.catalog import add_custom
from tests.factories import add_member, make_workspace

A = table_of(Activity)
K = table_of(Task)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

CUSTOM = [
    {"code": "Edad", "name": "Edad", "type": "INT", "subtype": None, "code_list_id": None},
    {"code": "Monto", "name": "Monto", "type": "DECIMAL", "subtype": None, "code_list_id": None},
    {"code": "Alta", "name": "Alta", "type": "DATE", "subtype": None, "code_list_id": None},
    {"code": "Visto", "name": "Visto", "type": "DATETIME", "subtype": None,
     "code_list_id": None},
    {"code": "Activo", "name": "Activo", "type": "BOOL", "subtype": None, "code_list_id": None},
    {"code": "Plan", "name": "Plan", "type": "SELECTOR", "subtype": "SELECTOR_SINGLE",
     "code_list_id": uuid.uuid4()},
    {"code": "Extras", "name": "Extras", "type": "SELECTOR", "subtype": "SELECTOR_MULTIPLE",
     "code_list_id": uuid.uuid4()},
    {"code": "Nota", "name": "Nota", "type": "STRING", "subtype": None, "code_list_id": None},
]


@dataclass
class World:
    tenant_id: uuid.UUID
    list_id: uuid.UUID
    users: list[uuid.UUID]
    stages: list[uuid.UUID]
    stage_codes: list[str]
    pipeline_id: uuid.UUID
    catalog: Catalog
    engine: Engine


@pytest_asyncio.fixture(loop_scope="session")
async def world(client: httpx.AsyncClient, db: Database, libpq: str) -> World:
    owner = await make_workspace(client, "Rules property")
    agent = await add_member(client, owner, "agent")
    lists = (await client.get("/api/v1/lists", headers=owner.headers)).json()["data"]
    pipes = (await client.get("/api/v1/pipelines?kind=lead", headers=owner.headers)).json()
    pipe = next(p for p in pipes["data"] if p["is_default"])
    async with db.transaction(owner.tenant_id) as session:
        catalog = await load_catalog(session, tenant_id=owner.tenant_id)
    for row in CUSTOM:
        add_custom(catalog, row)
    engine = create_engine(libpq.replace("postgresql://", "postgresql+psycopg://", 1))
    return World(tenant_id=owner.tenant_id, list_id=uuid.UUID(lists[0]["id"]),
                 users=[owner.user_id, agent.user_id],
                 stages=[uuid.UUID(s["id"]) for s in pipe["stages"]],
                 stage_codes=[s["code"] for s in pipe["stages"]],
                 pipeline_id=uuid.UUID(pipe["id"]), catalog=catalog, engine=engine)


# Values: small pools, so generated rules and leads meet, and times right at the edges of
# the day windows (N days ago, a second either side).
EDGES = [0, 1, 7, 30]
days_ago = st.builds(lambda d, s: NOW - d * DAY + timedelta(seconds=s),
                     st.sampled_from(EDGES) | st.integers(-2, 35), st.sampled_from([-1, 0, 0, 1]))
maybe_time = st.none() | days_ago
words = st.sampled_from(["web", "website", "ads", "Ana", "Anabel", "x_y", "x%", ""])
maybe_word = st.none() | words
tags = st.lists(st.sampled_from(["vip", "hot", "cold", "x"]), max_size=3, unique=True)
num_days = st.sampled_from(EDGES) | st.integers(0, 33)
count_value = st.integers(0, 3)
DATES = [(NOW - d * DAY).date().isoformat() for d in (0, 1, 2, 7, 30)]
STAMPS = [(NOW - d * DAY + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
          for d in (0, 1, 7, 30) for s in (-1, 0, 1)]
custom_values: dict[str, st.SearchStrategy[Any]] = {
    "Edad": st.sampled_from([0, 17, 18, 42, 42.0, "42", "18", "abc", True, None]),
    "Monto": st.sampled_from(["12.50", "12.5", "0", "-3", 12.5, 100, "x", None]),
    "Alta": st.sampled_from([*DATES, "junk", 5, None]),
    "Visto": st.sampled_from([*STAMPS, None, 3]),
    "Activo": st.sampled_from([True, False, 1, "true", None]),
    "Plan": st.sampled_from(["gold", "silver", "", None, ["gold"], 7]),
    "Extras": st.sampled_from([["a"], ["a", "b"], ["b", "c"], [], "a", None, [1]]),
    "Nota": st.sampled_from(["web", "website", "", "Ana", None, 42]),
}


def custom_fields() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=custom_values).map(
        lambda d: {k: v for k, v in d.items()})


activity = st.tuples(st.sampled_from(["call", "email", "note"]),
                     st.sampled_from(EDGES) | st.integers(-2, 35),
                     st.sampled_from([-1, 0, 1]), st.booleans())
task = st.tuples(st.sampled_from(["open", "completed"]), st.none() | st.integers(-3, 3),
                 st.booleans())


def lead_strategy(w: World) -> st.SearchStrategy[dict[str, Any]]:
    stage = st.sampled_from([None, *w.stages])
    return st.fixed_dictionaries({
        "status": st.sampled_from(LEAD_STATUSES), "temperature": st.sampled_from(TEMPERATURES),
        "source": maybe_word, "first_name": maybe_word, "company": maybe_word,
        "email": st.sampled_from([None, "ana@x.io", "bob@y.io"]),
        "country": st.sampled_from([None, "AR", "ES"]), "tags": tags,
        "owner_id": st.sampled_from([None, *w.users]), "stage_id": stage,
        "score": st.sampled_from([0, 10, 49, 50, 51, 100]),
        "consent": st.booleans(), "do_not_contact": st.booleans(),
        "created_at": days_ago, "last_activity_at": maybe_time,
        "last_contacted_at": maybe_time, "stage_entered_at": maybe_time,
        "fields": custom_fields(),
        "activities": st.lists(activity, max_size=4), "tasks": st.lists(task, max_size=3),
    })


def predicate(w: World) -> st.SearchStrategy[dict[str, Any]]:
    def p(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
        out = {"field": field, "op": op, **extra}
        if value is not None:
            out["value"] = value
        return out

    member = st.sampled_from(["eq", "ne"])
    listed = st.sampled_from(["in", "not_in"])
    cmp = st.sampled_from(["gt", "gte", "lt", "lte"])
    presence = st.sampled_from(["exists", "missing"])
    rel = st.sampled_from(["older_than_days", "newer_than_days"])
    strings = st.sampled_from(["source", "first_name", "company"])
    text = st.sampled_from(["web", "website", "ads", "Ana", "x_y", "x%"])
    stage_ref = st.sampled_from([*map(str, w.stages), *w.stage_codes])
    times = st.sampled_from(["created_at", "last_activity_at", "last_contacted_at",
                             "stage_entered_at"])
    moment = days_ago.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    leaves = [
        st.builds(p, strings, member, text),
        st.builds(p, strings, listed, st.lists(text, min_size=1, max_size=3)),
        st.builds(p, strings, st.just("starts_with"), st.sampled_from(["we", "An", "x_", "x%"])),
        st.builds(p, strings, presence),
        st.builds(p, st.just("status"), member, st.sampled_from(LEAD_STATUSES)),
        st.builds(p, st.just("status"), listed,
                  st.lists(st.sampled_from(LEAD_STATUSES), min_size=1, max_size=3)),
        st.builds(p, st.just("email"), member, st.sampled_from(["ana@x.io", "ANA@X.IO"])),
        st.builds(p, st.just("country"), st.sampled_from(["eq", "ne", "exists", "missing"]),
                  st.sampled_from(["AR", "ES"])).map(
            lambda d: {k: v for k, v in d.items()
                       if not (k == "value" and d["op"] in ("exists", "missing"))}),
        st.builds(p, st.just("tags"), st.sampled_from(["contains", "in", "not_in"]),
                  st.lists(st.sampled_from(["vip", "hot", "x"]), min_size=1, max_size=2)),
        st.builds(p, st.just("tags"), presence),
        st.builds(p, st.just("owner"), member, st.sampled_from([str(u) for u in w.users])),
        st.builds(p, st.just("owner"), presence),
        st.builds(p, st.just("stage"), member | listed, stage_ref).map(
            lambda d: {**d, "value": [d["value"]]} if d["op"] in ("in", "not_in") else d),
        st.builds(p, st.just("pipeline"), member, st.just(str(w.pipeline_id))),
        st.builds(p, st.just("score"), cmp | member, st.sampled_from([0, 49, 50, 51, 100])),
        st.builds(p, st.just("score"), st.just("between"),
                  st.sampled_from([[10, 50], [0, 0], [50, 100]])),
        st.builds(p, st.sampled_from(["consent", "do_not_contact"]), member, st.booleans()),
        st.builds(p, times, rel, num_days), st.builds(p, times, cmp, moment),
        st.builds(p, st.sampled_from(["last_activity_at", "last_contacted_at",
                                      "stage_entered_at"]), presence),
        st.builds(p, st.just("days_in_stage"), cmp | member, num_days),
        st.builds(p, st.just("days_in_stage"), presence),
        st.builds(lambda op, v, d: p("activities.call", op, v, **({"within_days": d} if d else {})),
                  cmp | member, count_value, st.none() | st.sampled_from([1, 7, 30])),
        st.builds(lambda t, op, v: p(f"activities.{t}", op, v), st.sampled_from(["email", "note"]),
                  cmp | member, count_value),
        st.builds(p, st.sampled_from(["tasks.open", "tasks.overdue"]), cmp | member, count_value),
        st.builds(p, st.just("fields.Edad"), cmp | member, st.sampled_from([17, 18, 42])),
        st.builds(p, st.just("fields.Edad"), listed, st.just([18, 42])),
        st.builds(p, st.just("fields.Monto"), cmp | member, st.sampled_from(["12.5", 0, 100, -3])),
        st.builds(p, st.just("fields.Alta"), cmp | member, st.sampled_from(DATES)),
        st.builds(p, st.just("fields.Alta"), rel, num_days),
        st.builds(p, st.just("fields.Visto"), cmp, st.sampled_from(STAMPS)),
        st.builds(p, st.just("fields.Visto"), rel, num_days),
        st.builds(p, st.just("fields.Activo"), member, st.booleans()),
        st.builds(p, st.just("fields.Plan"), member | listed,
                  st.sampled_from(["gold", "silver"])).map(
            lambda d: {**d, "value": [d["value"]]} if d["op"] in ("in", "not_in") else d),
        st.builds(p, st.just("fields.Extras"), st.sampled_from(["contains", "in", "not_in"]),
                  st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2)),
        st.builds(p, st.sampled_from(["fields.Nota", "fields.Plan", "fields.Extras", "fields.Edad",
                                      "fields.Alta"]), presence),
        st.builds(p, st.just("fields.Nota"), st.just("starts_with"), st.sampled_from(["we", "An"])),
    ]
    return st.one_of(leaves)


def rules(w: World) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(predicate(w), lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(children, max_size=3).map(lambda xs: {"any": xs}),
        children.map(lambda x: {"not": x})), max_leaves=6)


def _insert(conn: Connection, w: World, leads: list[dict[str, Any]]
            ) -> tuple[list[uuid.UUID], dict[uuid.UUID, dict[tuple[str, str, int | None], int]]]:
    """Insert the leads with their activities and tasks (three statements); the counts the
    rules can ask for, computed here from the generated rows."""
    ids, counts = [], {}
    lead_rows, acts, tasks = [], [], []
    for spec in leads:
        lead_id = uuid.uuid4()
        ids.append(lead_id)
        row = {k: v for k, v in spec.items() if k not in ("activities", "tasks")}
        row.update(id=lead_id, tenant_id=w.tenant_id, list_id=w.list_id,
                   pipeline_id=w.pipeline_id if row["stage_id"] else None,
                   updated_at=row["created_at"])
        lead_rows.append(row)
        mine = [{"id": uuid.uuid4(), "tenant_id": w.tenant_id, "lead_id": lead_id, "type": t,
                 "occurred_at": NOW - d * DAY + timedelta(seconds=s),
                 "deleted_at": NOW if gone else None} for t, d, s, gone in spec["activities"]]
        todo = [{"id": uuid.uuid4(), "tenant_id": w.tenant_id, "lead_id": lead_id,
                 "title": "t", "status": status, "position": len(tasks) + i + 1,
                 "due_at": None if due is None else NOW + due * DAY,
                 "deleted_at": NOW if gone else None}
                for i, (status, due, gone) in enumerate(spec["tasks"])]
        acts += mine
        tasks += todo
        c: dict[tuple[str, str, int | None], int] = {}
        for a in mine:
            if a["deleted_at"] is None and a["occurred_at"] <= NOW:
                for window in (None, 1, 7, 30):
                    if window is None or a["occurred_at"] >= NOW - window * DAY:
                        key = ("activities", a["type"], window)
                        c[key] = c.get(key, 0) + 1
        live_open = [t for t in todo if t["deleted_at"] is None and t["status"] == "open"]
        c[("tasks", "open", None)] = len(live_open)
        c[("tasks", "overdue", None)] = sum(1 for t in live_open
                                             if t["due_at"] is not None and t["due_at"] < NOW)
        counts[lead_id] = c
    conn.execute(insert(T), lead_rows)
    if acts:
        conn.execute(insert(A), acts)
    if tasks:
        conn.execute(insert(K), tasks)
    return ids, counts


@pytest.fixture
def conn(world: World) -> Iterator[Connection]:
    with world.engine.connect() as c:
        yield c


@settings(max_examples=250, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_sql_and_memory_agree(world: World, conn: Connection, data: st.DataObject) -> None:
    leads = data.draw(st.lists(lead_strategy(world), min_size=1, max_size=5), label="leads")
    condition = data.draw(rules(world), label="rule")
    rule = parse(condition, world.catalog)
    scoped = world.tenant_id if data.draw(st.booleans(), label="scoped") else None
    trans = conn.begin()
    try:
        ids, counts = _insert(conn, world, leads)
        selected = set(conn.execute(select(T.c.id).where(
            T.c.tenant_id == world.tenant_id, T.c.id.in_(ids),
            to_sql(rule, now=NOW, tenant_id=scoped))).scalars())
        # The counts joined (one LATERAL probe per lead and source, as the recalculation
        # reads them) instead of a subquery per predicate.
        source: Any = T
        joined: dict[Any, Any] = {}
        for sub, columns in counts_of(rule.needs, tenant_id=world.tenant_id, now=NOW):
            source = source.outerjoin(sub, true())
            joined |= {agg: func.coalesce(col, 0) for agg, col in columns.items()}
        with_counts = set(conn.execute(select(T.c.id).select_from(source).where(
            T.c.tenant_id == world.tenant_id, T.c.id.in_(ids),
            to_sql(rule, now=NOW, tenant_id=world.tenant_id, counts=joined))).scalars())
        rows = {r["id"]: dict(r) for r in conn.execute(
            select(T).where(T.c.id.in_(ids))).mappings()}
    finally:
        trans.rollback()
    accepted = {i for i in ids if matches(rule, Facts(lead=rows[i], counts=counts[i]), now=NOW)}
    assert selected == accepted, (condition, {str(i): rows[i] for i in selected ^ accepted})
    assert with_counts == accepted, (condition, {str(i): rows[i]
                                                 for i in with_counts ^ accepted})
