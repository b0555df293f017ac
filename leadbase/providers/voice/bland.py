"""Bland (https://docs.bland.ai): ``POST /v1/calls``, ``GET /v1/calls/{call_id}``, webhooks.

Agent settings: ``api_key`` (sent as the ``authorization`` header), ``task`` (the prompt)
or ``pathway_id`` (a conversational pathway), optionally ``from_number`` (E.164, one of
the account's numbers), ``voice``, ``first_sentence``, ``max_duration`` (minutes),
``language``, ``record`` (default true), ``call_options`` (merged into the body as is),
and ``webhook_secret`` (Leadbase's secret for the agent).

Bland posts the call object to the call's ``webhook`` when the call ends, with the
call's ``metadata``. Bland's own signature (``X-Webhook-Signature``, HMAC-SHA256 of the
body) uses an account-wide signing secret that Bland makes, not one Leadbase can give
it per agent; so each call carries a token in its metadata, ``leadbase_token`` =
HMAC-SHA256(webhook_secret, "bland:" + Leadbase's call id), and a webhook verifies when
the token it echoes is that call's. A signature made with the agent's secret
(``X-Webhook-Signature`` over the body) is accepted as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

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
    hmac_hex,
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

SIGNATURE_HEADER = "x-webhook-signature"
TOKEN_KEY = "leadbase_token"
_FAILED = frozenset({"failed", "error", "call_error", "canceled", "cancelled"})
_NO_ANSWER = frozenset({"no-answer", "no_answer", "unanswered"})
_ENDED = frozenset({"completed", "complete", "ended", "busy", *_FAILED, *_NO_ANSWER})
_LIVE: dict[str, CallStatus] = {
    "new": "queued", "queued": "queued", "allocated": "initiated", "started": "initiated",
    "initiated": "initiated", "ringing": "ringing", "in-progress": "in_progress",
    "in_progress": "in_progress", "active": "in_progress", "answered": "in_progress",
}


def _duration(call: Mapping[str, Any]) -> int | None:
    corrected = call.get("corrected_duration")
    try:
        if corrected not in (None, ""):
            return max(0, round(float(corrected)))
    except (TypeError, ValueError):
        pass
    minutes = call.get("call_length")
    if isinstance(minutes, int | float) and not isinstance(minutes, bool):
        return max(0, round(minutes * 60))
    return seconds_between(parse_time(call.get("started_at")), parse_time(call.get("end_at")))


def outcome_for(call: Mapping[str, Any]) -> tuple[CallStatus, CallOutcome]:
    """A finished Bland call's final status and outcome."""
    status = str(call.get("status") or "").lower()
    queue = str(call.get("queue_status") or "").lower()
    answered_by = str(call.get("answered_by") or "").lower()
    duration = _duration(call) or 0
    if status in _FAILED or queue in _FAILED:
        return "failed", "failed"
    if status == "busy" or queue == "busy":
        return "completed", "busy"
    if status in _NO_ANSWER or queue in _NO_ANSWER or answered_by in _NO_ANSWER:
        return "completed", "no_answer"
    if answered_by == "voicemail":
        return "completed", "voicemail"
    if duration == 0 and answered_by != "human":
        if text_or_none(call.get("error_message")):
            return "failed", "failed"
        return "completed", "no_answer"
    ended_by = str(call.get("call_ended_by") or "").upper()
    if duration < HUNG_UP_SECONDS and ended_by == "USER":
        return "completed", "hung_up"
    return "completed", "completed"


def _transcript(call: Mapping[str, Any]) -> str | None:
    text = text_or_none(call.get("concatenated_transcript"))
    if text:
        return text
    parts = call.get("transcripts")
    if isinstance(parts, list):
        lines = [f"{p.get('user', 'unknown')}: {p.get('text', '')}" for p in parts
                 if isinstance(p, Mapping) and p.get("text")]
        return "\n".join(lines) or None
    return None


def event_from_call(call: Mapping[str, Any]) -> CallEvent:
    external_id = call.get("call_id") or call.get("c_id")
    if not isinstance(external_id, str) or not external_id:
        raise ValueError("a Bland call needs its call_id")
    status_text = str(call.get("status") or "").lower()
    queue = str(call.get("queue_status") or "").lower()
    final = call.get("completed") is True or status_text in _ENDED or queue in _ENDED
    outcome: CallOutcome | None = None
    duration: int | None = None
    if final:
        status, outcome = outcome_for(call)
        duration = _duration(call) if outcome in {"completed", "hung_up", "voicemail"} else 0
    else:
        status = _LIVE.get(status_text) or _LIVE.get(queue) or "initiated"
    started = parse_time(call.get("started_at"))
    ended = parse_time(call.get("end_at") or call.get("ended_at"))
    occurred = ended if final and ended else (
        parse_time(call.get("timestamp")) or started or parse_time(call.get("created_at")))
    if occurred is None:
        raise ValueError("a Bland call needs created_at, started_at or end_at")
    meta_value = call.get("metadata")
    meta: Mapping[str, Any] = meta_value if isinstance(meta_value, Mapping) else {}
    return CallEvent(
        external_id=external_id,
        event_id=digest("bland", external_id, status_text, queue, call.get("completed"),
                        call.get("end_at"), call.get("answered_by")),
        status=status,
        occurred_at=occurred,
        call_id=parse_uuid(meta.get(CALL_ID_KEY)),
        outcome=outcome,
        duration_seconds=duration,
        transcript=_transcript(call) if final else None,
        summary=text_or_none(call.get("summary")),
        recording_url=text_or_none(call.get("recording_url")),
        cost=parse_decimal(call.get("price")),
        started_at=started,
        ended_at=ended if final else None,
        raw=dict(call),
    )


