"""A 500 leaves the connection usable (issue 17, point 5): against a real uvicorn server
on 127.0.0.1, an unhandled error answers problem+json with the request id and no
internals, and the next request on the same keep-alive connection is served."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from starlette.responses import StreamingResponse

from leadbase.app import create_app
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.factories import make_workspace

SECRET_DETAIL = "the database password is hunter2"


def _app_with_failures(settings: Settings, db: Database) -> FastAPI:
    app = create_app(settings, database=db, run_worker=False)

    async def boom() -> None:  # the test hook: a route with a bug
        raise RuntimeError(SECRET_DETAIL)

    async def stream_boom() -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"first part,"
            raise RuntimeError(SECRET_DETAIL)

        return StreamingResponse(body(), media_type="text/plain")

    app.add_api_route("/test/boom", boom, methods=["GET"])
    app.add_api_route("/test/stream-boom", stream_boom, methods=["GET"])
    return app


@pytest_asyncio.fixture(loop_scope="session")
async def server(settings: Settings, db: Database) -> AsyncIterator[tuple[str, int]]:
    config = uvicorn.Config(_app_with_failures(settings, db), host="127.0.0.1", port=0,
                            lifespan="off", log_level="critical")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.02)
    assert srv.started
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    srv.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    path: str, token: str = "") -> tuple[int, dict[str, str], bytes]:
    """One request on the open connection; the response read to its Content-Length."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n{auth}\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines if h)}
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 10)
    return int(status_line.split()[1]), headers, body


async def test_the_connection_survives_an_unhandled_error(server: tuple[str, int],
                                                          client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    reader, writer = await asyncio.open_connection(*server)
    try:
        for _ in range(3):
            status, headers, body = await _exchange(reader, writer, "/test/boom")
            assert status == 500
            assert headers["content-type"] == "application/problem+json"
            problem = orjson.loads(body)
            assert problem["code"] == "INTERNAL_ERROR"
            assert problem["request_id"] == headers["x-request-id"]
            assert SECRET_DETAIL not in body.decode() and "RuntimeError" not in body.decode()
            assert headers.get("connection") != "close"
            # The same connection serves the next request, one reading the database too.
            status, _, body = await _exchange(reader, writer, "/healthz")
            assert status == 200, body
            status, _, body = await _exchange(reader, writer, "/api/v1/leads",
                                              owner.access_token)
            assert status == 200, body
    finally:
        writer.close()


async def test_a_keep_alive_client_is_never_reset(server: tuple[str, int]) -> None:
    host, port = server
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", limits=limits) as c:
        for _ in range(5):
            assert (await c.get("/test/boom")).status_code == 500
            assert (await c.get("/healthz")).status_code == 200


async def test_a_stream_cut_short_closes_the_connection(server: tuple[str, int]) -> None:
    """Only a response already under way is cut: the server closes the connection, so the
    client knows the body is incomplete."""
    reader, writer = await asyncio.open_connection(*server)
    try:
        writer.write(b"GET /test/stream-boom HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        received = await asyncio.wait_for(reader.read(), 10)  # to EOF: the server closed
        assert received.startswith(b"HTTP/1.1 200") and b"first part," in received
        assert not received.endswith(b"0\r\n\r\n")  # no final chunk: visibly incomplete
    finally:
        writer.close()
