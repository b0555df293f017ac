"""The load generator: scenarios of HTTP requests driven at a concurrency over lean
keep-alive connections, with the latency of each request and the cores each process
used meanwhile."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from bench.report import CpuMeter

# Request indexes of each phase (create payloads are unique per index; keep phases apart).
MAIN_OFFSET, REPLAY_OFFSET, PROBE_OFFSET, WARMUP_OFFSET = 0, 700_000, 800_000, 900_000


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


@dataclass
class Scenario:
    name: str
    make: Callable[[int], Request]
    target: str  # human readable
    check: Callable[[Result], bool]
    # The same request as a service call, for the in-process replay: (session, ctx, i).
    direct: Callable[[Any, Any, int], Awaitable[Any]] | None = None


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
        head = f"{method} {url} HTTP/1.1\r\n".encode() + self.fixed
        if body is not None:
            head += (b"content-type: application/json\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\n")
        for attempt in (1, 2):
            reused = self.writer is not None
            if self.writer is None or self.reader is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(head + b"\r\n" + (body or b""))
            try:
                raw = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                await self.close()
                # A kept-alive connection the server closed while idle (uvicorn's
                # keep-alive timeout): send again once on a new one, as HTTP clients do.
                partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
                if attempt == 2 or not reused or partial:
                    raise
        assert self.reader is not None
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
