"""Server CPU of one request, in-process: the app is called as an ASGI callable (no
socket, no HTTP parsing, no client in the profile), one request after another, and the
process CPU per request is printed with the top entries of a cProfile of the same
requests. It needs a bench database loaded by ``bench/leads_api.py`` (its workspace A's
owner signs in). It prints figures; it is not a test.

    LEADBASE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/profile_requests.py --database leadbase_bench_small
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.server import PASSWORD, WORKSPACES

Request = tuple[str, str, bytes | None]


class Caller:
    """Calls an ASGI app with one request and collects the status and body."""

    def __init__(self, app: Any, token: str | None = None) -> None:
        self.app, self.token = app, token

    async def call(self, method: str, target: str, body: bytes | None = None) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        headers = [(b"host", b"bench"), (b"accept", b"application/json")]
        if self.token:
            headers.append((b"authorization", f"Bearer {self.token}".encode()))
        if body is not None:
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(), "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
                 "state": {}}
        sent = False
        status, chunks = 0, []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def scenarios(lead_id: str) -> dict[str, Request]:
    create = orjson.dumps({"first_name": "Ana", "last_name": "Profile",
                           "email": "ana.profile@example.com", "source": "website"})
    return {
        "get by id": ("GET", f"/api/v1/leads/{lead_id}", None),
        "list first page": ("GET", "/api/v1/leads?per_page=25", None),
        "q= search": ("GET", "/api/v1/leads?q=garcia&per_page=25", None),
        "tags+status": ("GET", "/api/v1/leads?tags=vip&status=new&per_page=25", None),
        "create": ("POST", "/api/v1/leads", create),
        "auth/me": ("GET", "/api/v1/auth/me", None),
        "timeline": ("GET", f"/api/v1/leads/{lead_id}/timeline", None),
        # Routes matched late (FastAPI tries the routes in order).
        "segments": ("GET", "/api/v1/segments?limit=1", None),
        "assignment rules": ("GET", "/api/v1/assignment/rules", None),
        "not found": ("GET", "/api/v1/nothing-here", None),
    }


async def run(args: argparse.Namespace) -> None:
    os.environ["LEADBASE_RATE_LIMIT"] = "100000000/minute"
    os.environ["LEADBASE_RUN_WORKER"] = "false"
    os.environ.pop("LEADBASE_REDIS_URL", None)
    from leadbase.app import create_app
    from leadbase.config import Settings
    from leadbase.db.session import Database
    from leadbase.db.urls import with_database

    url = with_database(args.database_url, args.database)
    settings = Settings(database_url=url, data_dir=Path(args.data_dir))
    db = Database(url, settings)
    app = create_app(settings, database=db, run_worker=False)
    async with app.router.lifespan_context(app):
        anon = Caller(app)
        email, _ = WORKSPACES["a"]
        status, body = await anon.call("POST", "/api/v1/auth/login",
                                       orjson.dumps({"email": email, "password": PASSWORD}))
        if status != 200:
            raise SystemExit(f"sign-in failed: {status} {body[:300]!r}")
        caller = Caller(app, orjson.loads(body)["access_token"])
        status, body = await caller.call("GET", "/api/v1/leads?per_page=1")
        lead_id = orjson.loads(body)["data"][0]["id"]
        chosen = scenarios(lead_id)
        names = [n.strip() for n in args.scenarios.split(",")] if args.scenarios else chosen
        if args.twin:
            await measure_twin(args, caller.token, chosen, names, url)
        for name in names:
            method, target, payload = chosen[name]
            for _ in range(args.warmup):
                status, _body = await caller.call(method, target, payload)
            if status >= 400 and name != "not found":
                print(f"{name}: {status} {_body[:200]!r}")
                continue
            cpu0, wall0 = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                await caller.call(method, target, payload)
            cpu = (time.process_time() - cpu0) / args.requests * 1000
            wall = (time.perf_counter() - wall0) / args.requests * 1000
            print(f"{name:16} cpu {cpu:6.3f} ms/request   wall {wall:6.3f} ms/request")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.requests):
                    await caller.call(method, target, payload)
                prof.disable()
                out = io.StringIO()
                stats = pstats.Stats(prof, stream=out)
                # A count that machine load does not blur: calls per request.
                calls = stats.total_calls  # type: ignore[attr-defined]
                print(f"{name:16} {calls / args.requests:,.0f} function calls/request")
                stats.sort_stats(args.sort).print_stats(args.top)
                print("\n".join(line for line in out.getvalue().splitlines()[6:]
                                if line.strip()))
    await db.dispose()


async def measure_twin(args: argparse.Namespace, token: str | None,
                       chosen: dict[str, Request], names: list[str] | dict[str, Request],
                       url: str) -> None:
    """The same requests against the raw twin (bench/raw_twin.py), in this process."""
    from bench import raw_twin

    os.environ.update({raw_twin.ENV_URL: url, raw_twin.ENV_DATA: args.data_dir,
                       raw_twin.ENV_POOL: "4"})
    twin = raw_twin.create_app()
    async with twin.router.lifespan_context(twin):
        caller = Caller(twin, token)
        for name in names:
            method, target, payload = chosen[name]
            if method == "POST" or name in ("auth/me", "timeline"):
                continue
            for _ in range(args.warmup):
                status, body = await caller.call(method, target, payload)
            if status >= 400:
                print(f"twin {name}: {status} {body[:200]!r}")
                continue
            cpu0 = time.process_time()
            for _ in range(args.requests):
                await caller.call(method, target, payload)
            cpu = (time.process_time() - cpu0) / args.requests * 1000
            print(f"twin {name:16} cpu {cpu:6.3f} ms/request")
            if args.profile:
                prof = cProfile.Profile()
                prof.enable()
                for _ in range(args.requests):
                    await caller.call(method, target, payload)
                prof.disable()
                calls = pstats.Stats(prof).total_calls  # type: ignore[attr-defined]
                print(f"twin {name:16} {calls / args.requests:,.0f} function calls/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="leadbase_bench_small")
    parser.add_argument("--database-url", default=os.environ.get("LEADBASE_DATABASE_URL"))
    parser.add_argument("--data-dir", default=str(Path(__file__).parent / "data" / "profile"))
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--scenarios", default="")
    parser.add_argument("--profile", action="store_true", help="print a cProfile too")
    parser.add_argument("--twin", action="store_true", help="measure the raw twin first")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("set LEADBASE_DATABASE_URL or --database-url")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
