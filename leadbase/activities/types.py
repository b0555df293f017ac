"""Activity types and their typed attributes, validated per type.

Every activity has a ``type`` and an ``attributes`` object whose keys depend on the type.
People log the *user* types (``call``, ``email``, ``meeting``, ``note``, ``task``,
``demo``, ``proposal``, ``document``, ``message``); the system writes the *system* types
(``stage_change``, ``status_change``, ``assignment``, ``task_event``, ``system``,
``opportunity_event``), which
the API never creates, changes or deletes.

Durations carry their unit in their name (``duration_seconds`` for calls,
``duration_minutes`` for meetings and demos), so a profile translating a document's
``duration`` knows what it converts. Money is a decimal string with a currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer

from leadbase.kit.errors import ValidationFailed
from leadbase.kit.schemas import Timestamp

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text300 = Annotated[str, Field(min_length=1, max_length=300)]
Body = Annotated[str, Field(max_length=20_000)]
Url = Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")]
Direction = Literal["inbound", "outbound"]
Priority = Literal["low", "normal", "high", "urgent"]
EmailStatus = Literal["draft", "sent", "delivered", "opened", "replied", "bounced",
                      "received"]
Channel = Literal["sms", "whatsapp", "telegram", "chat", "email", "social", "other"]


class Attributes(BaseModel):
    """The attributes of one type: unknown keys refused, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Call(Attributes):
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    outcome: Text200 | None = None
    direction: Direction = "outbound"


class Email(Attributes):
    subject: Annotated[str, Field(max_length=998)] | None = None
    body: Body | None = None
    status: EmailStatus = "sent"


class Meeting(Attributes):
    title: Text200 | None = None
    scheduled_for: Timestamp | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=1440)
    location: Annotated[str, Field(max_length=500)] | None = None


class Note(Attributes):
    content: Annotated[str, Field(min_length=1, max_length=20_000)]


class Task(Attributes):
    title: Text200
    due: Timestamp | None = None
    priority: Priority = "normal"


class Demo(Attributes):
    duration_minutes: int | None = Field(default=None, ge=1, le=1440)
    feedback: Annotated[str, Field(max_length=5000)] | None = None


class Proposal(Attributes):
    title: Text300
    value: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    document_url: Url | None = None

    @field_serializer("value")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.2f}"


class Document(Attributes):
    title: Text300
    document_type: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    url: Url | None = None


class Message(Attributes):
    channel: Channel
    direction: Direction = "outbound"
    body: Body | None = None


USER_TYPES: dict[str, type[Attributes]] = {
    "call": Call, "email": Email, "meeting": Meeting, "note": Note, "task": Task,
    "demo": Demo, "proposal": Proposal, "document": Document, "message": Message,
}
SYSTEM_TYPES = frozenset({"stage_change", "status_change", "assignment", "task_event",
                          "system", "opportunity_event"})
ALL_TYPES = frozenset(USER_TYPES) | SYSTEM_TYPES
UserType = Literal["call", "email", "meeting", "note", "task", "demo", "proposal",
                   "document", "message"]

# Contact types: a completed one is a contact with the lead (``last_contacted_at``).
CONTACT_TYPES = frozenset({"call", "email", "meeting", "message", "demo"})
# Email states in which nothing reached (or came from) the lead.
_NO_CONTACT_EMAIL = frozenset({"draft", "bounced"})


def is_contact(type: str, attributes: dict[str, Any]) -> bool:
    """Whether a *completed* activity of this type was a contact with the lead."""
    if type not in CONTACT_TYPES:
        return False
    return not (type == "email" and attributes.get("status") in _NO_CONTACT_EMAIL)


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown attribute for this activity type"
    return str(err["msg"]).removeprefix("Value error, ")


def validate_attributes(type: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes of a user type, checked and normalised (JSON-ready); 422 naming
    ``attributes.<name>`` for each problem."""
    model = USER_TYPES[type]
    try:
        parsed = model.model_validate(attributes)
    except ValidationError as exc:
        errors = [{"field": ".".join(["attributes", *(str(p) for p in e["loc"])]),
                   "message": _message(e)} for e in exc.errors()]
        raise ValidationFailed(
            f"Invalid attributes for a {type} activity: "
            + ", ".join(e["field"] for e in errors[:5]),
            code="INVALID_ACTIVITY_ATTRIBUTES", errors=errors) from None
    return parsed.model_dump(mode="json", exclude_none=True)
