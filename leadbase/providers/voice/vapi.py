"""VAPI (https://docs.vapi.ai): ``POST /call``, ``GET /call/{id}`` and its server messages.

Agent settings: ``api_key`` (private key, sent as ``Authorization: Bearer``),
``assistant_id`` (or ``assistant``: a transient assistant object), ``phone_number_id``
(the VAPI phone number calls are placed from), ``webhook_secret``, and optionally
``assistant_overrides`` (merged into the call's ``assistantOverrides``).

A call is created with ``assistantOverrides.server`` pointing at Leadbase's webhook URL
with the secret in an ``X-Vapi-Secret`` header, and ``assistantOverrides.metadata``
carrying Leadbase's call and tenant ids (VAPI echoes both in every server message).

Verification accepts VAPI's schemes: the server secret in ``X-Vapi-Secret`` (or, as the
older docs put it, the secret itself in ``X-Vapi-Signature``); a Bearer-token credential
(``Authorization: Bearer <secret>``); an HMAC credential (hex HMAC-SHA256 in
``X-Vapi-Signature`` or ``X-Signature``, over the body or, with ``X-Timestamp``, over
``{timestamp}.{body}``, the timestamp within five minutes).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

import httpx

from leadbase.config import Settings
from leadbase.providers.voice.base import (
    CallEvent,
    CallOutcome,
    CallRequest,
    CallStatus,
    PlacedCall,
    ProviderError,
)
from leadbase.providers.voice.common import (
    CALL_ID_KEY,
    HUNG_UP_SECONDS,
    TENANT_ID_KEY,
    digest,
    load_json,
    lower_headers,
    parse_decimal,
    parse_time,
    parse_uuid,
    same,
    seconds_between,
    signature_matches,
    text_or_none,
)
from leadbase.providers.voice.http import HttpVoiceProvider, RetryPolicy, json_object, send

TIMESTAMP_TOLERANCE_SECONDS = 300
_STATUSES: dict[str, CallStatus] = {
    "scheduled": "queued", "queued": "queued", "ringing": "ringing",
    "in-progress": "in_progress", "forwarding": "in_progress",
}
_NO_ANSWER = frozenset({"customer-did-not-answer", "call.ringing.hook-executed-transfer"})
_COMPLETED = frozenset({
    "assistant-ended-call", "assistant-ended-call-after-message-spoken",
    "assistant-ended-call-with-hangup-task", "assistant-said-end-call-phrase",
    "assistant-forwarded-call", "exceeded-max-duration", "silence-timed-out",
    "customer-ended-call", "customer-ended-call-after-warm-transfer-attempt",
    "assistant-hung-up",
})
_FAILED_MARKERS = ("error", "failed", "fault", "timed-out", "rejected", "invalid",
                   "not-found", "not-provided", "deleted", "canceled", "cancelled")
_FAILED_PREFIXES = ("phone-call-provider", "pipeline-", "call.start", "call-start",
                    "call.in-progress.error", "twilio-", "vonage-", "telnyx-", "sip-",
                    "worker-", "assistant-not", "assistant-request", "database-", "db-")


def outcome_for(reason: str | None, duration: int | None = None) -> tuple[CallStatus, CallOutcome]:
    """VAPI's ``endedReason`` as our final status and outcome."""
    r = (reason or "").strip().lower()
    if r in _NO_ANSWER or r.endswith("did-not-answer") or r.endswith("no-answer"):
        return "completed", "no_answer"
    if r == "customer-busy" or r.endswith("-busy"):
        return "completed", "busy"
    if r == "voicemail" or "voicemail" in r:
        return "completed", "voicemail"
    if r.startswith("customer-ended-call"):
        short = duration is not None and duration < HUNG_UP_SECONDS
        return "completed", "hung_up" if short else "completed"
    if r in _COMPLETED:
        return "completed", "completed"
    if not r or r.startswith(_FAILED_PREFIXES) or any(m in r for m in _FAILED_MARKERS):
        return "failed", "failed"
    return "completed", "completed"


