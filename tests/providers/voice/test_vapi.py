"""VAPI: the request it gets, reading calls back, webhook verification and parsing."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from leadbase.config import Settings
from leadbase.providers.voice.base import CallRequest, ProviderError
from leadbase.providers.voice.registry import get_provider
from leadbase.providers.voice.vapi import VapiProvider, outcome_for
from tests.providers.voice.conftest import FAST
from tests.providers.voice.servers import VAPI_KEY, VapiServer, vapi_signed

SECRET = "vapi-server-secret"
SETTINGS = {"api_key": VAPI_KEY, "assistant_id": "asst_5c1f", "phone_number_id": "pn_81a2",
            "webhook_secret": SECRET}
HOOK = "https://leadbase.example/api/v1/calls/webhooks/voice/vapi"
TENANT = UUID("01900000-0000-7000-8000-00000000000a")


def request(call_id: UUID | None = None, **settings: object) -> CallRequest:
    return CallRequest(call_id=call_id or uuid4(), tenant_id=TENANT, to_number="+34600111222",
                       settings={**SETTINGS, **settings}, webhook_url=HOOK,
                       lead_name="Lucía Pérez", variables={"company": "Acme"})


@pytest.fixture
def vapi(vapi_server: VapiServer, voice_settings: Settings) -> VapiProvider:
    return VapiProvider(voice_settings, base_url=vapi_server.url, policy=FAST)


async def test_the_create_call_request(vapi: VapiProvider, vapi_server: VapiServer) -> None:
    call_id = uuid4()
    placed = await vapi.place_call(request(call_id))
    assert placed.status == "queued" and placed.deliveries == ()
    (sent,) = vapi_server.requests
    assert (sent.method, sent.path) == ("POST", "/call")
    assert sent.headers["authorization"] == f"Bearer {VAPI_KEY}"
    assert sent.headers["content-type"] == "application/json"
    body = sent.json
    assert body["assistantId"] == "asst_5c1f" and "assistant" not in body
    assert body["phoneNumberId"] == "pn_81a2"
    assert body["customer"] == {"number": "+34600111222", "name": "Lucía Pérez"}
    overrides = body["assistantOverrides"]
    assert overrides["metadata"] == {"leadbase_call_id": str(call_id),
                                     "leadbase_tenant_id": str(TENANT)}
    assert overrides["server"] == {"url": HOOK, "headers": {"X-Vapi-Secret": SECRET}}
    assert overrides["variableValues"] == {"company": "Acme", "lead_name": "Lucía Pérez"}
    assert placed.external_id == vapi_server.calls[placed.external_id]["id"]


async def test_a_transient_assistant_and_overrides(vapi: VapiProvider,
                                                   vapi_server: VapiServer) -> None:
    assistant = {"firstMessage": "Hi!", "model": {"provider": "openai", "model": "gpt-4o"}}
    await vapi.place_call(request(assistant_id=None, assistant=assistant,
                                  assistant_overrides={"maxDurationSeconds": 300,
                                                       "variableValues": {"x": "1"}}))
    body = vapi_server.requests[0].json
    assert body["assistant"] == assistant and "assistantId" not in body
    assert body["assistantOverrides"]["maxDurationSeconds"] == 300
    assert body["assistantOverrides"]["variableValues"]["x"] == "1"


async def test_incomplete_settings_are_refused_before_any_request(
        vapi: VapiProvider, vapi_server: VapiServer) -> None:
    assert vapi.check_settings(SETTINGS) == []
    assert set(vapi.check_settings({})) == {
        "api_key is required", "phone_number_id is required", "webhook_secret is required",
        "assistant_id or assistant is required"}
    with pytest.raises(ProviderError) as exc:
        await vapi.place_call(request(phone_number_id=None))
    assert not exc.value.retryable and "phone_number_id" in str(exc.value)
    assert vapi_server.requests == []
    assert vapi.secret_settings == {"api_key", "webhook_secret"}


async def test_fetch_call(vapi: VapiProvider, vapi_server: VapiServer) -> None:
    call_id = uuid4()
    placed = await vapi.place_call(request(call_id))
    event = await vapi.fetch_call(placed.external_id, SETTINGS)
    assert event is not None
    assert (event.status, event.outcome, event.call_id) == ("queued", None, call_id)
    vapi_server.end_of_call_report(placed.external_id, ended_reason="customer-busy",
                                   duration=0, transcript=None, summary=None,
                                   recording_url=None, cost=0)
    event = await vapi.fetch_call(placed.external_id, SETTINGS)
    assert event is not None and (event.status, event.outcome) == ("completed", "busy")
    assert vapi_server.requests[-1].path == f"/call/{placed.external_id}"
    assert vapi_server.requests[-1].headers["authorization"] == f"Bearer {VAPI_KEY}"
    assert await vapi.fetch_call("no-such-call", SETTINGS) is None


async def test_fetch_an_ended_call_with_its_artifacts(vapi: VapiProvider,
                                                      vapi_server: VapiServer) -> None:
    placed = await vapi.place_call(request())
    vapi_server.end_of_call_report(placed.external_id, ended_reason="assistant-ended-call",
                                   duration=120)
    event = await vapi.fetch_call(placed.external_id, SETTINGS)
    assert event is not None
    assert (event.status, event.outcome, event.duration_seconds) == ("completed", "completed",
                                                                     120)
    assert event.recording_url == "https://storage.vapi.ai/rec-mono.wav"
    assert event.summary == "The lead agreed to a demo on Thursday."
    assert event.cost == Decimal("0.1342")


def test_the_registry_uses_the_settings(vapi_server: VapiServer) -> None:
    provider = get_provider("vapi", Settings(vapi_base_url=vapi_server.url + "/"))
    assert isinstance(provider, VapiProvider) and provider.base_url == vapi_server.url


# -- verification ------------------------------------------------------------------
PAYLOAD = {"message": {"type": "status-update", "status": "ringing", "timestamp": 1765119600000,
                       "call": {"id": "c1"}}}


@pytest.mark.parametrize("scheme", ["secret", "bearer", "hmac", "hmac-timestamp"])
def test_each_vapi_scheme_verifies(scheme: str, voice_settings: Settings) -> None:
    vapi = VapiProvider(voice_settings)
    headers, body = vapi_signed(PAYLOAD, SECRET, scheme=scheme)
    assert vapi.verify_webhook(headers, body, SECRET)
    assert not vapi.verify_webhook(headers, body, "another-secret")
    if scheme.startswith("hmac"):
        assert not vapi.verify_webhook(headers, body + b"\n", SECRET)


def test_missing_or_stale_signatures_fail(voice_settings: Settings) -> None:
    vapi = VapiProvider(voice_settings)
    body = json.dumps(PAYLOAD).encode()
    assert not vapi.verify_webhook({"content-type": "application/json"}, body, SECRET)
    assert not vapi.verify_webhook({"x-vapi-secret": ""}, body, SECRET)
    assert not vapi.verify_webhook({"x-vapi-secret": SECRET}, body, "")
    assert not vapi.verify_webhook({"authorization": "Basic abc"}, body, SECRET)
    assert vapi.verify_webhook({"X-Vapi-Secret": SECRET}, body, SECRET)
    assert vapi.verify_webhook({"X-Vapi-Signature": SECRET}, body, SECRET)  # the older docs
    stale = str(int(time.time()) - 3600)
    from leadbase.providers.voice.common import hmac_hex

    signature = hmac_hex(SECRET, stale.encode() + b"." + body)
    assert not vapi.verify_webhook({"x-timestamp": stale, "x-signature": signature}, body, SECRET)
    fresh = str(int(time.time() * 1000))
    signature = hmac_hex(SECRET, fresh.encode() + b"." + body)
    assert vapi.verify_webhook({"x-timestamp": fresh, "x-signature": signature}, body, SECRET)
    assert not vapi.verify_webhook({"x-timestamp": "later", "x-signature": signature}, body,
                                   SECRET)


# -- parsing -----------------------------------------------------------------------
async def placed_call(vapi: VapiProvider) -> tuple[UUID, str]:
    call_id = uuid4()
    placed = await vapi.place_call(request(call_id))
    return call_id, placed.external_id


@pytest.mark.parametrize(("vapi_status", "ours"), [
    ("queued", "queued"), ("ringing", "ringing"), ("in-progress", "in_progress"),
    ("forwarding", "in_progress"),
])
async def test_status_updates(vapi: VapiProvider, vapi_server: VapiServer, vapi_status: str,
                              ours: str) -> None:
    call_id, external_id = await placed_call(vapi)
    headers, body = vapi_signed(vapi_server.status_update(external_id, vapi_status), SECRET)
    assert vapi.verify_webhook(headers, body, SECRET)
    (event,) = vapi.parse_webhook(body)
    assert (event.external_id, event.call_id, event.status) == (external_id, call_id, ours)
    assert event.outcome is None and event.duration_seconds is None
    assert event.occurred_at.tzinfo is not None
    assert vapi.parse_webhook(body)[0].event_id == event.event_id  # the same event twice


async def test_an_ended_status_update(vapi: VapiProvider, vapi_server: VapiServer) -> None:
    _, external_id = await placed_call(vapi)
    payload = vapi_server.status_update(external_id, "ended",
                                        ended_reason="customer-did-not-answer")
    (event,) = vapi.parse_webhook(json.dumps(payload).encode())
    assert (event.status, event.outcome, event.duration_seconds) == ("completed", "no_answer", 0)


ENDED_REASONS = [
    ("customer-ended-call", 95.4, "completed", "completed"),
    ("customer-ended-call", 4.0, "completed", "hung_up"),
    ("assistant-ended-call", 60.0, "completed", "completed"),
    ("assistant-said-end-call-phrase", 80.0, "completed", "completed"),
    ("assistant-forwarded-call", 45.0, "completed", "completed"),
    ("exceeded-max-duration", 600.0, "completed", "completed"),
    ("silence-timed-out", 30.0, "completed", "completed"),
    ("voicemail", 21.0, "completed", "voicemail"),
    ("customer-did-not-answer", 0.0, "completed", "no_answer"),
    ("customer-busy", 0.0, "completed", "busy"),
    ("twilio-failed-to-connect-call", 0.0, "failed", "failed"),
    ("pipeline-error-openai-llm-failed", 3.0, "failed", "failed"),
    ("call.start.error-get-phone-number", 0.0, "failed", "failed"),
    ("call.in-progress.error-vapifault-transport-never-connected", 0.0, "failed", "failed"),
    ("assistant-error", 0.0, "failed", "failed"),
    ("phone-call-provider-closed-websocket", 12.0, "failed", "failed"),
    ("manually-canceled", 0.0, "failed", "failed"),
]


@pytest.mark.parametrize(("reason", "duration", "status", "outcome"), ENDED_REASONS)
async def test_end_of_call_reports(vapi: VapiProvider, vapi_server: VapiServer, reason: str,
                                   duration: float, status: str, outcome: str) -> None:
    call_id, external_id = await placed_call(vapi)
    answered = outcome in {"completed", "hung_up", "voicemail"}
    payload = vapi_server.end_of_call_report(
        external_id, ended_reason=reason, duration=duration,
        transcript="AI: Hello.\nUser: Hi." if answered else None,
        summary="A short call." if answered else None,
        recording_url="https://storage.vapi.ai/r.wav" if answered else None,
        cost=0.05 if answered else 0)
    headers, body = vapi_signed(payload, SECRET, scheme="hmac")
    assert vapi.verify_webhook(headers, body, SECRET)
    (event,) = vapi.parse_webhook(body)
    assert (event.status, event.outcome) == (status, outcome)
    assert event.call_id == call_id and event.external_id == external_id
    if answered:
        assert event.duration_seconds == round(duration)
        assert event.transcript == "AI: Hello.\nUser: Hi."
        assert event.summary == "A short call."
        assert event.recording_url == "https://storage.vapi.ai/r.wav"
        assert event.cost == Decimal("0.05")
        assert event.started_at and event.ended_at and event.ended_at > event.started_at
    else:
        assert event.duration_seconds == 0 and event.transcript is None
    assert event.raw["type"] == "end-of-call-report"


def test_unknown_reasons_fall_back_sensibly() -> None:
    assert outcome_for("some-new-error-code") == ("failed", "failed")
    assert outcome_for("a-brand-new-reason") == ("completed", "completed")
    assert outcome_for(None) == ("failed", "failed")


def test_an_older_report_with_top_level_fields(voice_settings: Settings) -> None:
    vapi = VapiProvider(voice_settings)
    call_id = uuid4()
    body = json.dumps({"message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "timestamp": "2026-12-07T10:02:00.000Z", "transcript": "AI: Hi\nUser: Bye",
        "summary": "Brief.", "recordingUrl": "https://r.example/1.wav", "cost": "0.02",
        "startedAt": "2026-12-07T10:00:00.000Z", "endedAt": "2026-12-07T10:01:30.000Z",
        "call": {"id": "call-old", "assistantOverrides": {
            "metadata": {"leadbase_call_id": str(call_id)}}},
    }}).encode()
    (event,) = vapi.parse_webhook(body)
    assert (event.outcome, event.duration_seconds, event.call_id) == ("completed", 90, call_id)
    assert (event.transcript, event.summary, event.recording_url) == (
        "AI: Hi\nUser: Bye", "Brief.", "https://r.example/1.wav")
    assert event.cost == Decimal("0.02")


def test_transcripts_and_other_messages(voice_settings: Settings) -> None:
    vapi = VapiProvider(voice_settings)
    call = {"id": "c9", "createdAt": "2026-12-07T10:00:00Z"}

    def msg(**m: object) -> bytes:
        return json.dumps({"message": {"call": call, "timestamp": 1765101600000, **m}}).encode()

    assert vapi.parse_webhook(msg(type="transcript", role="user", transcriptType="partial",
                                  transcript="Hel")) == []
    (live,) = vapi.parse_webhook(msg(type="transcript", role="user", transcriptType="final",
                                     transcript="Hello there"))
    assert live.status == "in_progress" and live.transcript is None
    assert live.raw["transcript"] == "Hello there"
    for other in ("speech-update", "conversation-update", "hang", "tool-calls",
                  "user-interrupted"):
        assert vapi.parse_webhook(msg(type=other)) == []


@pytest.mark.parametrize("body", [
    b"", b"nope", b"[]", b'{"type": "status-update"}', b'{"message": {}}',
    b'{"message": {"type": "status-update", "status": "ringing"}}',
    b'{"message": {"type": "end-of-call-report", "call": {"id": ""}, "timestamp": 1}}',
    b'{"message": {"type": "status-update", "status": "ringing", "call": {"id": "c"}}}',
])
def test_unreadable_bodies(body: bytes, voice_settings: Settings) -> None:
    with pytest.raises(ValueError):
        VapiProvider(voice_settings).parse_webhook(body)
