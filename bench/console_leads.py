"""The web console's leads page at 1,000,000 leads: server time per request, in-process.

The application is called through httpx's ASGI transport (no socket), signed in through
the console's own sign-in form, one request after another; each console page is timed
beside the canonical API request that reads the same leads (``GET /api/v1/leads`` with
the same filters: the baseline, measured in the same run), and the ratio of the p95s is
printed. The target (issue 16): the leads page renders in <= 300 ms server time p95.

It needs a bench database loaded by ``bench/leads_api.py`` (workspace A's owner signs
in), for instance:

    export LEADBASE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/leads_api.py --database leadbase_bench_console \\
        --leads 1000000 --other 10000 --scenarios "get by id" --requests 50   # loads once
    .venv/bin/python bench/console_leads.py --database leadbase_bench_console

It prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server import PASSWORD, WORKSPACES

PARTIAL = {"HX-Request": "true", "HX-Target": "leads-results"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(client: httpx.AsyncClient, url: str, n: int, warmup: int,
                headers: dict[str, str] | None = None) -> list[float]:
    for _ in range(warmup):
        resp = await client.get(url, headers=headers)
        if resp.status_code != 200:
            raise SystemExit(f"{url}: {resp.status_code} {resp.text[:300]}")
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = await client.get(url, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    return out


async def run(args: argparse.Namespace) -> None:
    os.environ["LEADBASE_RATE_LIMIT"] = "100000000/minute"
    os.environ["LEADBASE_RUN_WORKER"] = "false"
    os.environ.pop("LEADBASE_REDIS_URL", None)
    from leadbase.app import create_app
    from leadbase.config import Settings
    from leadbase.db.session import Database
    from leadbase.db.urls import with_database

    url = with_database(args.database_url, args.database)
    settings = Settings(database_url=url, data_dir=Path(args.data_dir),
                        login_rate_limit_account="1000/minute")
    db = Database(url, settings)
    app = create_app(settings, database=db, run_worker=False)
    email, _ = WORKSPACES["a"]
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://bench") as web, \
            httpx.AsyncClient(transport=transport, base_url="http://bench") as api:
        page = await web.get("/app/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token
        resp = await web.post("/app/login", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": token.group(1)})
        if resp.status_code != 303:
            raise SystemExit(f"console sign-in failed: {resp.status_code}")
        login = await api.post("/api/v1/auth/login", json={"email": email,
                                                           "password": PASSWORD})
        api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        first = (await api.get("/api/v1/leads?per_page=25")).json()
        total = first["total"]
        lead_id, cursor = first["data"][0]["id"], first["next_cursor"]
        about = " (estimate)" if first.get("total_is_estimate") else ""
        print(f"workspace A: {total:,} leads{about}; {args.requests} requests per "
              f"scenario after {args.warmup} warm-up; times in ms (in-process, httpx "
              "ASGI client included)")
        scenarios: list[tuple[str, str, dict[str, str] | None, str]] = [
            ("leads page (full)", "/app/leads", None, "/api/v1/leads?per_page=25"),
            ("leads table (htmx)", "/app/leads", PARTIAL, "/api/v1/leads?per_page=25"),
            ("q=garcia", "/app/leads?q=garcia", PARTIAL, "/api/v1/leads?per_page=25&q=garcia"),
            ("tags+status", "/app/leads?tags=newsletter&status=new", PARTIAL,
             "/api/v1/leads?per_page=25&tags=newsletter&status=new"),
            ("sort by score", "/app/leads?sort=-score", PARTIAL,
             "/api/v1/leads?per_page=25&sort=-score"),
            ("next page (cursor)", f"/app/leads?cursor={cursor}", PARTIAL,
             f"/api/v1/leads?per_page=25&cursor={cursor}"),
            ("a lead's page", f"/app/leads/{lead_id}", None, f"/api/v1/leads/{lead_id}"),
        ]
        chosen = {s.strip() for s in args.scenarios.split(",")} if args.scenarios else None
        print(f"{'scenario':22} {'p50':>7} {'p95':>7} {'p99':>7} | {'API p50':>7} "
              f"{'API p95':>7} | p95 ratio | target p95 <= 300")
        for name, page_url, headers, api_url in scenarios:
            if chosen and name not in chosen:
                continue
            ours = await timed(web, page_url, args.requests, args.warmup, headers)
            base = await timed(api, api_url, args.requests, args.warmup)
            p95 = pct(ours, .95)
            print(f"{name:22} {statistics.median(ours):7.1f} {p95:7.1f} {pct(ours, .99):7.1f} | "
                  f"{statistics.median(base):7.1f} {pct(base, .95):7.1f} | "
                  f"{p95 / max(pct(base, .95), 1e-9):9.2f} | {'ok' if p95 <= 300 else 'MISSED'}")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="leadbase_bench_console")
    parser.add_argument("--database-url", default=os.environ.get("LEADBASE_DATABASE_URL"))
    parser.add_argument("--data-dir", default=str(Path(__file__).parent / "data" / "console"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--scenarios", default="")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("set LEADBASE_DATABASE_URL (or --database-url) to the bench server")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
