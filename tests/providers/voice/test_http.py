"""Retries, timeouts and refusals of the shared HTTP layer, against a local VAPI server."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from uuid import uuid4

import pytest

from leadbase.config import Settings
from leadbase.providers.voice.base import CallRequest, ProviderError
from leadbase.providers.voice.http import (
    USER_AGENT,
    RetryPolicy,
    retry_after_seconds,
)
from leadbase.providers.voice.vapi import VapiProvider
from tests.providers.voice.conftest import FAST
from tests.providers.voice.servers import VAPI_KEY, Fault, VapiServer

SETTINGS = {"api_key": VAPI_KEY, "assistant_id": "asst_1", "phone_number_id": "pn_1",
            "webhook_secret": "s3cret"}


def provider(server: VapiServer, settings: Settings, policy: RetryPolicy = FAST) -> VapiProvider:
    return VapiProvider(settings, base_url=server.url, policy=policy)


def request(**overrides: object) -> CallRequest:
    return CallRequest(call_id=uuid4(), tenant_id=uuid4(), to_number="+14155550123",
                       settings={**SETTINGS, **overrides},
                       webhook_url="https://leadbase.example/api/v1/calls/webhooks/voice/vapi")


async def test_a_500_is_retried(vapi_server: VapiServer, voice_settings: Settings) -> None:
    vapi_server.fail(Fault(500, {"message": "Internal server error"}))
    placed = await provider(vapi_server, voice_settings).place_call(request())
    assert placed.external_id in vapi_server.calls
    assert [r.method for r in vapi_server.requests] == ["POST", "POST"]
    assert vapi_server.requests[0].body == vapi_server.requests[1].body


async def test_retries_run_out(vapi_server: VapiServer, voice_settings: Settings) -> None:
    vapi_server.fail_times(3, Fault(503, {"message": "Service Unavailable"}))
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).place_call(request())
    assert exc.value.retryable and exc.value.status_code == 503
    assert "Service Unavailable" in str(exc.value) and "3 attempts" in str(exc.value)
    assert len(vapi_server.requests) == 3  # the first and FAST.retries (2)
    assert not vapi_server.calls


async def test_429_waits_for_retry_after(vapi_server: VapiServer,
                                         voice_settings: Settings) -> None:
    vapi_server.fail(Fault.rate_limited(retry_after=1))
    started = time.monotonic()
    placed = await provider(vapi_server, voice_settings).place_call(request())
    assert time.monotonic() - started >= 0.95
    assert placed.external_id in vapi_server.calls
    assert len(vapi_server.requests) == 2


async def test_429_with_a_long_retry_after_gives_up_at_once(
        vapi_server: VapiServer, voice_settings: Settings) -> None:
    vapi_server.fail(Fault.rate_limited(retry_after=120))
    started = time.monotonic()
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).place_call(request())
    assert time.monotonic() - started < 1
    assert exc.value.retryable and exc.value.status_code == 429
    assert exc.value.retry_after == 120
    assert len(vapi_server.requests) == 1


async def test_429_retry_after_as_a_date(vapi_server: VapiServer,
                                         voice_settings: Settings) -> None:
    vapi_server.fail(Fault.rate_limited(retry_after=format_datetime(datetime.now(UTC),
                                                                    usegmt=True)))
    placed = await provider(vapi_server, voice_settings).place_call(request())
    assert placed.external_id in vapi_server.calls


def test_retry_after_parsing() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Mon, 07 Dec 2026 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Mon, 07 Dec 2026 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_is_bounded() -> None:
    policy = RetryPolicy(retries=10, backoff_base=0.5, backoff_max=8.0)
    assert all(0.25 <= policy.backoff(0) <= 0.5 for _ in range(50))
    assert all(4.0 <= policy.backoff(9) <= 8.0 for _ in range(50))


async def test_a_post_past_the_timeout_is_not_sent_twice(
        vapi_server: VapiServer, voice_settings: Settings) -> None:
    vapi_server.fail(Fault.hanging(3.0))
    started = time.monotonic()
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).place_call(request())
    assert time.monotonic() - started < 2
    assert exc.value.retryable and exc.value.maybe_placed
    assert "timed out" in str(exc.value)
    assert len(vapi_server.requests) == 1


async def test_a_get_past_the_timeout_is_retried(vapi_server: VapiServer,
                                                 voice_settings: Settings) -> None:
    placed = await provider(vapi_server, voice_settings).place_call(request())
    vapi_server.clear()
    vapi_server.fail(Fault.hanging(3.0))
    event = await provider(vapi_server, voice_settings).fetch_call(placed.external_id, SETTINGS)
    assert event is not None and event.external_id == placed.external_id
    assert len(vapi_server.requests) == 2
    vapi_server.clear()
    vapi_server.fail_times(3, Fault.hanging(3.0))
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).fetch_call(placed.external_id, SETTINGS)
    assert exc.value.retryable and not exc.value.maybe_placed
    assert len(vapi_server.requests) == 3


async def test_nobody_listening_is_retryable(voice_settings: Settings) -> None:
    server = VapiServer().start()
    url = server.url
    server.stop()
    vapi = VapiProvider(voice_settings, base_url=url, policy=FAST)
    with pytest.raises(ProviderError) as exc:
        await vapi.place_call(request())
    assert exc.value.retryable and not exc.value.maybe_placed
    assert "ConnectError" in str(exc.value)


async def test_a_4xx_is_final_with_the_providers_message(
        vapi_server: VapiServer, voice_settings: Settings) -> None:
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).place_call(
            CallRequest(call_id=uuid4(), tenant_id=uuid4(), to_number="4155550123",
                        settings=SETTINGS, webhook_url="https://x.example/hook"))
    assert not exc.value.retryable and exc.value.status_code == 400
    assert "customer.number must be a valid phone number in the E.164 format" in str(exc.value)
    assert len(vapi_server.requests) == 1


async def test_a_wrong_key_is_final(vapi_server: VapiServer, voice_settings: Settings) -> None:
    with pytest.raises(ProviderError) as exc:
        await provider(vapi_server, voice_settings).place_call(request(api_key="wrong"))
    assert not exc.value.retryable and exc.value.status_code == 401
    assert "Invalid Key" in str(exc.value)


async def test_settings_drive_timeouts_and_retries(vapi_server: VapiServer) -> None:
    settings = Settings(voice_timeout_seconds=0.3, voice_retries=1)
    vapi = VapiProvider(settings, base_url=vapi_server.url)
    assert vapi.policy.retries == 1
    placed = await vapi.place_call(request())
    vapi_server.clear()
    vapi_server.fail_times(2, Fault.hanging(2.0))
    started = time.monotonic()
    with pytest.raises(ProviderError):
        await vapi.fetch_call(placed.external_id, SETTINGS)
    assert len(vapi_server.requests) == 2
    assert time.monotonic() - started < 1.8


async def test_the_client_says_who_it_is(vapi_server: VapiServer,
                                         voice_settings: Settings) -> None:
    await provider(vapi_server, voice_settings).place_call(request())
    assert vapi_server.requests[0].headers["user-agent"] == USER_AGENT
