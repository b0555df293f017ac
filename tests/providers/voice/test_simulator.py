"""The simulator: deterministic fates, a realistic mix, signed delayed webhooks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from leadbase.providers.voice.base import (
    FINAL_STATUSES,
    STATUS_ORDER,
    CallRequest,
    ProviderError,
)
from leadbase.providers.voice.simulator import (
    ANSWERED,
    SIGNATURE_HEADER,
    SimulatorProvider,
    external_id_for,
    fate,
    sign,
)

SECRET = "whsec-test-secret"
PLACED_AT = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def request(call_id: UUID | None = None, **settings: object) -> CallRequest:
    return CallRequest(
        call_id=call_id or uuid4(),
        tenant_id=UUID("01900000-0000-7000-8000-000000000001"),
        to_number="+14155550123",
        settings={"webhook_secret": SECRET, **settings},
        webhook_url="http://127.0.0.1:8000/api/v1/calls/webhooks/voice/simulator",
        lead_name="Dana Smith",
        variables={"company": "Acme"},
    )


def ids(n: int) -> list[UUID]:
    return [UUID(int=(0x0190 << 112) + i) for i in range(n)]


async def test_same_call_same_fate_and_same_webhooks() -> None:
    sim = SimulatorProvider()
    call_id = uuid4()
    a = sim.deliveries(request(call_id, seed=7), placed_at=PLACED_AT)
    b = sim.deliveries(request(call_id, seed=7), placed_at=PLACED_AT)
    assert a == b
    placed = await sim.place_call(request(call_id, seed=7))
    assert placed.external_id == external_id_for(call_id)
    assert placed.status == "queued"
    assert [d.delay_seconds for d in placed.deliveries] == [d.delay_seconds for d in a]


def test_the_seed_changes_the_fates() -> None:
    calls = ids(200)
    one = [fate(c, {"seed": 1}).outcome for c in calls]
    two = [fate(c, {"seed": 2}).outcome for c in calls]
    assert one != two
    assert one == [fate(c, {"seed": 1}).outcome for c in calls]


def test_outcome_mix_over_1000_calls() -> None:
    counts = Counter(fate(c, {}).outcome for c in ids(1000))
    answered = sum(counts[o] for o in ANSWERED)
    assert 400 <= answered <= 500, counts
    assert 200 <= counts["no_answer"] <= 300, counts
    assert 100 <= counts["voicemail"] <= 200, counts
    assert 50 <= counts["busy"] <= 130, counts
    assert 30 <= counts["failed"] <= 100, counts
    assert set(counts) == {"completed", "not_interested", "hung_up", "no_answer",
                           "voicemail", "busy", "failed"}


def test_durations_are_realistic() -> None:
    fates = [fate(c, {}) for c in ids(1000)]
    talks = sorted(f.talk_seconds for f in fates if f.outcome == "completed")
    assert talks[0] >= 35 and talks[-1] <= 900
    median = talks[len(talks) // 2]
    assert 90 <= median <= 200, median
    for f in fates:
        if f.outcome in {"no_answer", "busy", "failed"}:
            assert f.talk_seconds == 0
        if f.outcome == "no_answer":
            assert 25 <= f.ring_seconds <= 45
        if f.outcome == "hung_up":
            assert 2 <= f.talk_seconds <= 9


def test_webhooks_move_forward_and_end_final() -> None:
    sim = SimulatorProvider()
    for call_id in ids(300):
        deliveries = sim.deliveries(request(call_id), placed_at=PLACED_AT)
        events = [sim.parse_webhook(d.body)[0] for d in deliveries]
        delays = [d.delay_seconds for d in deliveries]
        assert delays == sorted(delays)
        order = [STATUS_ORDER[e.status] for e in events]
        assert order == sorted(order) and len(set(order)) == len(order)
        last = events[-1]
        assert last.status in FINAL_STATUSES and last.outcome is not None
        assert all(e.status not in FINAL_STATUSES for e in events[:-1])
        assert all(e.call_id == call_id for e in events)
        assert len({e.event_id for e in events}) == len(events)
        if last.outcome == "failed":
            assert [e.status for e in events] == ["failed"]
        elif last.outcome in {"no_answer", "busy"}:
            assert [e.status for e in events] == ["ringing", "completed"]
            assert last.duration_seconds == 0 and last.transcript is None
        else:
            assert [e.status for e in events] == ["ringing", "in_progress", "completed"]
            assert last.duration_seconds and last.duration_seconds > 0
            assert last.transcript and last.summary and last.recording_url
            assert last.cost is not None and last.cost > 0
            assert last.started_at and last.ended_at
            assert (last.ended_at - last.started_at).total_seconds() == last.duration_seconds
        assert all(d.url == request(call_id).webhook_url for d in deliveries)


def test_an_answered_call_has_a_transcript_naming_the_lead() -> None:
    sim = SimulatorProvider()
    req = request(outcome="completed", agent_name="Robin")
    deliveries = sim.deliveries(req, placed_at=PLACED_AT)
    last = sim.parse_webhook(deliveries[-1].body)[0]
    assert last.outcome == "completed"
    assert last.transcript and last.transcript.startswith("Agent: ")
    assert "Dana" in last.transcript and "Robin" in last.transcript and "Acme" in last.transcript
    assert "Lead: " in last.transcript
    assert last.summary and last.summary.startswith("Dana Smith answered")


def test_time_scale_zero_delivers_at_once() -> None:
    deliveries = SimulatorProvider().deliveries(request(time_scale=0), placed_at=PLACED_AT)
    assert all(d.delay_seconds == 0 for d in deliveries)
    slow = SimulatorProvider().deliveries(request(outcome="no_answer"), placed_at=PLACED_AT)
    assert slow[-1].delay_seconds >= 25


def test_forced_outcome_and_custom_weights() -> None:
    assert {fate(c, {"outcome": "busy"}).outcome for c in ids(50)} == {"busy"}
    weights = {"outcome_weights": {"voicemail": 1, "failed": 1}}
    mix = Counter(fate(c, weights).outcome for c in ids(200))
    assert set(mix) == {"voicemail", "failed"}


def test_signatures() -> None:
    sim = SimulatorProvider()
    d = sim.deliveries(request(), placed_at=PLACED_AT)[0]
    assert sim.verify_webhook(d.headers, d.body, SECRET)
    assert sim.verify_webhook({k.upper(): v for k, v in d.headers.items()}, d.body, SECRET)
    assert not sim.verify_webhook(d.headers, d.body, "another-secret")
    assert not sim.verify_webhook(d.headers, d.body + b" ", SECRET)
    assert not sim.verify_webhook({"content-type": "application/json"}, d.body, SECRET)
    assert not sim.verify_webhook(d.headers, d.body, "")
    assert not sim.verify_webhook({SIGNATURE_HEADER: "sha256=00"}, d.body, SECRET)
    assert sign(d.body, SECRET) == dict(d.headers)


async def test_settings_are_checked() -> None:
    sim = SimulatorProvider()
    assert sim.check_settings({"webhook_secret": "s"}) == []
    assert sim.check_settings({}) == ["webhook_secret is required"]
    assert sim.check_settings({"webhook_secret": "s", "outcome": "maybe"})
    assert sim.check_settings({"webhook_secret": "s", "outcome_weights": {"nope": 1}})
    assert sim.check_settings({"webhook_secret": "s", "outcome_weights": {"busy": 0}})
    assert sim.check_settings({"webhook_secret": "s", "time_scale": -1})
    assert sim.check_settings({"webhook_secret": "s", "seed": "x"})
    bad = CallRequest(call_id=uuid4(), tenant_id=uuid4(), to_number="+14155550123",
                      settings={}, webhook_url="http://x")
    with pytest.raises(ProviderError) as exc:
        await sim.place_call(bad)
    assert not exc.value.retryable and "webhook_secret" in str(exc.value)


async def test_fetch_call_reports_the_end() -> None:
    now = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    sim = SimulatorProvider(clock=lambda: now)
    call_id = uuid4()
    settings = {"webhook_secret": SECRET, "seed": 3}
    event = await sim.fetch_call(external_id_for(call_id), settings)
    assert event is not None and event.status in FINAL_STATUSES
    assert event.occurred_at == now and event.call_id == call_id
    final = sim.parse_webhook(sim.deliveries(request(call_id, seed=3), placed_at=now)[-1].body)[0]
    assert (event.outcome, event.duration_seconds) == (final.outcome, final.duration_seconds)
    assert await sim.fetch_call("vapi-call-1", settings) is None


def test_bad_bodies_are_refused() -> None:
    sim = SimulatorProvider()
    for body in (b"", b"not json", b"[]", b'{"type": "other"}',
                 json.dumps({"type": "call.status", "call_id": "x", "status": "flying",
                             "occurred_at": "2026-12-07T15:00:00Z"}).encode(),
                 json.dumps({"type": "call.status", "call_id": "x", "status": "ringing"}).encode()):
        with pytest.raises(ValueError):
            sim.parse_webhook(body)


def test_occurred_at_follows_the_delays() -> None:
    sim = SimulatorProvider()
    deliveries = sim.deliveries(request(), placed_at=PLACED_AT)
    for d in deliveries:
        event = sim.parse_webhook(d.body)[0]
        assert event.occurred_at == PLACED_AT + timedelta(seconds=d.delay_seconds)


def test_time_scale_shortens_the_timestamps_not_the_duration() -> None:
    sim = SimulatorProvider()
    call_id = ids(1)[0]
    normal = sim.deliveries(request(call_id, outcome="completed"), placed_at=PLACED_AT)
    fast = sim.deliveries(request(call_id, outcome="completed", time_scale=0.1),
                          placed_at=PLACED_AT)
    a, b = sim.parse_webhook(normal[-1].body)[0], sim.parse_webhook(fast[-1].body)[0]
    assert a.duration_seconds == b.duration_seconds
    drift = (b.occurred_at - PLACED_AT) - (a.occurred_at - PLACED_AT) * 0.1
    assert abs(drift) < timedelta(milliseconds=2)
    assert fast[-1].delay_seconds == pytest.approx(normal[-1].delay_seconds * 0.1, abs=0.002)
    instant = sim.deliveries(request(call_id, time_scale=0), placed_at=PLACED_AT)
    assert {sim.parse_webhook(d.body)[0].occurred_at for d in instant} == {PLACED_AT}
