"""Local HTTP servers speaking VAPI's and Bland's call APIs, for tests (never mocks).

Each server runs in a thread on 127.0.0.1 (a free port), records every request
(``server.requests``: method, path, headers, body), checks requests as the provider
does (its auth header, the required fields) and answers in the provider's shapes. The
next requests can be told to misbehave, one fault per request, in order::

    with VapiServer() as vapi:
        vapi.fail(Fault(500), Fault.rate_limited(retry_after=1), Fault.hang(2.0))
        vapi.fail(Fault(400, {"message": ["customer.number must be ..."]}))

Webhook payloads for a call the server placed: ``vapi.end_of_call_report(call_id,
ended_reason=...)`` / ``vapi.status_update(...)`` and ``bland.finish(call_id, ...)``,
signed with ``vapi_signed(...)`` / ``bland_signed(...)``.

Use as context managers, or ``start()``/``stop()``; ``server.url`` is the base URL to
configure (``LEADBASE_VAPI_BASE_URL`` / ``LEADBASE_BLAND_BASE_URL`` or the provider's
``base_url``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
VAPI_KEY = "vapi-private-test-key"
BLAND_KEY = "bland-test-key"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """How one request is answered instead of normally."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to wait before answering (past the client's timeout)

    @classmethod
    def rate_limited(cls, retry_after: str | float = 1, body: Any = None) -> Fault:
        return cls(429, body or {"message": "Too Many Requests"},
                   {"Retry-After": str(retry_after)})

    @classmethod
    def hanging(cls, seconds: float) -> Fault:
        return cls(504, {"message": "too late"}, hang=seconds)


Answer = tuple[int, dict[str, str], Any]


