"""The scenarios of the leads API benchmark (``bench/leads_api.py``): creates, reads by id,
list pages with searches, filters and deep cursors, each with its target and the same
request as a call to ``leadbase.leads.service``."""

from __future__ import annotations

import argparse
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from bench.client import Request, Scenario
from bench.loader import (
    COMPANY_BASES,
    COMPANY_SUFFIXES,
    CREATED_SOURCE,
    FIRST_NAMES,
    FREEMAIL,
    JOB_TITLES,
    LAST_NAMES,
    TAGS,
    to_ascii,
)
from leadbase.config import Settings
from leadbase.kit.pagination import configure_cursors, encode_cursor

CURSOR_SORT_KEY = "-created_at,-id"


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


def build_scenarios(args: argparse.Namespace, sample: list[tuple[Any, ...]],
                    run_id: str) -> list[Scenario]:
    from leadbase.kit.pagination import PageParams
    from leadbase.leads import service
    from leadbase.leads.filters import LeadFilter

    per_page = args.per_page
    ids = [r[0] for r in sample]
    # Cursors are signed with a key from the server's secret (kept in its data dir).
    configure_cursors(Settings(data_dir=Path(args.data_dir) / "server").jwt_secret())
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
        fa = "".join(ch for ch in to_ascii(first).lower() if ch.isalpha())
        la = "".join(ch for ch in to_ascii(last).lower() if ch.isalpha())
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

    async def make_filter(qp: dict[str, str]) -> Any:
        """The filter the endpoint builds from the same query parameters."""
        return LeadFilter.model_validate(qp)

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
