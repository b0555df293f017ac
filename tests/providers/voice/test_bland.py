"""Bland: the request it gets, reading calls back, webhook verification and parsing."""

from __future__ import annotations

import json
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from leadbase.config import Settings
from leadbase.providers.voice.base import CallRequest, ProviderError
from leadbase.providers.voice.bland import BlandProvider
from leadbase.providers.voice.registry import get_provider
from tests.providers.voice.conftest import FAST
from tests.providers.voice.servers import BLAND_KEY, BlandServer, Fault, bland_signed

SECRET = "bland-signing-secret"
SETTINGS = {"api_key": BLAND_KEY, "task": "Qualify the lead and book a demo.",
            "from_number": "+15005550006", "voice": "maya", "webhook_secret": SECRET}
HOOK = "https://leadbase.example/api/v1/calls/webhooks/voice/bland"
TENANT = UUID("01900000-0000-7000-8000-00000000000b")


def request(call_id: UUID | None = None, **settings: object) -> CallRequest:
    return CallRequest(call_id=call_id or uuid4(), tenant_id=TENANT, to_number="+14155550123",
                       settings={**SETTINGS, **settings}, webhook_url=HOOK,
                       lead_name="Sam Lee", variables={"company": "Acme"})


@pytest.fixture
def bland(bland_server: BlandServer, voice_settings: Settings) -> BlandProvider:
    return BlandProvider(voice_settings, base_url=bland_server.url, policy=FAST)


async def test_the_send_call_request(bland: BlandProvider, bland_server: BlandServer) -> None:
    call_id = uuid4()
    placed = await bland.place_call(request(call_id))
    assert placed.status == "queued" and placed.external_id in bland_server.calls
    (sent,) = bland_server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/calls")
    assert sent.headers["authorization"] == BLAND_KEY
    body = sent.json
    assert body["phone_number"] == "+14155550123"
    assert body["task"] == "Qualify the lead and book a demo." and "pathway_id" not in body
    assert body["from"] == "+15005550006" and body["voice"] == "maya"
    assert body["webhook"] == HOOK and body["record"] is True
    assert body["metadata"] == {"leadbase_call_id": str(call_id),
                                "leadbase_tenant_id": str(TENANT)}
    assert body["request_data"] == {"company": "Acme", "lead_name": "Sam Lee"}
    assert "webhook_secret" not in json.dumps(body) and SECRET not in json.dumps(body)


async def test_a_pathway_and_extra_options(bland: BlandProvider,
                                           bland_server: BlandServer) -> None:
    await bland.place_call(request(task=None, pathway_id="pw_123", max_duration=5,
                                   call_options={"wait_for_greeting": True, "record": False}))
    body = bland_server.requests[0].json
    assert body["pathway_id"] == "pw_123" and "task" not in body
    assert body["max_duration"] == 5 and body["wait_for_greeting"] is True
    assert body["record"] is False


async def test_settings_are_checked(bland: BlandProvider, bland_server: BlandServer) -> None:
    assert bland.check_settings(SETTINGS) == []
    assert set(bland.check_settings({})) == {"api_key is required", "webhook_secret is required",
                                              "task or pathway_id is required"}
    assert bland.check_settings({**SETTINGS, "from_number": "5550006"})
    assert bland.check_settings({**SETTINGS, "max_duration": 0})
    with pytest.raises(ProviderError) as exc:
        await bland.place_call(request(task=None))
    assert not exc.value.retryable and "task or pathway_id" in str(exc.value)
    assert bland_server.requests == []


async def test_refusals_carry_blands_message(bland: BlandProvider,
                                             bland_server: BlandServer) -> None:
    with pytest.raises(ProviderError) as exc:
        await bland.place_call(request(api_key="wrong"))
    assert not exc.value.retryable and exc.value.status_code == 401
    assert "Invalid authorization header" in str(exc.value)
    bad = CallRequest(call_id=uuid4(), tenant_id=TENANT, to_number="555", settings=SETTINGS,
                      webhook_url=HOOK)
    with pytest.raises(ProviderError) as exc:
        await bland.place_call(bad)
    assert exc.value.status_code == 400 and "Invalid phone_number" in str(exc.value)
    bland_server.fail(Fault(200, {"status": "error", "message": "Insufficient balance"}))
    with pytest.raises(ProviderError) as exc:
        await bland.place_call(request())
    assert not exc.value.retryable and "Insufficient balance" in str(exc.value)


async def test_5xx_429_and_timeouts(bland: BlandProvider, bland_server: BlandServer) -> None:
    bland_server.fail(Fault(502, b"<html>Bad Gateway</html>"), Fault.rate_limited(0))
    placed = await bland.place_call(request())
    assert len(bland_server.requests) == 3 and placed.external_id in bland_server.calls
    bland_server.clear()
    bland_server.fail(Fault.hanging(3.0))
    with pytest.raises(ProviderError) as exc:
        await bland.place_call(request())
    assert exc.value.retryable and exc.value.maybe_placed and len(bland_server.requests) == 1


async def test_fetch_call(bland: BlandProvider, bland_server: BlandServer) -> None:
    call_id = uuid4()
    placed = await bland.place_call(request(call_id))
    event = await bland.fetch_call(placed.external_id, SETTINGS)
    assert event is not None
    assert (event.status, event.outcome, event.call_id) == ("queued", None, call_id)
    bland_server.finish(placed.external_id, answered_by="human", call_length=2.5)
    event = await bland.fetch_call(placed.external_id, SETTINGS)
    assert event is not None
    assert (event.status, event.outcome, event.duration_seconds) == ("completed", "completed",
                                                                     150)
    assert bland_server.requests[-1].path == f"/v1/calls/{placed.external_id}"
    assert bland_server.requests[-1].headers["authorization"] == BLAND_KEY
    assert await bland.fetch_call("no-such-call", SETTINGS) is None


