"""The voice provider interface the dialer speaks to (VAPI, Bland, the simulator).

The dialer domain (``leadbase/calls``) knows only these types. A provider turns a
``CallRequest`` into a placed call, reads a call's status back, and turns its webhooks into
normalised ``CallEvent`` values. Providers hold no state and write nothing: the domain
records every call and event in its own transactions.

Statuses and outcomes: a call that ended is ``completed`` whatever the callee did, and
its ``outcome`` says what happened (``completed`` for a conversation, ``no_answer``,
``busy``, ``voicemail``, ``hung_up``, ``not_interested``); it is ``failed`` (outcome
``failed``) when it could not be placed or broke off on the provider's side.

Agent settings (``CallRequest.settings``, the agent's decrypted provider settings) carry
the provider's own keys (see each provider's ``check_settings``) plus ``webhook_secret``:
the secret or signing key the provider's webhooks are verified with. The keys named in a
provider's ``secret_settings`` are secrets (encrypted at rest, never answered back).
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
class ScheduledDelivery:
    """A webhook the simulator will deliver later through the same ingestion path.

    ``url`` is the request's ``webhook_url``; the body and headers are exactly what the
    ingestion endpoint receives (signed with the agent's ``webhook_secret``).
    """

    delay_seconds: float
    headers: Mapping[str, str]
    body: bytes
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """A call the provider accepted. ``deliveries`` are webhooks the caller must deliver
    itself, later (only the simulator has any: it places no real call)."""

    external_id: str
    status: CallStatus = "queued"
    deliveries: tuple[ScheduledDelivery, ...] = ()


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


class ProviderError(Exception):
    """A provider refused or failed. ``retryable`` for timeouts, 5xx and 429.

    ``retry_after``: seconds the provider asked us to wait (a 429's ``Retry-After``), when
    it asked for longer than the HTTP layer waits itself. ``maybe_placed``: the request may
    have reached the provider (a POST that timed out waiting for the answer), so the call
    may exist: reconcile before placing it again.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        retry_after: float | None = None,
        maybe_placed: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after
        self.maybe_placed = maybe_placed


class UnknownProviderError(LookupError):
    """No voice provider has that name."""


class VoiceProvider(Protocol):
    name: str
    # Setting keys that are secrets (encrypted at rest, never answered back).
    secret_settings: frozenset[str]

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        """What is missing or wrong in an agent's settings (empty when they will do)."""
        ...

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
