"""What the field engine costs: creating leads on a 15-field list vs a schema-less one.

    .venv/bin/python bench/fields_engine.py [--leads 10000] [--concurrency 4]
                                            [--filter-leads 1000000] [--queries 200]

Both runs create the same leads through ``leadbase.leads.service.create_lead`` (the
path every API, profile and import takes; no HTTP), each lead in its own transaction,
``--concurrency`` at a time. The 15-field schema has masks, checksums (DNI, CUIT, CBU),
regex, ranges, dates, a code list, a required field, a primary field (DNI), a calculated
field and an indexed field (Edad: its expression index is built, as the worker job would,
before any lead is created, so every write maintains it). Prints leads/s for each list,
the overhead, and the cores used by this process, PostgreSQL and everything else
(``other``: a busy machine shows there; compare quiet runs only).

Then ``--filter-leads`` (1,000,000) leads with those fields are loaded with SQL into the
15-field list and filters on custom fields are timed through the leads service
(``fields.<code>=`` equality on the GIN index, ranges, code-list values, sorting by a
custom field, both directions): p50/p99 per query shape (target: p99 < 100 ms). The
database: the server of ``LEADBASE_DATABASE_URL``, else the embedded server in
``bench/data``; the benchmark works in its own database ``leadbase_bench_fields``,
recreated at every run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.database import postmaster_pid  # noqa: E402
from bench.report import CpuMeter  # noqa: E402
from leadbase.auth.context import Context, Principal  # noqa: E402
from leadbase.config import Settings  # noqa: E402
from leadbase.db import embedded, migrate  # noqa: E402
from leadbase.db.base import table_of  # noqa: E402
from leadbase.db.session import Database  # noqa: E402
from leadbase.db.urls import with_database  # noqa: E402
from leadbase.fields import indexes, validation_rules  # noqa: E402
from leadbase.fields import service as fields_service  # noqa: E402
from leadbase.fields.checks import is_valid  # noqa: E402
from leadbase.fields.schemas import FieldCreate, RuleCreate  # noqa: E402
from leadbase.kit import crud  # noqa: E402
from leadbase.leads import service as leads_service  # noqa: E402
from leadbase.leads.schemas import LeadCreate  # noqa: E402
from leadbase.lists import repository as lists_repository  # noqa: E402
from leadbase.models import CodeList, CodeListItem  # noqa: E402
from leadbase.tenants import service as tenants_service  # noqa: E402

DATABASE = "leadbase_bench_fields"


def server_url() -> str:
    url = os.environ.get("LEADBASE_DATABASE_URL")
    if url:
        return url.replace("postgresql+psycopg://", "postgresql://")
    return embedded.start(ROOT / "bench" / "data")


def fresh_database(server: str) -> str:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = with_database(server, DATABASE)
    migrate.upgrade(url)
    return url


def cuit(n: int) -> str:
    """The first valid CUIT at or after ``20-<n>``: some bodies have no check digit."""
    while True:
        for digit in "0123456789":
            if is_valid("CUIT_ARG", f"20{n}{digit}"):
                return f"20{n}{digit}"
        n += 1


def cbu(rng: random.Random) -> str:
    value = (with_check_digit_cbu(str(rng.randint(1000000, 9999999)))
             + with_check_digit_cbu(str(rng.randint(10**12, 10**13 - 1)), first=False))
    assert is_valid("CBU_ARG", value)
    return value


def with_check_digit_cbu(body: str, first: bool = True) -> str:
    weights = [7, 1, 3, 9, 7, 1, 3] if first else [3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + str((10 - total % 10) % 10)


def values(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "Patente": "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=3))
        + f"-{rng.randint(100, 999)}",
        "DNI": str(10_000_000 + i),
        "CUIT": cuit(10_000_000 + i * 3),
        "CBU": cbu(rng),
        "Correo": f"cliente{i}@example.com",
        "Telefono": f"+54 9 11 {rng.randint(2000, 8999)}-{rng.randint(1000, 9999)}",
        "Edad": rng.randint(18, 90),
        "Precio": f"{rng.randint(1000, 90000)}.{rng.randint(0, 99):02d}",
        "Cantidad": rng.randint(1, 5),
        "Alta": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "Activo": rng.choice(["si", "no"]),
        "Codigo": f"{rng.choice('ABC')}{rng.randint(1000, 9999)}",
        "Web": f"https://example.com/{i}",
        "Plan": rng.choice(["basic", "plus", "pro"]),
    }


async def build_schema(db: Database, ctx: Context, list_id: uuid.UUID) -> None:
    async with db.transaction(ctx.tenant_id) as session:
        code_list = await crud.insert_row(session, table_of(CodeList), tenant_id=ctx.tenant_id,
                                          values={"name": "Planes"})
        for pos, code in enumerate(["basic", "plus", "pro"]):
            await crud.insert_row(session, table_of(CodeListItem), tenant_id=ctx.tenant_id,
                                  values={"code_list_id": code_list["id"], "code": code,
                                          "label": code.title(), "position": pos})
        specs: list[dict[str, Any]] = [
            {"name": "Patente", "type": "STRING", "input_mask": "AAA-###"},
            {"name": "DNI", "template_code": "DNI_ARG", "is_primary": True},
            {"name": "CUIT", "template_code": "CUIT_ARG"},
            {"name": "CBU", "template_code": "CBU_ARG"},
            {"name": "Correo", "template_code": "EMAIL", "required": True},
            {"name": "Telefono", "type": "PHONE"},
            {"name": "Edad", "template_code": "AGE", "indexed": True},
            {"name": "Precio", "type": "DECIMAL"},
            {"name": "Cantidad", "type": "INT"},
            {"name": "Total", "type": "CALCULATED", "calculation_expression": "Cantidad * Precio"},
            {"name": "Alta", "type": "DATE"},
            {"name": "Activo", "type": "BOOL"},
            {"name": "Codigo", "type": "STRING"},
            {"name": "Web", "type": "URL"},
            {"name": "Plan", "type": "SELECTOR", "subtype": "SELECTOR_SINGLE",
             "code_list_id": str(code_list["id"])},
        ]
        for spec in specs:
            field = await fields_service.create_field(
                session, ctx=ctx, body=FieldCreate.model_validate({**spec, "list_id": list_id}))
            if spec["name"] == "Codigo":
                await validation_rules.create_rule(session, ctx=ctx, body=RuleCreate(
                    field_id=field["id"], type="REGEX", value=r"^[A-C][0-9]{4}$"))
            if spec["name"] == "Alta":
                for kind, value in (("MIN_DATE", "2000-01-01"), ("MAX_DATE", "today")):
                    await validation_rules.create_rule(session, ctx=ctx, body=RuleCreate(
                        field_id=field["id"], type=kind, value=value))  # type: ignore[arg-type]


async def create_all(db: Database, ctx: Context, bodies: list[LeadCreate],
                     concurrency: int) -> tuple[float, list[float]]:
    queue = list(enumerate(bodies))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            _, body = queue.pop()
            started = time.perf_counter()
            async with db.transaction(ctx.tenant_id) as session:
                await leads_service.create_lead(session, ctx=ctx, body=body,
                                                on_duplicate="allow")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return time.perf_counter() - started, latencies


def cpu_line(before: tuple[Any, ...], after: tuple[Any, ...]) -> str:
    """Cores used by this process, PostgreSQL and everything else meanwhile."""
    wall = after[-1] - before[-1]
    own = (after[0] - before[0]) / wall
    pg = None if before[2] is None or after[2] is None else (after[2] - before[2]) / wall
    busy = None if before[3] is None or after[3] is None else (after[3] - before[3]) / wall
    other = None if pg is None or busy is None else max(0.0, busy - own - pg)
    return "  ".join(f"{name} {'?' if c is None else f'{c:.2f}'}"
                     for name, c in (("bench", own), ("pg", pg), ("other", other)))


async def run(args: argparse.Namespace) -> None:
    url = fresh_database(server_url())
    if args.gin_fastupdate is not None:  # what-if: the custom-field GIN index's pending list
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"ALTER INDEX ix_leads_tenant_fields SET (fastupdate = "
                         f"{args.gin_fastupdate})")
        print(f"what-if: ix_leads_tenant_fields fastupdate={args.gin_fastupdate}")
    settings = Settings(database_url=url, db_pool_size=args.concurrency + 2)
    db = Database(url, settings)
    async with db.transaction(None, system=True) as session:
        tenant, owner = await tenants_service.create_with_owner(
            session, name="Fields Bench", owner_email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            owner_name="Bench", owner_password="Secret123", default_region="AR")
    ctx = Context(tenant_id=tenant["id"], principal=Principal(role="owner",
                                                              tenant_id=tenant["id"],
                                                              user_id=owner["id"]))
    async with db.transaction(ctx.tenant_id) as session:
        plain = await lists_repository.create(session, tenant_id=ctx.tenant_id, name="Plain")
        shaped = await lists_repository.create(session, tenant_id=ctx.tenant_id, name="Shaped")
    await build_schema(db, ctx, shaped)
    built = await indexes.sync_list(db, tenant_id=ctx.tenant_id, list_id=shaped)
    print(f"field indexes (what the sync_field_indexes job builds): {', '.join(built)}")
    meter = CpuMeter(None, postmaster_pid(url))
    rng = random.Random(7)
    print(f"machine: {os.cpu_count()} CPUs; {args.leads} leads per list; "
          f"concurrency {args.concurrency}; each lead in its own transaction")
    generated = [values(rng, i) for i in range(args.leads)]
    results = {}
    for label, list_id, with_fields in (("schema-less list", plain, False),
                                        ("15-field list", shaped, True)):
        bodies = [LeadCreate.model_validate({
            "first_name": f"Cliente {i}", "email": v["Correo"], "list_id": list_id,
            **({"fields": v} if with_fields else {"metadata": v})})
            for i, v in enumerate(generated)]
        warm = bodies[:50]
        await create_all(db, ctx, [b.model_copy(update={"email": None}) for b in warm], 2)
        before = meter.snapshot()
        elapsed, latencies = await create_all(db, ctx, bodies[50:], args.concurrency)
        rate = (len(bodies) - 50) / elapsed
        latencies.sort()
        results[label] = rate
        cpu = cpu_line(before, meter.snapshot())
        print(f"{label:18} {rate:8.0f} leads/s   p50 {statistics.median(latencies) * 1000:6.1f} ms"
              f"   p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:6.1f} ms"
              f"   cores: {cpu}")
    overhead = (results["schema-less list"] / results["15-field list"] - 1) * 100
    print(f"validation overhead: {overhead:.1f}% (target < 30%)")
    if args.filter_leads:
        await filters(db, url, ctx, shaped, args)
    await db.dispose()


LOAD_SQL = """
INSERT INTO leads (id, tenant_id, list_id, first_name, email, created_at, updated_at, fields)
SELECT gen_random_uuid(), %(tenant)s, %(list)s, 'Cliente ' || g, 'c' || g || '@example.com',
       now() - (g || ' seconds')::interval, now(),
       jsonb_build_object(
           'Patente', chr(65 + g %% 26) || chr(65 + (g / 26) %% 26) || chr(65 + (g / 676) %% 26)
                      || '-' || lpad((g %% 1000)::text, 3, '0'),
           'DNI', (20000000 + g)::text,
           'Correo', 'c' || g || '@example.com',
           'Edad', 18 + g %% 73,
           'Precio', ((g %% 90000) + 1000)::text || '.50',
           'Cantidad', 1 + g %% 5,
           'Total', (1 + g %% 5) * ((g %% 90000) + 1000.5),
           'Alta', to_char(date '2024-01-01' + (g %% 700), 'YYYY-MM-DD'),
           'Activo', g %% 2 = 0,
           'Codigo', chr(65 + g %% 3) || lpad((g %% 10000)::text, 4, '0'),
           'Plan', (ARRAY['basic', 'plus', 'pro'])[1 + g %% 3])
