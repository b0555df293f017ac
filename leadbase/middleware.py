"""ASGI middleware: request ids, rate-limit headers, request metrics, body limits and
unhandled errors."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import defaultdict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbase.kit.errors import AppError, problem_response
from leadbase.kit.ratelimit import Quota, headers

log = logging.getLogger("leadbase.errors")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.total_seconds = 0.0
        self.count = 0

    def observe(self, method: str, status: int, seconds: float) -> None:
        self.requests[(method, status)] += 1
        self.count += 1
        self.total_seconds += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
                break
        else:
            self.buckets[-1] += 1

    def render(self) -> str:
        lines = ["# TYPE leadbase_http_requests_total counter"]
        for (method, status), n in sorted(self.requests.items()):
            lines.append(f'leadbase_http_requests_total{{method="{method}",status="{status}"}} {n}')
        lines.append("# TYPE leadbase_http_request_duration_seconds histogram")
        cumulative = 0
        for bound, n in zip((*BUCKETS, float("inf")), self.buckets, strict=True):
            cumulative += n
            le = "+Inf" if bound == float("inf") else str(bound)
            lines.append(f'leadbase_http_request_duration_seconds_bucket{{le="{le}"}} {cumulative}')
        lines.append(f"leadbase_http_request_duration_seconds_sum {self.total_seconds:.6f}")
        lines.append(f"leadbase_http_request_duration_seconds_count {self.count}")
        return "\n".join(lines) + "\n"


class RequestContextMiddleware:
    """Give every request an id (``X-Request-ID``, echoed back), add ``RateLimit-*``
    headers when the request was counted, and record metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for key, value in scope.get("headers", ()):
            if key == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(b"x-request-id", request_id.encode())]
                quota: Quota | None = state.get("rate_quota")
                if quota is not None:
                    existing = {k.lower() for k, _ in message.get("headers", [])}
                    extra += [(k.lower().encode(), v.encode()) for k, v in headers(quota).items()
                              if k.lower().encode() not in existing]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.observe(scope["method"], status, time.perf_counter() - started)


class BodyLimitMiddleware:
    """Refuse a request whose body is larger than its limit with 413 problem+json, before
    reading the rest: at once when ``Content-Length`` says so, else as soon as the
    streamed body passes the limit. ``limit``/``code`` hold everywhere except the paths of
    ``overrides`` (path -> (limit, code); the import uploads have their own)."""

    def __init__(self, app: ASGIApp, *, limit: int, code: str = "PAYLOAD_TOO_LARGE",
                 overrides: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.default = (limit, code)
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, code = self.overrides.get(scope["path"].rstrip("/"), self.default)
        for key, value in scope.get("headers", ()):
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(scope, send, limit, code)
                return
        received = 0
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    await _too_large(scope, send, limit, code)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:  # once refused, the 413 is the response
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not rejected:
                raise


async def _too_large(scope: Scope, send: Send, limit: int, code: str) -> None:
    error = AppError(f"The request is larger than {limit:,} bytes.", code=code, status=413)
    error.title = "Payload too large"
    response = problem_response(error)
    response.headers["connection"] = "close"  # the rest of the body is never read
    await response(scope, _no_receive, send)


class ServerErrorMiddleware:
    """An unhandled error becomes a problem+json 500 carrying the request id (no
    internals), logged here, and goes no further: the server would otherwise close the
    keep-alive connection after the response, resetting the client's next request on it.
    Only a response cut short (a stream that failed after its first byte) is passed on,
    so that the server closes the connection and the client sees the body is incomplete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            log.exception("unhandled error on %s %s (request %s)", scope["method"],
                          scope["path"], request_id)
            if started and not complete:
                raise
            if not started:
                error = AppError("An unexpected error occurred.", code="INTERNAL_ERROR",
                                 status=500,
                                 extra={"request_id": request_id} if request_id else None)
                error.title = "Internal server error"
                await problem_response(error)(scope, _no_receive, tracking_send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