def _metadata(*sources: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, Mapping):
            meta = source.get("metadata")
            if isinstance(meta, Mapping):
                found = {**meta, **found}
            overrides = source.get("assistantOverrides")
            if isinstance(overrides, Mapping) and isinstance(overrides.get("metadata"), Mapping):
                found = {**overrides["metadata"], **found}
    return found


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _artifact(*sources: Any) -> tuple[str | None, str | None, str | None]:
    """(transcript, recording URL, summary) from a message or a call object."""
    transcript = recording = summary = None
    for source in sources:
        if not isinstance(source, Mapping):
            continue
        artifact = _mapping(source.get("artifact"))
        analysis = _mapping(source.get("analysis"))
        mono = _mapping(_mapping(artifact.get("recording")).get("mono"))
        transcript = transcript or text_or_none(artifact.get("transcript")) \
            or text_or_none(source.get("transcript"))
        recording = recording or text_or_none(artifact.get("recordingUrl")) \
            or text_or_none(mono.get("combinedUrl")) or text_or_none(source.get("recordingUrl"))
        summary = summary or text_or_none(analysis.get("summary")) \
            or text_or_none(source.get("summary"))
    return transcript, recording, summary


def _event_from_call(call: Mapping[str, Any], *, message: Mapping[str, Any] | None = None,
                     raw: Mapping[str, Any] | None = None) -> CallEvent:
    """A normalised event from a Call object (and the message that carried it)."""
    msg = message or {}
    external_id = call.get("id")
    if not isinstance(external_id, str) or not external_id:
        raise ValueError("a VAPI call needs its id")
    reason = msg.get("endedReason") or call.get("endedReason")
    started = parse_time(msg.get("startedAt") or call.get("startedAt"))
    ended = parse_time(msg.get("endedAt") or call.get("endedAt"))
    raw_duration = msg.get("durationSeconds")
    duration = (round(raw_duration) if isinstance(raw_duration, int | float)
                else seconds_between(started, ended))
    vapi_status = str(msg.get("status") or call.get("status") or "")
    is_report = msg.get("type") == "end-of-call-report"
    outcome: CallOutcome | None = None
    if is_report or vapi_status == "ended":
        status, outcome = outcome_for(cast(str | None, reason), duration)
    else:
        status = _STATUSES.get(vapi_status, "initiated")
    transcript, recording, summary = _artifact(msg, call)
    meta = _metadata(call, msg.get("assistant"))
    occurred = (parse_time(msg.get("timestamp")) or ended or parse_time(call.get("updatedAt"))
                or parse_time(call.get("createdAt")))
    if occurred is None:
        raise ValueError("a VAPI message needs a timestamp")
    if outcome is None or outcome not in {"completed", "hung_up", "not_interested", "voicemail"}:
        duration = 0 if outcome else None
    return CallEvent(
        external_id=external_id,
        event_id=digest("vapi", external_id, msg.get("type"), vapi_status, reason,
                                    msg.get("timestamp")),
        status=status,
        occurred_at=occurred,
        call_id=parse_uuid(meta.get(CALL_ID_KEY)),
        outcome=outcome,
        duration_seconds=duration,
        transcript=transcript,
        summary=summary,
        recording_url=recording,
        cost=parse_decimal(msg.get("cost", call.get("cost"))),
        started_at=started,
        ended_at=ended,
        raw=dict(raw or msg or call),
    )