class ProviderServer:
    """The threaded server; subclasses implement ``handle`` (the provider's protocol)."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.calls: dict[str, dict[str, Any]] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------
    def fail(self, *faults: Fault) -> None:
        """The next ``len(faults)`` requests get these answers, one each, in order."""
        with self._lock:
            self._faults.extend(faults)

    def fail_times(self, n: int, fault: Fault) -> None:
        self.fail(*([fault] * n))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "the server is not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ProviderServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = Recorded(self.command, self.path,
                                    {k.lower(): v for k, v in self.headers.items()}, body)
                status, headers, payload = server._answer(recorded)
                data = payload if isinstance(payload, bytes) else (
                    b"" if payload is None else json.dumps(payload).encode())
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json; charset=utf-8")
                    self.send_header("content-length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- protocol ------------------------------------------------------------------
    def _answer(self, request: Recorded) -> Answer:
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            if fault.hang:
                self._released.wait(fault.hang)
            return fault.status, fault.headers, fault.body
        try:
            return self.handle(request)
        except Exception as exc:  # a bug in the fake: answer it rather than hang the test
            return 500, {}, {"message": f"test server error: {exc!r}"}

    def handle(self, request: Recorded) -> Answer:
        raise NotImplementedError


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- VAPI ----------------------------------------------------------------------------
class VapiServer(ProviderServer):
    """``POST /call`` and ``GET /call/{id}`` as VAPI answers them (NestJS-style errors)."""

    def __init__(self, api_key: str = VAPI_KEY) -> None:
        super().__init__()
        self.api_key = api_key

    @staticmethod
    def _error(status: int, message: Any, error: str) -> Answer:
        return status, {}, {"message": message, "error": error, "statusCode": status}

    def handle(self, request: Recorded) -> Answer:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Invalid Key. Hot tip, you may be using the private key "
                               "instead of the public key, or vice versa.", "Unauthorized")
        path = request.path.split("?")[0]
        if request.method == "POST" and path == "/call":
            return self._create(request)
        match = re.fullmatch(r"/call/([^/]+)", path)
        if request.method == "GET" and match:
            call = self.calls.get(match.group(1))
            if call is None:
                return self._error(404, "Not Found", "Not Found")
            return 200, {}, call
        return self._error(404, f"Cannot {request.method} {path}", "Not Found")

    def _create(self, request: Recorded) -> Answer:
        try:
            body = request.json
        except ValueError:
            return self._error(400, "Unexpected token in JSON", "Bad Request")
        problems = []
        if not isinstance(body, dict):
            return self._error(400, ["body must be an object"], "Bad Request")
        customer = body.get("customer")
        number = customer.get("number") if isinstance(customer, dict) else None
        if not isinstance(number, str) or not E164.match(number):
            problems.append("customer.number must be a valid phone number in the E.164 format. "
                            "Hot tip, you may be missing the country code (Eg. US: +1).")
        if not isinstance(body.get("phoneNumberId"), str) or not body["phoneNumberId"]:
            problems.append("phoneNumberId must be a string")
        if problems:
            return self._error(400, problems, "Bad Request")
        if not body.get("assistantId") and not body.get("assistant"):
            return self._error(400, "Couldn't Get Assistant. Need Either `assistant` Or "
                               "`assistantId`.", "Bad Request")
        now = _now()
        call = {
            "id": str(uuid.uuid4()), "orgId": "3b1c5e43-0d2b-4b1c-9c33-8f5a7e2d1c00",
            "type": "outboundPhoneCall", "status": "queued", "createdAt": now, "updatedAt": now,
            "phoneNumberId": body["phoneNumberId"], "customer": customer,
            "phoneCallProvider": "twilio", "phoneCallTransport": "pstn",
            **{k: body[k] for k in ("assistantId", "assistant", "assistantOverrides")
               if k in body},
        }
        self.calls[call["id"]] = call
        return 201, {}, call

    # -- webhooks the real VAPI would send ------------------------------------------
    def status_update(self, call_id: str, status: str, *, ended_reason: str | None = None,
                      timestamp: int | None = None) -> dict[str, Any]:
        call = self.calls[call_id]
        call["status"] = status
        message: dict[str, Any] = {
            "type": "status-update", "status": status, "call": call,
            "timestamp": timestamp or int(time.time() * 1000),
            "assistant": call.get("assistant") or {"id": call.get("assistantId")},
            "customer": call["customer"], "phoneNumber": {"id": call["phoneNumberId"]},
        }
        if ended_reason:
            message["endedReason"] = ended_reason
        return {"message": message}

    def end_of_call_report(
        self, call_id: str, *, ended_reason: str = "customer-ended-call",
        duration: float = 95.4, transcript: str | None = "AI: Hello, this is Alex.\nUser: Hi.",
        summary: str | None = "The lead agreed to a demo on Thursday.",
        recording_url: str | None = "https://storage.vapi.ai/rec-mono.wav",
        cost: float | None = 0.1342, ring_seconds: float = 8.0,
    ) -> dict[str, Any]:
        call = self.calls[call_id]
        started = datetime.now(UTC) - timedelta(seconds=duration + 2)
        ended = started + timedelta(seconds=duration)
        call.update(status="ended", endedReason=ended_reason,
                    startedAt=_iso(started), endedAt=_iso(ended), cost=cost)
        artifact: dict[str, Any] = {"messages": [], "transcript": transcript}
        if recording_url:
            artifact["recordingUrl"] = recording_url
            artifact["recording"] = {"mono": {"combinedUrl": recording_url}}
            call["artifact"] = artifact
        analysis = {"summary": summary, "successEvaluation": "true"} if summary else {}
        call["analysis"] = analysis
        return {"message": {
            "type": "end-of-call-report", "endedReason": ended_reason, "call": call,
            "timestamp": int(time.time() * 1000), "cost": cost,
            "costs": [{"type": "transport", "cost": 0.01}], "artifact": artifact,
            "analysis": analysis, "startedAt": _iso(started), "endedAt": _iso(ended),
            "durationSeconds": duration, "durationMs": round(duration * 1000),
            "durationMinutes": round(duration / 60, 4),
            "customer": call["customer"],
            "assistant": call.get("assistant") or {"id": call.get("assistantId")},
        }}


def vapi_signed(payload: dict[str, Any], secret: str, *, scheme: str = "secret"
                ) -> tuple[dict[str, str], bytes]:
    """``(headers, body)`` as VAPI sends them: ``secret`` (X-Vapi-Secret), ``bearer``,
    ``hmac`` (X-Vapi-Signature over the body) or ``hmac-timestamp`` (X-Signature and
    X-Timestamp over ``{timestamp}.{body}``)."""
    body = json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if scheme == "secret":
        headers["x-vapi-secret"] = secret
    elif scheme == "bearer":
        headers["authorization"] = f"Bearer {secret}"
    elif scheme == "hmac":
        headers["x-vapi-signature"] = _hex(secret, body)
    elif scheme == "hmac-timestamp":
        stamp = str(int(time.time()))
        headers["x-timestamp"] = stamp
        headers["x-signature"] = _hex(secret, stamp.encode() + b"." + body)
    else:
        raise ValueError(scheme)
    return headers, body


# -- Bland ---------------------------------------------------------------------------
class BlandServer(ProviderServer):
    """``POST /v1/calls`` and ``GET /v1/calls/{call_id}`` as Bland answers them."""

    def __init__(self, api_key: str = BLAND_KEY) -> None:
        super().__init__()
        self.api_key = api_key

    def handle(self, request: Recorded) -> Answer:
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ").strip() != self.api_key:
            return 401, {}, {"status": "error", "message": "Invalid authorization header",
                             "errors": ["AUTH_ERROR"]}
        path = request.path.split("?")[0]
        if request.method == "POST" and path == "/v1/calls":
            return self._create(request)
        match = re.fullmatch(r"/v1/calls/([^/]+)", path)
        if request.method == "GET" and match:
            call = self.calls.get(match.group(1))
            if call is None:
                return 404, {}, {"status": "error", "message": "Call not found"}
            return 200, {}, call
        return 404, {}, {"status": "error", "message": "Not found"}

    def _create(self, request: Recorded) -> Answer:
        try:
            body = request.json
        except ValueError:
            return 400, {}, {"status": "error", "message": "Invalid JSON body"}
        if not isinstance(body, dict):
            return 400, {}, {"status": "error", "message": "Invalid JSON body"}
        errors = []
        number = body.get("phone_number")
        if not isinstance(number, str) or not E164.match(number):
            errors.append("Invalid phone_number")
        if not body.get("task") and not body.get("pathway_id"):
            errors.append("Missing required parameter: task or pathway_id")
        if errors:
            return 400, {}, {"status": "error", "message": "; ".join(errors), "errors": errors}
        call_id = str(uuid.uuid4())
        self.calls[call_id] = {
            "call_id": call_id, "c_id": call_id, "to": number, "from": body.get("from"),
            "request_data": body.get("request_data") or {}, "metadata": body.get("metadata") or {},
            "completed": False, "created_at": _now(), "inbound": False,
            "queue_status": "queued", "status": "queued", "max_duration": 30,
            "call_length": None, "answered_by": None, "record": body.get("record", False),
            "recording_url": None, "summary": None, "price": None, "started_at": None,
            "end_at": None, "error_message": None, "concatenated_transcript": None,
            "transcripts": [], "call_ended_by": None, "variables": {}, "batch_id": None,
        }
        return 200, {}, {"status": "success", "message": "Call successfully queued.",
                         "call_id": call_id, "batch_id": None}

    def finish(self, call_id: str, *, answered_by: str | None = "human",
               call_length: float = 1.6, status: str = "completed",
               call_ended_by: str = "ASSISTANT", error_message: str | None = None,
               summary: str | None = "The lead asked for a proposal by email.",
               price: float | None = 0.144, record: bool = True) -> dict[str, Any]:
        """End the call as Bland would and return the post-call webhook body."""
        call = self.calls[call_id]
        talked = call_length > 0 and answered_by in ("human", "voicemail", "unknown")
        started = datetime.now(UTC) - timedelta(minutes=call_length, seconds=3)
        ended = started + timedelta(minutes=call_length)
        transcripts = [
            {"id": 1, "created_at": _iso(started), "text": "Hi, this is Alex from Acme.",
             "user": "assistant"},
            {"id": 2, "created_at": _iso(started + timedelta(seconds=4)),
             "text": "Hello, yes, go ahead.", "user": "user"},
        ] if talked else []
        call.update(
            completed=True, status=status, queue_status="complete",
            call_length=call_length, corrected_duration=str(round(call_length * 60)),
            answered_by=answered_by, call_ended_by=call_ended_by, error_message=error_message,
            started_at=_iso(started), end_at=_iso(ended), price=price,
            summary=summary if talked else None, transcripts=transcripts,
            concatenated_transcript=" \n".join(f"{t['user']}: {t['text']}" for t in transcripts)
            or None,
            recording_url=(f"https://server.aws.dialpad.com/recordings/{call_id}.mp3"
                           if record and talked else None),
        )
        return dict(call)


def bland_signed(payload: dict[str, Any], secret: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return {"content-type": "application/json", "x-webhook-signature": _hex(secret, body)}, body


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