FROM generate_series(%(start)s::int, %(stop)s::int) AS g
"""


async def filters(db: Database, url: str, ctx: Context, list_id: uuid.UUID,
                  args: argparse.Namespace) -> None:
    from leadbase.kit.pagination import PageParams
    from leadbase.leads.filters import LeadFilter

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:  # the owner: COPY-free bulk SQL
        step = 100_000
        for start in range(1, args.filter_leads + 1, step):
            conn.execute(LOAD_SQL, {"tenant": ctx.tenant_id, "list": list_id, "start": start,
                                    "stop": min(start + step - 1, args.filter_leads)})
        conn.execute("VACUUM (ANALYZE) leads")
    print(f"\nloaded {args.filter_leads:,} leads with custom fields in "
          f"{time.perf_counter() - started:.0f} s")
    rng = random.Random(3)
    shapes = {
        "fields.DNI=<one value>": lambda: [
            ("DNI", "eq", str(20000000 + rng.randint(1, args.filter_leads)))],
        "fields.Patente=<value>": lambda: [("Patente", "eq", f"ABC-{rng.randint(0, 999):03d}")],
        "fields.Plan=pro (1/3)": lambda: [("Plan", "eq", "pro")],
        "fields.Edad_gte=85 (~8%)": lambda: [("Edad", "gte", "85")],
        "fields.Alta range (1 month)": lambda: [("Alta", "gte", "2025-03-01"),
                                                 ("Alta", "lte", "2025-03-31")],
        "Plan=basic & Edad_lte=20": lambda: [("Plan", "eq", "basic"), ("Edad", "lte", "20")],
    }
    sorts = {"sort=-created_at": None, "sort=fields.Edad": "fields.Edad",
             "sort=-fields.Edad": "-fields.Edad"}
    print(f"{'query':34} {'sort':18} {'p50 ms':>8} {'p99 ms':>8}")
    for label, make in shapes.items():
        for sort_label, sort in sorts.items():
            times = []
            for _ in range(args.queries):
                f = LeadFilter.model_validate({
                    "list_id": str(list_id),
                    **{f"fields.{code}" + ("" if op == "eq" else f"_{op}"): value
                       for code, op, value in make()}})
                t0 = time.perf_counter()
                async with db.transaction(ctx.tenant_id) as session:
                    await leads_service.list_leads(
                        session, ctx=ctx, f=f, sort=sort,
                        params=PageParams(1, 25, None, "none"), count_cap=10_000)
                times.append(time.perf_counter() - t0)
            times.sort()
            print(f"{label:34} {sort_label:18} {statistics.median(times) * 1000:8.1f} "
                  f"{times[int(len(times) * 0.99) - 1] * 1000:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--gin-fastupdate", choices=["on", "off"], default=None,
                        help="what-if: override fastupdate of the custom-field GIN index")
    parser.add_argument("--filter-leads", type=int, default=1_000_000,
                        help="leads loaded for the filter timings (0 to skip)")
    parser.add_argument("--queries", type=int, default=200, help="per query shape")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
