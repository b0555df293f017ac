#!/usr/bin/env python
"""The raw twin of the leads API: the benchmark's baseline (``bench/leads_api.py``).

A minimal Starlette + psycopg server answering the requests of the benchmark's scenarios
(create, get by id, list pages with ``q=``, tags+status and cursors) as a hand-written
route would: the same authentication (the JWT verified with PyJWT, verified tokens kept
as Leadbase keeps them, and the session/membership check in the transaction's first
round trip), the same row-level-security scope (``SET LOCAL`` role, tenant and its
signature, as ``leadbase.db.session`` sets them, signed in as the database's login
role), the same SQL statements and round trips, and the same JSON (orjson), with no
framework beyond Starlette's routing and no ORM. A ``q=`` search walks the bounded
window of the sort order first and gathers the matches through the trigram index only
when the window holds less than a page (``leadbase.leads.listing``). Create normalises
the email and phone with ``leadbase.leads.rules`` (pure functions: the same result) and
writes the audit entry and the outbox event as Leadbase does.

    python bench/raw_twin.py --database-url URL --data-dir DIR --port 8001 [--workers N]

It is not a product: no input validation beyond what the scenarios need, only the
default sort, only the scenarios' filters.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
import orjson  # noqa: E402
import psycopg  # noqa: E402
from psycopg.rows import dict_row, tuple_row  # noqa: E402
from psycopg.types.json import Jsonb, set_json_loads  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from leadbase.kit.ids import new_id  # noqa: E402

ENV_URL, ENV_DATA, ENV_POOL = "RAW_TWIN_DATABASE_URL", "RAW_TWIN_DATA_DIR", "RAW_TWIN_POOL"
APP_ROLE = "leadbase_app"
COUNT_CAP = int(os.environ.get("LEADBASE_COUNT_EXACT_LIMIT", "1000"))
SEARCH_WINDOW = 10_000
SORT_KEY = "-created_at,-id"


def _columns() -> list[str]:
    from leadbase.leads.repository import COLUMNS

    return [c.name for c in COLUMNS]


COLS = _columns()
SELECT = ", ".join(COLS)


def out(alias: str) -> str:
    """The columns answered, with the lead's stage code (as Leadbase's listing)."""
    return (f"{SELECT}, (SELECT s.code FROM pipeline_stages s "  # RLS: the tenant's
            f"WHERE s.id = {alias}.stage_id) AS stage")


SCOPE_SQL = ("SELECT set_config('role', %s, true), set_config('app.tenant_id', %s, true), "
             "set_config('app.scope', %s, true), set_config('app.scope_sig', %s, true)")
MEMBER_SQL = (
    "SELECT t.is_active, u.role, u.is_active, "
    "(%s::uuid IS NULL OR EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.tenant_id = t.id "
    "AND r.family_id = %s::uuid AND r.revoked_at IS NULL)) FROM tenants t "
    "LEFT JOIN users u ON u.tenant_id = t.id AND u.id = %s WHERE t.id = %s")
GET_SQL = (f"SELECT {out('leads')} FROM leads WHERE id = %s AND tenant_id = %s "
           "AND deleted_at IS NULL")
LIST_VERSION_SQL = ("SELECT schema_version FROM lead_lists "
                    "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL")
LOCK_SQL = ("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
            "FROM (SELECT k FROM unnest(%s::text[]) AS k ORDER BY k) AS keys")
DUPLICATE_SQL = (
    "SELECT id, matched FROM ("
    "(SELECT id, created_at, 'email' AS matched, 0 AS rank FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND email = %(email)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1) UNION ALL "
    "(SELECT id, created_at, 'phone', 1 FROM leads WHERE tenant_id = %(t)s "
    "AND deleted_at IS NULL AND phone = %(phone)s AND id <> %(exclude)s "
    "ORDER BY created_at LIMIT 1)) AS found ORDER BY rank LIMIT 1")
AUDIT_SQL = ("INSERT INTO audit_entries (id, tenant_id, actor_user_id, actor_api_key_id, "
             "action, entity_type, entity_id, changes, request_id) "
             "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)")
EVENT_SQL = ("INSERT INTO events (id, tenant_id, type, entity_type, entity_id, payload) "
             "VALUES (%s, %s, %s, %s, %s, %s)")
DEFAULTS_SQL = ("SELECT t.default_region, t.timezone, l.id FROM tenants t JOIN lead_lists l "
                "ON l.tenant_id = t.id AND l.is_default AND l.deleted_at IS NULL "
                "WHERE t.id = %s")
CREATE_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title",
                 "source", "notes", "fields", "metadata", "owner_id", "list_id",
                 "do_not_contact", "consent", "status", "tags")
NO_ID = uuid.UUID(int=0)


class Failure(Exception):
    def __init__(self, status: int, code: str) -> None:
        self.status, self.code = status, code


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class Twin:
    def __init__(self, url: str, data_dir: Path, pool_size: int) -> None:
        from leadbase.config import Settings
        from leadbase.db import roles

        settings = Settings(data_dir=data_dir)
        self.secret = settings.jwt_secret()
        self.audience, self.issuer = settings.jwt_audience, settings.jwt_issuer
        self.cursor_key = hmac.new(self.secret.encode(), b"leadbase cursor",
                                   hashlib.sha256).digest()
        access = roles.prepare(url)
        self.scope_key = access.scope_key
        self.verified: dict[str, tuple[tuple[uuid.UUID, uuid.UUID, uuid.UUID], float]] = {}
        self.defaults: dict[uuid.UUID, tuple[str, str | None, uuid.UUID]] = {}
        self.pool = AsyncConnectionPool(access.login_url, min_size=pool_size,
                                        max_size=pool_size, open=False,
                                        configure=self._configure)

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        set_json_loads(orjson.loads, conn)

    # Authentication and scope ---------------------------------------------------------

    def claims(self, request: Request) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Failure(401, "AUTH_REQUIRED")
        hit = self.verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        try:
            payload = jwt.decode(token, self.secret, algorithms=["HS256"],
                                 audience=self.audience, issuer=self.issuer,
                                 options={"require": ["exp", "iat", "sub", "aud", "iss", "sid"]})
        except jwt.PyJWTError:
            raise Failure(401, "INVALID_TOKEN") from None
        if payload.get("typ") != "access" or not payload.get("tid"):
            raise Failure(401, "INVALID_TOKEN")
        claims = (uuid.UUID(payload["sub"]), uuid.UUID(payload["tid"]), uuid.UUID(payload["sid"]))
        self.verified[token] = (claims, float(payload["exp"]))
        return claims

    async def begin(self, conn: psycopg.AsyncConnection[Any], user: uuid.UUID,
                    tenant: uuid.UUID, session: uuid.UUID) -> str:
        """BEGIN, the signed scope and the membership/session check in one round trip;
        the member's role."""
        t = str(tenant)
        sig = hmac.new(self.scope_key, f"{t}|".encode(), hashlib.sha256).hexdigest()
        async with conn.pipeline():
            await conn.execute(SCOPE_SQL.encode(), (APP_ROLE, t, "", sig))
            cur = await conn.execute(MEMBER_SQL.encode(), (session, session, user, tenant))
        row = await cur.fetchone()
        if row is None:
            raise Failure(404, "WORKSPACE_NOT_FOUND")
        if row[1] is None or not row[2]:
            raise Failure(401, "USER_INACTIVE")
        if not row[3]:
            raise Failure(401, "SESSION_ENDED")
        if not row[0]:
            raise Failure(403, "WORKSPACE_SUSPENDED")
        if row[1] in ("agent", "viewer"):
            raise Failure(403, "NOT_IN_THE_TWIN")  # the bench signs in as the owner
        return str(row[1])

    # Rows and cursors -----------------------------------------------------------------

    @staticmethod
    def lead(row: dict[str, Any]) -> dict[str, Any]:
        name = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
        row["full_name"] = name or None
        return row

    def encode_cursor(self, values: list[Any]) -> str:
        tagged = [{"d": values[0].isoformat()}, {"u": str(values[1])}]
        payload = _b64(orjson.dumps({"k": SORT_KEY, "v": tagged}))
        digest = hmac.new(self.cursor_key, payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(digest[:16])}"

    def decode_cursor(self, cursor: str) -> tuple[Any, uuid.UUID]:
        from datetime import datetime

        payload, _, signature = cursor.partition(".")
        digest = hmac.new(self.cursor_key, payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(signature.encode(), _b64(digest[:16]).encode()):
            raise Failure(422, "INVALID_CURSOR")
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if data["k"] != SORT_KEY:
            raise Failure(422, "INVALID_CURSOR")
        return datetime.fromisoformat(data["v"][0]["d"]), uuid.UUID(data["v"][1]["u"])

    # Routes ---------------------------------------------------------------------------

    async def get(self, request: Request) -> Response:
        user, tenant, session = self.claims(request)
        lead_id = uuid.UUID(request.path_params["lead_id"])
        async with self.pool.connection() as conn:
            await self.begin(conn, user, tenant, session)
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(GET_SQL.encode(), (lead_id, tenant))
            row = await cur.fetchone()
        if row is None:
            raise Failure(404, "LEAD_NOT_FOUND")
        return Response(orjson.dumps(self.lead(row), option=orjson.OPT_UTC_Z),
                        media_type="application/json",
                        headers={"etag": f'"{row["version"]}"'})

    async def list(self, request: Request) -> Response:
        user, tenant, session = self.claims(request)
        qp = request.query_params
        per_page = int(qp.get("per_page", 25))
        if not 1 <= per_page <= 200 or qp.get("sort", "-created_at") != "-created_at":
            raise Failure(422, "NOT_IN_THE_TWIN")
        where, params = ["tenant_id = %s", "deleted_at IS NULL"], [tenant]
        statuses = [s for s in qp.get("status", "").split(",") if s]
        if statuses:
            where.append(f"status IN ({', '.join(['%s'] * len(statuses))})"
                         if len(statuses) > 1 else "status = %s")
            params += statuses
        tags = [t for t in qp.get("tags", "").split(",") if t]
        if tags:
            where.append("tags && CAST(%s AS TEXT[])")
            params.append(tags)
        q = (qp.get("q") or "").strip()
        cursor = qp.get("cursor")
        after = self.decode_cursor(cursor) if cursor else None
        limit = per_page + 1
        async with self.pool.connection() as conn:
            await self.begin(conn, user, tenant, session)
            cur = conn.cursor(row_factory=dict_row)
            order = " ORDER BY created_at DESC, id DESC LIMIT %s"
            keyset = ["(created_at, id) < (%s, %s)"] if after else []
            kparams = list(after) if after else []
            if q:
                pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
                    + "%"
                like = "search_text LIKE lower(lb_unaccent(%s))"
                window = (f"SELECT {out('recent')} FROM (SELECT {SELECT}, search_text FROM leads "
                          f"WHERE {' AND '.join(where + keyset)} ORDER BY created_at DESC, "
                          f"id DESC LIMIT {SEARCH_WINDOW}) AS recent WHERE recent.{like}"
                          + order)
                await cur.execute(window.encode(), (*params, *kparams, pattern, limit))
                rows = await cur.fetchall()
                where.append(like)
                params.append(pattern)
                if len(rows) < limit:
                    matches = (f"WITH matches AS MATERIALIZED (SELECT {SELECT} FROM leads "
                               f"WHERE {' AND '.join(where + keyset)}) SELECT {out('matches')} "
                               f"FROM matches" + order)
                    await cur.execute(matches.encode(), (*params, *kparams, limit))
                    rows = await cur.fetchall()
            else:
                sql = (f"SELECT {out('leads')} FROM leads WHERE {' AND '.join(where + keyset)}"
                       + order)
                await cur.execute(sql.encode(), (*params, *kparams, limit))
                rows = await cur.fetchall()
            next_cursor = None
            if len(rows) > per_page:
                rows = rows[:per_page]
                next_cursor = self.encode_cursor([rows[-1]["created_at"], rows[-1]["id"]])
            total: int | None = None
            estimated = False
            if after is None:
                conds = " AND ".join(where)
                if next_cursor is None:
                    total = len(rows)
                else:
                    plain = conn.cursor(row_factory=tuple_row)
                    await plain.execute(
                        f"EXPLAIN (FORMAT JSON) SELECT id FROM leads WHERE {conds}".encode(),
                        params)
                    explained = await plain.fetchone()
                    assert explained is not None
                    plan = explained[0]
                    plan = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
                    guess = int(plan[0]["Plan"]["Plan Rows"])
                    if guess > COUNT_CAP:
                        total, estimated = guess, True
                    else:
                        await plain.execute(
                            f"SELECT count(*) FROM (SELECT id FROM leads WHERE {conds} "
                            f"LIMIT %s) AS capped".encode(), (*params, COUNT_CAP + 1))
                        counted = await plain.fetchone()
                        assert counted is not None
                        total = int(counted[0])
                        if total > COUNT_CAP:
                            total, estimated = max(guess, COUNT_CAP + 1), True
        body = {"data": [self.lead(r) for r in rows], "total": total,
                "total_is_estimate": estimated, "page": 1 if cursor is None else None,
                "per_page": per_page, "next_cursor": next_cursor}
        return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z),
                        media_type="application/json")

    async def create(self, request: Request) -> Response:
        from leadbase.leads import rules

        user, tenant, session = self.claims(request)
        body = orjson.loads(await request.body())
        values = {k: body.get(k) for k in CREATE_FIELDS}
        values["status"] = values["status"] or "new"
        values["tags"] = values["tags"] or []
        async with self.pool.connection() as conn:
            await self.begin(conn, user, tenant, session)
            defaults = self.defaults.get(tenant)
            if defaults is None:
                cur = await conn.execute(DEFAULTS_SQL, (tenant,))
                found = await cur.fetchone()
                assert found is not None
                defaults = self.defaults[tenant] = (found[0], found[1], found[2])
            region, timezone, default_list = defaults
            rules.normalise(values, region=region, timezone=timezone)
            values["list_id"] = values["list_id"] or default_list
            cur = await conn.execute(LIST_VERSION_SQL.encode(), (tenant, values["list_id"]))
            if await cur.fetchone() is None:
                raise Failure(422, "LIST_NOT_FOUND")
            values["fields"] = values["fields"] or {}
            email, phone = values.get("email"), values.get("phone")
            keys = ([f"email:{email}"] if email else []) + ([f"phone:{phone}"] if phone else [])
            async with conn.pipeline():
                await conn.execute(LOCK_SQL.encode(), ([f"lead:{tenant}:{k}" for k in keys],))
                dup = await conn.execute(DUPLICATE_SQL.encode(), {
                    "t": tenant, "email": email, "phone": phone, "exclude": NO_ID})
            if await dup.fetchone() is not None:
                raise Failure(409, "DUPLICATE_LEAD")
            values["metadata"] = values["metadata"] or {}
            for key in ("do_not_contact", "consent"):
                values[key] = bool(values[key])
            columns = ["id", "tenant_id", *values]
            lead_id = new_id()
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute((f"INSERT INTO leads ({', '.join(columns)}) VALUES "
                               f"({', '.join(['%s'] * len(columns))}) RETURNING {out('leads')}"
                               ).encode(),
                              (lead_id, tenant, *(Jsonb(v, dumps=_dumps)
                                                  if k in ("fields", "metadata") else v
                                                  for k, v in values.items())))
            row = await cur.fetchone()
            assert row is not None
            lead = self.lead(row)
            changed = sorted(k for k, v in values.items() if v not in (None, {}, [], False))
            payload = orjson.loads(orjson.dumps(lead, option=orjson.OPT_UTC_Z))
            async with conn.pipeline():
                await conn.execute(AUDIT_SQL.encode(), (
                    new_id(), tenant, user, None, "lead.created", "lead", lead["id"],
                    Jsonb({"fields": changed}, dumps=_dumps), request.headers.get(
                        "x-request-id")))
                await conn.execute(EVENT_SQL.encode(), (
                    new_id(), tenant, "lead.created", "lead", lead["id"],
                    Jsonb(payload, dumps=_dumps)))
        return Response(orjson.dumps(lead, option=orjson.OPT_UTC_Z), status_code=201,
                        media_type="application/json",
                        headers={"etag": f'"{lead["version"]}"',
                                 "location": f"/api/v1/leads/{lead['id']}"})


