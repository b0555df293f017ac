"""Forwarded client addresses are believed only from proxies named in
``LEADBASE_TRUSTED_PROXIES``: the per-IP sign-in limit cannot be dodged with a header."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from leadbase.app import create_app
from leadbase.cli import proxy_options
from leadbase.db.session import Database
from tests.auth.helpers import random_ip
from tests.conftest import make_settings
from tests.factories import PASSWORD, unique_email


def _served(tmp: Path, db: Database, peer: str, **overrides: Any) -> httpx.AsyncClient:
    """A client of the app as ``leadbase serve`` hands it to uvicorn (its middleware
    included), connecting from ``peer``."""
    # A window of its own length: its own counters, also in a Redis shared across runs.
    limit = f"3/{random.randint(60, 10**6)} minutes"
    settings = make_settings(tmp, login_rate_limit_ip=limit, **overrides)
    config = uvicorn.Config(create_app(settings, database=db, run_worker=False),
                            log_config=None, **proxy_options(settings))
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _attempts(c: httpx.AsyncClient) -> list[int]:
    codes = []
    for _ in range(4):
        resp = await c.post("/api/v1/auth/login", headers={"X-Forwarded-For": random_ip()},
                            json={"email": unique_email("spray"), "password": PASSWORD})
        codes.append(resp.status_code)
    return codes


async def test_local_client_cannot_pick_its_address(tmp_path: Path, db: Database) -> None:
    async with _served(tmp_path, db, "127.0.0.1") as c:
        assert await _attempts(c) == [401, 401, 401, 429]


async def test_named_proxy_is_believed(tmp_path: Path, db: Database) -> None:
    proxy = random_ip()
    async with _served(tmp_path, db, proxy, trusted_proxies=f" {proxy} , 10.255.0.0/16") as c:
        assert await _attempts(c) == [401, 401, 401, 401]
    # Any other peer is not.
    async with _served(tmp_path, db, random_ip(), trusted_proxies=proxy) as c:
        assert await _attempts(c) == [401, 401, 401, 429]


def test_options() -> None:
    assert proxy_options(make_settings(Path("/tmp"))) == {"proxy_headers": False}
    assert proxy_options(make_settings(Path("/tmp"), trusted_proxies="10.0.0.1,10.1.0.0/16")) \
        == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.1", "10.1.0.0/16"]}
