"""Request and response bodies of the dialer: agents, the do-not-call list, dial tasks,
calls, metrics and the workspace's disposition settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_serializer, field_validator, model_validator

from leadbase.calls import hours
from leadbase.kit.schemas import JSONObject, Page, ReadModel, Timestamp, WriteModel

Provider = Literal["vapi", "bland", "simulator"]
TaskStatus = Literal["new", "in_progress", "done"]
Disposition = Literal["completed", "no_answer", "not_interested", "hung_up", "busy",
                      "voicemail", "failed", "do_not_call"]
RetryOutcome = Literal["no_answer", "busy", "voicemail", "failed"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Minutes = Annotated[int, Field(ge=1, le=30 * 24 * 60)]
SecretValue = Annotated[str, Field(min_length=1, max_length=2000)]

DEFAULT_HOURS: dict[str, list[dict[str, str]]] = {
    day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri")}


class TimeWindow(WriteModel):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"])
    end: str = Field(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$", examples=["17:00"])

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end != "24:00" and self.end <= self.start:
            raise ValueError("end must be after start (split a window that crosses "
                             "midnight into two days)")
        return self


BusinessHours = dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                     Annotated[list[TimeWindow], Field(max_length=6)]]


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        hours.zone(value)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"'{value}' is not an IANA time zone") from None
    return value


class _AgentFields(WriteModel):
    settings: JSONObject | None = Field(default=None, description=(
        "Provider settings that are not secret: assistant_id or pathway_id, task prompt, "
        "phone_number_id or from_number, voice... (free keys)"))
    secrets: dict[Annotated[str, Field(min_length=1, max_length=64)], SecretValue] | None = (
        Field(default=None, max_length=20, description=(
            "Secret provider settings (api_key...): encrypted at rest, never answered "
            "back (their names are, in secret_keys). On update, replaces them all.")))
    timezone: str | None = Field(default=None, description="IANA zone of the business "
                                 "hours (default: the workspace's)")
    business_hours: BusinessHours | None = Field(default=None, description=(
        "Windows per weekday in the agent's zone, e.g. {\"mon\": [{\"start\": \"09:00\", "
        "\"end\": \"17:00\"}]}; a day not named is closed (default Mon-Fri 09-17)"))
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    retry_delay_minutes: Minutes | None = None
    retry_delays: dict[RetryOutcome, Minutes] | None = Field(
        default=None, description="Minutes before the next attempt per outcome (default: "
                                  "retry_delay_minutes)")
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=1000)
    active: bool | None = None
    enqueue_on_lead_create: bool | None = Field(
        default=None, description="Queue every new lead with a phone for this agent")

    _tz = field_validator("timezone")(check_timezone)


class CallAgentCreate(_AgentFields):
    name: Name
    provider: Provider


class CallAgentUpdate(_AgentFields):
    name: Name | None = None


class CallAgentRead(ReadModel):
    id: uuid.UUID
    number: int
    name: str
    provider: str
    settings: dict[str, Any]
    secret_keys: list[str]
    timezone: str
    business_hours: dict[str, Any]
    max_attempts: int
    retry_delay_minutes: int
    retry_delays: dict[str, int]
    max_concurrent_calls: int
    active: bool
    enqueue_on_lead_create: bool
    webhook_url: str
    created_at: datetime
    updated_at: datetime
    version: int


class CallAgentCreated(CallAgentRead):
    webhook_secret: str = Field(description="Shown once (and on rotation): the secret the "
                                            "provider's webhooks are checked with")


class WebhookSecret(BaseModel):
    webhook_secret: str
    webhook_url: str


CallAgentPage = Page[CallAgentRead]


class DncCreate(WriteModel):
    phone: str = Field(min_length=3, max_length=40)
    reason: str | None = Field(default=None, max_length=500)


class DncRead(ReadModel):
    id: uuid.UUID
    phone: str
    reason: str | None
    created_at: datetime


DncPage = Page[DncRead]


class DialTaskCreate(WriteModel):
    agent_id: uuid.UUID
    lead_id: uuid.UUID
    due_at: Timestamp | None = Field(default=None, description="Not before (default now)")


class DialTaskBulk(WriteModel):
    agent_id: uuid.UUID
    lead_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=1000)
    segment_id: uuid.UUID | None = None
    due_at: Timestamp | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DialTaskBulk:
        if (self.lead_ids is None) == (self.segment_id is None):
            raise ValueError("give lead_ids or segment_id (one of them)")
        return self


class DialTaskUpdate(WriteModel):
    due_at: Timestamp | None = None
    status: TaskStatus | None = None
    disposition: Disposition | None = None


class BulkResult(BaseModel):
    agent_id: uuid.UUID
    enqueued: int
    skipped: int = Field(description="Already queued for this agent, without a phone, or "
                                     "not readable")


class DialTaskRead(ReadModel):
    id: uuid.UUID
    number: int
    agent_id: uuid.UUID
    lead_id: uuid.UUID
    status: str
    disposition: str | None
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_outcome: str | None
    last_attempt_at: datetime | None
    active_call_id: uuid.UUID | None
    source: str
    lead_name: str | None
    lead_phone: str | None
    created_at: datetime
    updated_at: datetime
    version: int


DialTaskPage = Page[DialTaskRead]


class CallRead(ReadModel):
    id: uuid.UUID
    number: int
    provider: str
    external_id: str | None
    lead_id: uuid.UUID
    agent_id: uuid.UUID
    dial_task_id: uuid.UUID | None
    status: str
    outcome: str | None
    attempt: int
    to_number: str
    callee_timezone: str | None
    duration_seconds: int | None
    transcript: str | None
    summary: str | None
    recording_url: str | None
    cost: Decimal | None
    error: str | None
    lead_name: str | None
    agent_name: str | None
    queued_at: datetime
    placed_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @field_serializer("cost")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.4f}"


CallPage = Page[CallRead]


class CallNowResult(BaseModel):
    placed: bool
    reason: str | None = Field(description="Why not placed now: outside_calling_hours, "
                                           "agent_busy, agent_inactive")
    call: CallRead | None
    task: DialTaskRead


class AgentMetrics(BaseModel):
    agent_id: uuid.UUID
    agent_name: str
    total_calls: int
    answered_calls: int
    no_answer_calls: int
    failed_calls: int
    pickup_rate: float


class CallMetrics(BaseModel):
    total_calls: int
    answered_calls: int
    no_answer_calls: int
    failed_calls: int
    pickup_rate: float = Field(description="answered / finished calls, in percent")
    average_attempts_per_lead: float
    active_agents: int
    by_hour: list[dict[str, int]] = Field(description="[{hour, total, answered}] by the "
                                                      "callee's local hour")
    by_agent: list[AgentMetrics]


class DispositionEffect(WriteModel):
    status: Literal["new", "contacted", "qualified", "unqualified", "converted",
                    "lost"] | None = None
    stage: str | None = Field(default=None, min_length=1, max_length=100,
                              description="Stage code or id in the lead's pipeline")


class CallSettings(WriteModel):
    dispositions: dict[Disposition, DispositionEffect] = Field(
        default_factory=dict, description="What a disposition does to the lead")


class HistoryFilter(BaseModel):
    agent_ids: tuple[uuid.UUID, ...] = ()
    outcomes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    lead_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None