def create_app() -> Starlette:
    """The twin's application (a uvicorn factory: every process makes its own pool)."""
    twin = Twin(os.environ[ENV_URL], Path(os.environ[ENV_DATA]), int(os.environ[ENV_POOL]))

    def route(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except Failure as exc:
                return Response(orjson.dumps({"status": exc.status, "code": exc.code}),
                                status_code=exc.status, media_type="application/problem+json")
        return endpoint

    async def ready(request: Request) -> Response:
        return Response(b'{"status":"ready"}', media_type="application/json")

    async def lifespan(app: Starlette) -> Any:
        await twin.pool.open(wait=True)
        yield
        await twin.pool.close()

    return Starlette(routes=[
        Route("/readyz", ready),
        Route("/api/v1/leads", route(twin.list), methods=["GET"]),
        Route("/api/v1/leads", route(twin.create), methods=["POST"]),
        Route("/api/v1/leads/{lead_id}", route(twin.get), methods=["GET"]),
    ], lifespan=lifespan)


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", required=True)
    p.add_argument("--data-dir", required=True, help="the Leadbase server's data directory "
                                                     "(its JWT secret)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--pool-size", type=int, default=10)
    args = p.parse_args()
    os.environ.update({ENV_URL: args.database_url, ENV_DATA: args.data_dir,
                       ENV_POOL: str(args.pool_size)})
    uvicorn.run("bench.raw_twin:create_app", factory=True, host="127.0.0.1", port=args.port,
                workers=args.workers, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