class BlandProvider(HttpVoiceProvider):
    name = "bland"
    required_strings = ("api_key", "webhook_secret")

    def __init__(self, settings: Settings, *, base_url: str | None = None,
                 policy: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(settings, base_url=base_url or settings.bland_base_url, policy=policy,
                         transport=transport)

    def auth_header(self, api_key: str) -> str:
        return api_key

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        problems = self.required_problems(settings)
        if not settings.get("task") and not settings.get("pathway_id"):
            problems.append("task or pathway_id is required")
        number = settings.get("from_number")
        if number is not None and (not isinstance(number, str) or not number.startswith("+")):
            problems.append("from_number must be an E.164 number")
        duration = settings.get("max_duration")
        if duration is not None and (not isinstance(duration, int | float) or duration <= 0):
            problems.append("max_duration must be a number of minutes > 0")
        options = settings.get("call_options")
        if options is not None and not isinstance(options, Mapping):
            problems.append("call_options must be an object")
        return problems

    def call_body(self, request: CallRequest) -> dict[str, Any]:
        """The ``POST /v1/calls`` body for a request."""
        s = request.settings
        body: dict[str, Any] = dict(s.get("call_options") or {})
        body["phone_number"] = request.to_number
        if s.get("pathway_id"):
            body["pathway_id"] = s["pathway_id"]
        else:
            body["task"] = s.get("task")
        for key, target in (("from_number", "from"), ("voice", "voice"),
                            ("first_sentence", "first_sentence"),
                            ("max_duration", "max_duration"), ("language", "language")):
            if s.get(key) is not None:
                body[target] = s[key]
        body.setdefault("record", bool(s.get("record", True)))
        body["webhook"] = request.webhook_url
        body["metadata"] = {**(body.get("metadata") or {}), CALL_ID_KEY: str(request.call_id),
                            TENANT_ID_KEY: str(request.tenant_id)}
        if s.get("webhook_secret"):
            body["metadata"][TOKEN_KEY] = call_token(str(s["webhook_secret"]),
                                                     str(request.call_id))
        data = {**(body.get("request_data") or {}), **request.variables}
        if request.lead_name:
            data.setdefault("lead_name", request.lead_name)
        if data:
            body["request_data"] = data
        return body

    async def place_call(self, request: CallRequest) -> PlacedCall:
        self.refuse_unusable(request.settings)
        async with self._client(request.settings) as client:
            response = await send(client, "POST", "/v1/calls", provider=self.name,
                                  policy=self.policy, json=self.call_body(request))
        data = json_object(response, self.name, maybe_placed=True)
        if data.get("status") == "error":
            raise ProviderError(f"bland: {_message(data)}", retryable=False,
                                status_code=response.status_code)
        call_id = data.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            raise ProviderError("bland: the answer to POST /v1/calls has no call_id",
                                retryable=True, maybe_placed=True)
        return PlacedCall(external_id=call_id, status="queued")

    async def fetch_call(self, external_id: str, settings: Mapping[str, Any]) -> CallEvent | None:
        async with self._client(settings) as client:
            response = await send(client, "GET", f"/v1/calls/{external_id}", provider=self.name,
                                  policy=self.policy, accept=frozenset({404}))
        if response.status_code == 404:
            return None
        data = json_object(response, self.name)
        if data.get("status") == "error" and not data.get("call_id"):
            if "not found" in _message(data).lower():
                return None
            raise ProviderError(f"bland: {_message(data)}", retryable=False)
        try:
            return event_from_call(data)
        except ValueError as exc:
            raise ProviderError(f"bland: unreadable call {external_id}: {exc}",
                                retryable=True) from exc

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        if not secret:
            return False
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return False
        signature = lower_headers(headers).get(SIGNATURE_HEADER)
        if signature:
            if signature_matches(secret, body, signature):
                return True
            # Bland's example signs JSON.stringify(body): the compact form of the same JSON.
            compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            if signature_matches(secret, compact.encode(), signature):
                return True
        return _token_matches(payload, secret)

    def parse_webhook(self, body: bytes) -> list[CallEvent]:
        payload = load_json(body)
        if not isinstance(payload, dict):
            raise ValueError("not a Bland call object")
        # Streamed webhook events wrap the call; the post-call webhook is the call itself.
        inner = payload.get("call")
        call: dict[str, Any] = inner if isinstance(inner, dict) else payload
        return [event_from_call(call)]


def call_token(secret: str, call_id: str) -> str:
    """The token a call's metadata carries: proof a webhook about it comes from Bland."""
    return hmac_hex(secret, f"bland:{call_id}".encode())


def _token_matches(payload: Any, secret: str) -> bool:
    if not isinstance(payload, dict):
        return False
    inner = payload.get("call")
    call: dict[str, Any] = inner if isinstance(inner, dict) else payload
    meta = call.get("metadata")
    if not isinstance(meta, dict):
        return False
    call_id, token = meta.get(CALL_ID_KEY), meta.get(TOKEN_KEY)
    if not isinstance(call_id, str) or not isinstance(token, str):
        return False
    return same(call_token(secret, call_id), token.lower())


def _message(data: Mapping[str, Any]) -> str:
    message = data.get("message") or data.get("errors") or "error"
    if isinstance(message, list):
        return "; ".join(str(m.get("message", m)) if isinstance(m, Mapping) else str(m)
                         for m in message)
    return str(message)

