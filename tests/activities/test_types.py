"""Each activity type's attributes: what is accepted, normalised and refused (422 naming
``attributes.<name>``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadbase.activities import types
from leadbase.kit.errors import ValidationFailed
from tests.activities.helpers import log
from tests.factories import make_lead, make_workspace

GOOD: dict[str, dict[str, Any]] = {
    "call": {"duration_seconds": 95, "outcome": "Interested", "direction": "inbound"},
    "email": {"subject": "Quote", "body": "Dear customer", "status": "opened"},
    "meeting": {"title": "Demo", "scheduled_for": "2026-02-15T10:00:00Z",
                "duration_minutes": 60, "location": "Office"},
    "note": {"content": "Prefers monthly payment"},
    "task": {"title": "Send quote", "due": "2026-02-10T00:00:00Z", "priority": "high"},
    "demo": {"duration_minutes": 45, "feedback": "Very interested"},
    "proposal": {"title": "Enterprise", "value": "50000.5", "currency": "EUR",
                 "document_url": "https://example.com/p.pdf"},
    "document": {"title": "Contract", "document_type": "contract",
                 "url": "https://example.com/c.pdf"},
    "message": {"channel": "whatsapp", "direction": "inbound", "body": "Hola"},
}
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "call": ({"duration_seconds": -1}, "attributes.duration_seconds"),
    "email": ({"status": "lost"}, "attributes.status"),
    "meeting": ({"duration_minutes": "long"}, "attributes.duration_minutes"),
    "note": ({}, "attributes.content"),
    "task": ({"title": "x", "priority": "whenever"}, "attributes.priority"),
    "demo": ({"feedback": 3}, "attributes.feedback"),
    "proposal": ({"title": "x", "value": "12.345"}, "attributes.value"),
    "document": ({"title": "x", "url": "ftp://nope"}, "attributes.url"),
    "message": ({"direction": "inbound"}, "attributes.channel"),
}


def test_every_user_type_has_cases() -> None:
    assert set(GOOD) == set(BAD) == set(types.USER_TYPES)


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_attributes_are_normalised(kind: str) -> None:
    out = types.validate_attributes(kind, GOOD[kind])
    assert set(out) <= set(GOOD[kind]) | {"direction", "status", "priority"}
    if kind == "proposal":
        assert out["value"] == "50000.50"
    if kind == "meeting":
        assert out["scheduled_for"] == "2026-02-15T10:00:00Z"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_attributes_name_the_attribute(kind: str) -> None:
    attrs, field = BAD[kind]
    with pytest.raises(ValidationFailed) as info:
        types.validate_attributes(kind, attrs)
    assert info.value.code == "INVALID_ACTIVITY_ATTRIBUTES"
    assert field in [e["field"] for e in info.value.errors or []]


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_unknown_attribute_is_refused(kind: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        types.validate_attributes(kind, {**GOOD[kind], "colour": "red"})
    assert [e["field"] for e in info.value.errors or []] == ["attributes.colour"]


def test_defaults_and_contact_rules() -> None:
    assert types.validate_attributes("call", {}) == {"direction": "outbound"}
    assert types.validate_attributes("email", {})["status"] == "sent"
    assert types.is_contact("call", {}) and types.is_contact("message", {"channel": "sms"})
    assert not types.is_contact("email", {"status": "draft"})
    assert not types.is_contact("email", {"status": "bounced"})
    assert types.is_contact("email", {"status": "received"})
    assert not types.is_contact("note", {}) and not types.is_contact("proposal", {})


async def test_http_422_paths(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    lead = await make_lead(client, owner)
    for kind, (attrs, field) in BAD.items():
        body = await log(client, owner, lead, kind, expect=422, attributes=attrs)
        assert body["code"] == "INVALID_ACTIVITY_ATTRIBUTES", body
        assert field in [e["field"] for e in body["errors"]], body
    body = await log(client, owner, lead, "call", expect=422, attributes={"mood": "ok"})
    assert body["errors"][0]["field"] == "attributes.mood"
    body = await log(client, owner, lead, "call", expect=422, attributes=[1])
    assert body["errors"][0]["field"] == "attributes"
    for kind, attrs in GOOD.items():
        made = await log(client, owner, lead, kind, attributes=attrs)
        assert made["type"] == kind and made["attributes"]