def test_the_registry_uses_the_settings(bland_server: BlandServer) -> None:
    provider = get_provider("bland", Settings(bland_base_url=bland_server.url))
    assert isinstance(provider, BlandProvider) and provider.base_url == bland_server.url


# -- webhooks ----------------------------------------------------------------------
async def test_signature_good_bad_missing(bland: BlandProvider,
                                          bland_server: BlandServer) -> None:
    placed = await bland.place_call(request())
    headers, body = bland_signed(bland_server.finish(placed.external_id), SECRET)
    assert bland.verify_webhook(headers, body, SECRET)
    assert bland.verify_webhook({"X-Webhook-Signature": headers["x-webhook-signature"]},
                                body, SECRET)
    assert not bland.verify_webhook(headers, body, "another")
    assert not bland.verify_webhook(headers, body.replace(b"human", b"robot"), SECRET)
    assert not bland.verify_webhook({"content-type": "application/json"}, body, SECRET)
    assert not bland.verify_webhook(headers, body, "")
    # Signed over the compact JSON (Bland's own example), delivered pretty-printed.
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert bland.verify_webhook(headers, pretty, SECRET)
    assert not bland.verify_webhook(headers, b"not json", SECRET)


FINISHES = [
    ({"answered_by": "human", "call_length": 2.0}, "completed", "completed", 120),
    ({"answered_by": "human", "call_length": 0.1, "call_ended_by": "USER"}, "completed",
     "hung_up", 6),
    ({"answered_by": "human", "call_length": 0.1, "call_ended_by": "ASSISTANT"}, "completed",
     "completed", 6),
    ({"answered_by": "voicemail", "call_length": 0.4}, "completed", "voicemail", 24),
    ({"answered_by": "no-answer", "call_length": 0}, "completed", "no_answer", 0),
    ({"answered_by": None, "call_length": 0}, "completed", "no_answer", 0),
    ({"answered_by": None, "call_length": 0, "status": "no-answer"}, "completed", "no_answer", 0),
    ({"answered_by": None, "call_length": 0, "status": "busy"}, "completed", "busy", 0),
    ({"answered_by": None, "call_length": 0, "status": "failed",
      "error_message": "Invalid from number"}, "failed", "failed", 0),
    ({"answered_by": None, "call_length": 0, "error_message": "Carrier rejected the call"},
     "failed", "failed", 0),
    ({"answered_by": "unknown", "call_length": 1.0}, "completed", "completed", 60),
]


@pytest.mark.parametrize(("finish", "status", "outcome", "duration"), FINISHES)
async def test_post_call_webhooks(bland: BlandProvider, bland_server: BlandServer,
                                  finish: dict[str, object], status: str, outcome: str,
                                  duration: int) -> None:
    call_id = uuid4()
    placed = await bland.place_call(request(call_id))
    headers, body = bland_signed(bland_server.finish(placed.external_id, **finish), SECRET)
    assert bland.verify_webhook(headers, body, SECRET)
    (event,) = bland.parse_webhook(body)
    assert (event.status, event.outcome, event.duration_seconds) == (status, outcome, duration)
    assert event.external_id == placed.external_id and event.call_id == call_id
    assert event.occurred_at == event.ended_at
    talked = outcome in {"completed", "hung_up", "voicemail"}
    assert (event.transcript is not None) == talked
    if talked:
        assert event.transcript and event.transcript.startswith("assistant: Hi, this is Alex")
        assert event.recording_url and event.recording_url.endswith(".mp3")
        assert event.summary == "The lead asked for a proposal by email."
        assert event.cost == Decimal("0.144")
    assert bland.parse_webhook(body)[0].event_id == event.event_id


def test_a_call_in_progress_and_a_wrapped_event(voice_settings: Settings) -> None:
    bland = BlandProvider(voice_settings)
    live = {"call_id": "b-1", "status": "in-progress", "completed": False,
            "started_at": "2026-12-07T10:00:00Z", "metadata": {}}
    (event,) = bland.parse_webhook(json.dumps(live).encode())
    assert (event.status, event.outcome, event.ended_at) == ("in_progress", None, None)
    wrapped = {"call": {**live, "status": "ringing"}}
    assert bland.parse_webhook(json.dumps(wrapped).encode())[0].status == "ringing"
    transcripts = {"call_id": "b-2", "completed": True, "call_length": 1,
                   "answered_by": "human", "end_at": "2026-12-07T10:01:00Z",
                   "transcripts": [{"user": "assistant", "text": "Hi"},
                                   {"user": "user", "text": "Hello"}]}
    (done,) = bland.parse_webhook(json.dumps(transcripts).encode())
    assert done.transcript == "assistant: Hi\nuser: Hello" and done.call_id is None


@pytest.mark.parametrize("body", [
    b"", b"{", b"[1]", b'{"status": "completed"}', b'{"call_id": "x", "completed": true}',
])
def test_unreadable_bodies(body: bytes, voice_settings: Settings) -> None:
    with pytest.raises(ValueError):
        BlandProvider(voice_settings).parse_webhook(body)
