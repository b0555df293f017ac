"""The voice provider interface the dialer speaks to (VAPI, Bland, the simulator).

The dialer domain (``leadbase/calls``) knows only these types. A provider turns a
``CallRequest`` into a placed call, reads a call's status back, and turns its webhooks into
normalised ``CallEvent`` values. Providers hold no state and write nothing: the domain
records every call and event in its own transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

CallStatus = Literal["queued", "initiated", "ringing", "in_progress", "completed", "failed"]
# The order a call moves through; a late event never moves a call backwards.
STATUS_ORDER: dict[str, int] = {
    "queued": 0, "initiated": 1, "ringing": 2, "in_progress": 3, "completed": 4, "failed": 4,
}
CallOutcome = Literal[
    "completed", "no_answer", "busy", "voicemail", "failed", "hung_up", "not_interested",
]
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed"})


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What to place: Leadbase's call id travels as metadata so webhooks map back to it."""

    call_id: UUID
    tenant_id: UUID
    to_number: str  # E.164
    settings: Mapping[str, Any]  # the agent's decrypted provider settings
    webhook_url: str
    lead_name: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PlacedCall:
    external_id: str
    status: CallStatus = "queued"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One normalised status report, from a webhook or from asking the provider."""

    external_id: str
    event_id: str  # unique per event: the provider's id, or a digest of the payload
    status: CallStatus
    occurred_at: datetime
    call_id: UUID | None = None  # Leadbase's id when the provider echoes the metadata
    outcome: CallOutcome | None = None
    duration_seconds: int | None = None
    transcript: str | None = None
    summary: str | None = None
    recording_url: str | None = None
    cost: Decimal | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ScheduledDelivery:
    """A webhook the simulator will deliver later through the same ingestion path."""

    delay_seconds: float
    headers: Mapping[str, str]
    body: bytes


class ProviderError(Exception):
    """A provider refused or failed. ``retryable`` for timeouts, 5xx and 429."""

    def __init__(self, message: str, *, retryable: bool, status_code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code


class VoiceProvider(Protocol):
    name: str

    async def place_call(self, request: CallRequest) -> PlacedCall:
        """Ask the provider to call; raises ``ProviderError``."""
        ...

    async def fetch_call(self, external_id: str, settings: Mapping[str, Any]) -> CallEvent | None:
        """The call's current status as the provider knows it (for reconciliation)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether a webhook really comes from the provider (its secret or signature scheme)."""
        ...

    def parse_webhook(self, body: bytes) -> list[CallEvent]:
        """The normalised events in a webhook body; ``ValueError`` for a body it cannot read."""
        ...