class VapiProvider(HttpVoiceProvider):
    name = "vapi"
    required_strings = ("api_key", "phone_number_id", "webhook_secret")

    def __init__(self, settings: Settings, *, base_url: str | None = None,
                 policy: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(settings, base_url=base_url or settings.vapi_base_url, policy=policy,
                         transport=transport)

    def auth_header(self, api_key: str) -> str:
        return f"Bearer {api_key}"

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        problems = self.required_problems(settings)
        assistant_id, assistant = settings.get("assistant_id"), settings.get("assistant")
        if not assistant_id and not assistant:
            problems.append("assistant_id or assistant is required")
        if assistant is not None and not isinstance(assistant, Mapping):
            problems.append("assistant must be an object")
        overrides = settings.get("assistant_overrides")
        if overrides is not None and not isinstance(overrides, Mapping):
            problems.append("assistant_overrides must be an object")
        return problems

    def call_body(self, request: CallRequest) -> dict[str, Any]:
        """The ``POST /call`` body for a request."""
        s = request.settings
        overrides: dict[str, Any] = dict(s.get("assistant_overrides") or {})
        variables = {**(overrides.get("variableValues") or {}), **request.variables}
        if request.lead_name:
            variables.setdefault("lead_name", request.lead_name)
        if variables:
            overrides["variableValues"] = variables
        overrides["metadata"] = {
            **(overrides.get("metadata") or {}),
            CALL_ID_KEY: str(request.call_id), TENANT_ID_KEY: str(request.tenant_id),
        }
        server: dict[str, Any] = {"url": request.webhook_url}
        if s.get("webhook_secret"):
            server["headers"] = {"X-Vapi-Secret": str(s["webhook_secret"])}
        overrides["server"] = server
        customer: dict[str, Any] = {"number": request.to_number}
        if request.lead_name:
            customer["name"] = request.lead_name[:40]
        body: dict[str, Any] = {"phoneNumberId": s.get("phone_number_id"), "customer": customer,
                                "assistantOverrides": overrides}
        if s.get("assistant_id"):
            body["assistantId"] = s["assistant_id"]
        else:
            body["assistant"] = s.get("assistant")
        return body

    async def place_call(self, request: CallRequest) -> PlacedCall:
        self.refuse_unusable(request.settings)
        async with self._client(request.settings) as client:
            response = await send(client, "POST", "/call", provider=self.name,
                                  policy=self.policy, json=self.call_body(request))
        call = json_object(response, self.name, maybe_placed=True)
        external_id = call.get("id")
        if not isinstance(external_id, str) or not external_id:
            raise ProviderError("vapi: the answer to POST /call has no call id", retryable=True,
                                maybe_placed=True)
        status = _STATUSES.get(str(call.get("status")), "queued")
        return PlacedCall(external_id=external_id, status=status)

    async def fetch_call(self, external_id: str, settings: Mapping[str, Any]) -> CallEvent | None:
        async with self._client(settings) as client:
            response = await send(client, "GET", f"/call/{external_id}", provider=self.name,
                                  policy=self.policy, accept=frozenset({404}))
        if response.status_code == 404:
            return None
        call = json_object(response, self.name)
        try:
            return _event_from_call(call)
        except ValueError as exc:
            raise ProviderError(f"vapi: unreadable call {external_id}: {exc}",
                                retryable=True) from exc

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        if not secret:
            return False
        h = lower_headers(headers)
        if (given := h.get("x-vapi-secret")) is not None:
            return same(given, secret)
        auth = h.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return same(auth[7:].strip(), secret)
        signature = h.get("x-vapi-signature") or h.get("x-signature")
        if not signature:
            return False
        timestamp = h.get("x-timestamp") or h.get("x-vapi-timestamp")
        if timestamp:
            if not _fresh(timestamp):
                return False
            return signature_matches(secret, timestamp.encode() + b"." + body, signature)
        return signature_matches(secret, body, signature) or same(signature, secret)

    def parse_webhook(self, body: bytes) -> list[CallEvent]:
        payload = load_json(body)
        message = payload.get("message") if isinstance(payload, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ValueError("not a VAPI server message ({\"message\": {\"type\": ...}})")
        kind = message["type"]
        call = message.get("call")
        if kind not in {"status-update", "end-of-call-report", "transcript"}:
            return []
        if not isinstance(call, dict):
            raise ValueError(f"a VAPI {kind} message needs its call")
        if kind == "transcript":
            if message.get("transcriptType") != "final":
                return []
            # A final line of the live transcript: the call is in progress (the full
            # transcript comes with the end-of-call report).
            live = {"type": kind, "status": "in-progress", "timestamp": message.get("timestamp")}
            return [_event_from_call(call, message=live, raw=message)]
        if kind == "status-update" and message.get("status") not in {*_STATUSES, "ended"}:
            return []
        return [_event_from_call(call, message=message)]


def _fresh(timestamp: str) -> bool:
    try:
        value = float(timestamp)
    except ValueError:
        try:
            parsed = parse_time(timestamp)
        except ValueError:
            return False
        if parsed is None:
            return False
        value = parsed.timestamp()
    if value > 1e11:
        value /= 1000
    return abs(time.time() - value) <= TIMESTAMP_TOLERANCE_SECONDS

