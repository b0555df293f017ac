"""The simulator: a voice provider that places no real call.

Each call's fate is drawn from a random generator seeded with the agent's ``seed``
setting and Leadbase's call id, so the same call always goes the same way: an outcome
from a realistic mix (about 45% answered, with a transcript and a summary; no answer;
voicemail; busy; failed), ring time, talk time, cost. ``place_call`` answers at once and
returns, in ``PlacedCall.deliveries``, the status webhooks the call would have sent
(``ringing`` → ``in_progress`` → ``completed``, or ``failed``), each with its delay and
signed with the agent's ``webhook_secret``: the dialer delivers them later to the same
ingestion endpoint as a real provider's, so the whole flow runs with no account.

Its webhook: a JSON body ``{"event_id", "type": "call.status", "call_id" (the
simulator's id), "leadbase_call_id", "tenant_id", "sequence", "status", "outcome",
"occurred_at", "started_at", "ended_at", "duration_seconds", "transcript", "summary",
"recording_url", "cost"}`` with ``X-Simulator-Signature: sha256=<hex HMAC-SHA256 of the
body under the agent's webhook secret>``.

Agent settings: ``webhook_secret`` (required), ``seed`` (int, default 0),
``time_scale`` (delays are multiplied by it: 1 is real time, 0 delivers at once; default
1), ``outcome`` (force one outcome, e.g. for a demo or a test), ``outcome_weights``
(``{outcome: weight}``, to change the mix), ``agent_name`` (the name the agent speaks as).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from leadbase.providers.voice.base import (
    STATUS_ORDER,
    CallEvent,
    CallOutcome,
    CallRequest,
    CallStatus,
    PlacedCall,
    ProviderError,
    ScheduledDelivery,
)
from leadbase.providers.voice.common import (
    hmac_hex,
    load_json,
    lower_headers,
    parse_decimal,
    parse_time,
    parse_uuid,
    signature_matches,
)
from leadbase.providers.voice.script import conversation

SIGNATURE_HEADER = "x-simulator-signature"
EXTERNAL_PREFIX = "sim_"
RECORDINGS_BASE = "https://simulator.leadbase.invalid/recordings"
# The mix: answered (completed + not_interested + hung_up) 45%.
DEFAULT_WEIGHTS: dict[str, float] = {
    "completed": 36, "not_interested": 6, "hung_up": 3,
    "no_answer": 25, "voicemail": 15, "busy": 9, "failed": 6,
}
OUTCOMES: frozenset[str] = frozenset(DEFAULT_WEIGHTS)
ANSWERED: frozenset[str] = frozenset({"completed", "not_interested", "hung_up"})
PRICE_PER_MINUTE = Decimal("0.09")


@dataclass(frozen=True, slots=True)
class Fate:
    """How one simulated call goes (times in seconds after it is placed)."""

    outcome: CallOutcome
    dial_seconds: float  # until it rings
    ring_seconds: float  # ringing, until answered (or given up)
    talk_seconds: int  # after answer: the billed duration (0 when nobody answered)
    script: int  # which conversation variant

    @property
    def answered(self) -> bool:
        return self.outcome in ANSWERED or self.outcome == "voicemail"


def _weights(settings: Mapping[str, Any]) -> dict[str, float]:
    forced = settings.get("outcome")
    if forced:
        return {str(forced): 1.0}
    custom = settings.get("outcome_weights")
    if isinstance(custom, Mapping) and custom:
        return {str(k): float(v) for k, v in custom.items()}
    return DEFAULT_WEIGHTS


def fate(call_id: UUID, settings: Mapping[str, Any]) -> Fate:
    """The deterministic fate of a call: same seed and call id, same fate."""
    rng = random.Random(f"{settings.get('seed', 0)}:{call_id}")
    weights = _weights(settings)
    outcome = cast(CallOutcome, rng.choices(list(weights), weights=list(weights.values()))[0])
    dial = round(rng.uniform(0.5, 2.5), 2)
    script = rng.randrange(1_000_000)
    if outcome == "failed":
        return Fate(outcome, dial, 0.0, 0, script)
    if outcome == "busy":
        return Fate(outcome, dial, round(rng.uniform(1.0, 4.0), 2), 0, script)
    if outcome == "no_answer":
        return Fate(outcome, dial, round(rng.uniform(25.0, 45.0), 2), 0, script)
    ring = round(rng.uniform(4.0, 22.0), 2)
    if outcome == "voicemail":
        talk = rng.randint(18, 40)
    elif outcome == "hung_up":
        talk = rng.randint(2, 9)
    elif outcome == "not_interested":
        talk = rng.randint(15, 75)
    else:  # a conversation: mostly one to four minutes, now and then much longer
        talk = min(900, max(35, round(rng.lognormvariate(4.9, 0.55))))
    return Fate(outcome, dial, ring, talk, script)


def external_id_for(call_id: UUID) -> str:
    return f"{EXTERNAL_PREFIX}{call_id.hex}"


def call_id_from(external_id: str) -> UUID | None:
    if not external_id.startswith(EXTERNAL_PREFIX):
        return None
    return parse_uuid(external_id[len(EXTERNAL_PREFIX):])


def _cost(talk_seconds: int) -> Decimal:
    if talk_seconds <= 0:
        return Decimal("0.0000")
    return (PRICE_PER_MINUTE * talk_seconds / 60).quantize(Decimal("0.0001"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def timeline(
    call_id: UUID,
    settings: Mapping[str, Any],
    *,
    placed_at: datetime,
    tenant_id: UUID | None = None,
    lead_name: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[tuple[float, dict[str, Any]]]:
    """The webhooks the call sends: ``(seconds after placing, payload)``, in order.

    Delays and timestamps follow the agent's ``time_scale``; ``duration_seconds`` stays
    the simulated talk time (so at a scale of 0 everything is stamped ``placed_at``).
    """
    f = fate(call_id, settings)
    scale = _scale(settings)

    def moment(at: float) -> str:
        return _iso(placed_at + timedelta(seconds=at * scale))

    ext = external_id_for(call_id)
    base: dict[str, Any] = {
        "type": "call.status", "call_id": ext, "leadbase_call_id": str(call_id),
        "tenant_id": str(tenant_id) if tenant_id else None,
    }
    steps: list[tuple[float, dict[str, Any]]] = []

    def add(at: float, status: CallStatus, **extra: Any) -> None:
        payload = {**base, "sequence": len(steps) + 1, "status": status,
                   "occurred_at": moment(at), **extra}
        payload["event_id"] = f"{ext}:{payload['sequence']}:{status}"
        steps.append((at * scale, payload))

    if f.outcome == "failed":
        add(f.dial_seconds, "failed", outcome="failed", duration_seconds=0,
            ended_at=moment(f.dial_seconds),
            cost="0.0000", error="carrier rejected the call (simulated)")
        return steps
    rang_at = f.dial_seconds
    add(rang_at, "ringing")
    if not f.answered:
        end = rang_at + f.ring_seconds
        add(end, "completed", outcome=f.outcome, duration_seconds=0,
            ended_at=moment(end), cost="0.0000")
        return steps
    answered_at = rang_at + f.ring_seconds
    add(answered_at, "in_progress", started_at=moment(answered_at))
    end = answered_at + f.talk_seconds
    # The report comes a few seconds after hang-up (the provider's post-processing).
    transcript, summary = conversation(
        f.outcome, f.script, lead_name=lead_name,
        agent_name=str(settings.get("agent_name") or "Alex"), variables=variables or {},
    )
    add(end + 3, "completed", outcome=f.outcome, duration_seconds=f.talk_seconds,
        started_at=moment(answered_at), ended_at=moment(end),
        transcript=transcript, summary=summary,
        recording_url=f"{RECORDINGS_BASE}/{ext}.mp3", cost=str(_cost(f.talk_seconds)))
    return steps


def _scale(settings: Mapping[str, Any]) -> float:
    try:
        scale = float(settings.get("time_scale", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return max(0.0, scale)


def sign(body: bytes, secret: str) -> dict[str, str]:
    """The headers a simulator webhook carries."""
    signature = "sha256=" + hmac_hex(secret, body)
    return {"content-type": "application/json", SIGNATURE_HEADER: signature}


class SimulatorProvider:
    """Places no call; see the module docstring."""

    name = "simulator"
    secret_settings: frozenset[str] = frozenset({"webhook_secret"})

    def __init__(self, *, clock: Any = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        problems = []
        if not settings.get("webhook_secret"):
            problems.append("webhook_secret is required")
        forced = settings.get("outcome")
        if forced and forced not in OUTCOMES:
            problems.append(f"outcome must be one of {', '.join(sorted(OUTCOMES))}")
        weights = settings.get("outcome_weights")
        if weights is not None:
            if not isinstance(weights, Mapping) or not weights:
                problems.append("outcome_weights must be an object of outcome: weight")
            else:
                for key, value in weights.items():
                    if key not in OUTCOMES:
                        problems.append(f"outcome_weights: unknown outcome {key!r}")
                    elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                        problems.append(f"outcome_weights.{key} must be a number >= 0")
                if not problems and sum(float(v) for v in weights.values()) <= 0:
                    problems.append("outcome_weights must not all be 0")
        for key in ("seed",):
            if key in settings and not isinstance(settings[key], int):
                problems.append(f"{key} must be an integer")
        if "time_scale" in settings:
            value = settings["time_scale"]
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                problems.append("time_scale must be a number >= 0")
        return problems

    def deliveries(self, request: CallRequest, *, placed_at: datetime | None = None
                   ) -> tuple[ScheduledDelivery, ...]:
        """The signed status webhooks of the call, each with its delay."""
        secret = str(request.settings.get("webhook_secret") or "")
        if not secret:
            raise ProviderError("simulator: the agent has no webhook_secret", retryable=False)
        steps = timeline(
            request.call_id, request.settings, placed_at=placed_at or self._clock(),
            tenant_id=request.tenant_id, lead_name=request.lead_name, variables=request.variables,
        )
        out = []
        for at, payload in steps:
            body = json.dumps(payload, separators=(",", ":")).encode()
            out.append(ScheduledDelivery(round(at, 3), sign(body, secret), body,
                                         request.webhook_url))
        return tuple(out)

    async def place_call(self, request: CallRequest) -> PlacedCall:
        if problems := self.check_settings(request.settings):
            raise ProviderError("simulator: " + "; ".join(problems), retryable=False)
        return PlacedCall(external_id_for(request.call_id), "queued", self.deliveries(request))

    async def fetch_call(self, external_id: str, settings: Mapping[str, Any]) -> CallEvent | None:
        """The call as it ends (the simulator keeps no state: the fate is recomputed)."""
        call_id = call_id_from(external_id)
        if call_id is None:
            return None
        now = self._clock()
        last_at = timeline(call_id, settings, placed_at=now)[-1][0]
        steps = timeline(call_id, settings, placed_at=now - timedelta(seconds=last_at))
        return _event(steps[-1][1])

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        signature = lower_headers(headers).get(SIGNATURE_HEADER)
        if not secret or not signature:
            return False
        return signature_matches(secret, body, signature)

    def parse_webhook(self, body: bytes) -> list[CallEvent]:
        payload = load_json(body)
        if not isinstance(payload, dict) or payload.get("type") != "call.status":
            raise ValueError("not a simulator call.status webhook")
        return [_event(payload)]


def _event(p: Mapping[str, Any]) -> CallEvent:
    status = p.get("status")
    external_id = p.get("call_id")
    occurred = parse_time(p.get("occurred_at"))
    if status not in STATUS_ORDER or not isinstance(external_id, str) or occurred is None:
        raise ValueError("a simulator webhook needs call_id, a known status and occurred_at")
    outcome = p.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    duration = p.get("duration_seconds")
    return CallEvent(
        external_id=external_id,
        event_id=str(p.get("event_id") or f"{external_id}:{p.get('sequence')}:{status}"),
        status=cast(CallStatus, status),
        occurred_at=occurred,
        call_id=parse_uuid(p.get("leadbase_call_id")),
        outcome=cast(CallOutcome | None, outcome),
        duration_seconds=int(duration) if isinstance(duration, int | float) else None,
        transcript=p.get("transcript"),
        summary=p.get("summary"),
        recording_url=p.get("recording_url"),
        cost=parse_decimal(p.get("cost")),
        started_at=parse_time(p.get("started_at")),
        ended_at=parse_time(p.get("ended_at")),
        raw=dict(p),
    )
