"""Seeding a bench database with leads: deterministic, CRM-shaped rows generated in SQL
(``INSERT ... SELECT`` over ``generate_series``), in chunks on one session per CPU, the
secondary indexes of ``leads`` dropped during the insert and rebuilt after; and the
checks that a loaded database still holds what it was loaded with."""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.report import fmt_int, out

CREATED_SOURCE = "bench-api"  # leads created by the create scenario (removed after a run)


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


def to_ascii(value: str) -> str:
    """``value`` without its accents (as the generator's emails are)."""
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


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
# A loaded workspace


def default_list(url: str, tenant_id: str) -> str:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
        row = conn.execute("SELECT id FROM lead_lists WHERE tenant_id = %s AND is_default "
                           "AND deleted_at IS NULL", (tenant_id,)).fetchone()
    if row is None:
        raise RuntimeError(f"workspace {tenant_id} has no default list")
    return str(row[0])


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


def vacuum_leads(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) leads")


def open_database(args: Any, admin_url: str, data_format: int | str,
                  tidy: Callable[[str], None] | None = None) -> tuple[str, dict[str, Any] | None]:
    """The bench database ``args.database`` migrated to head, and its marker when its data
    can be reused (same format, ``args.leads`` and migration head, workspace ``a`` still
    holding ``args.leads`` live leads — after ``tidy(url)`` when given), else recreated
    empty (marker None). ``args.reload`` always recreates."""
    from bench.database import read_marker, recreate_database
    from leadbase.db import migrate
    from leadbase.db.urls import with_database

    url = with_database(admin_url, args.database)
    marker = None if args.reload else read_marker(admin_url, args.database)
    reuse = bool(marker and marker.get("format") == data_format
                 and marker.get("leads") == args.leads
                 and marker.get("head") == migrate.head_revision())
    if reuse:
        assert marker is not None
        wanted = {"a": args.leads}
        if live_counts(url, {"a": marker["tenant_a"]}) != wanted and tidy is not None:
            tidy(url)
        if live_counts(url, {"a": marker["tenant_a"]}) != wanted:
            out(f"{args.database}: counts do not match; reloading")
            reuse = False
    if not reuse:
        url = recreate_database(admin_url, args.database)
    migrate.upgrade(url)
    return url, marker if reuse else None
