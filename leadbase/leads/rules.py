"""The rules of a lead's own values, pure (no database, no I/O): the limits, the identity a
lead needs, and the normalisation of its contact data. The leads service (one lead at a
time, through the schemas) and imports (a million rows in worker processes, as tuples) both
apply these, so a lead means the same however it came in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leadbase.kit.contact import normalize_email, parse_phone
from leadbase.kit.errors import ValidationFailed
from leadbase.models.leads import LEAD_STATUSES

STATUSES = LEAD_STATUSES
# The longest text each core field takes.
LIMITS = {"first_name": 200, "last_name": 200, "email": 320, "phone": 64, "company": 300,
          "job_title": 200, "source": 100, "notes": 20_000}
MAX_TAGS = 50  # tags per lead
MAX_TAG = 50  # characters per tag
# A lead needs at least one of these.
IDENTITY = ("first_name", "last_name", "email", "phone")


def has_identity(values: Mapping[str, Any]) -> bool:
    return any(values.get(k) for k in IDENTITY)


def identity_required(*, per_field: bool = True) -> ValidationFailed:
    """The 422 of a lead without a name, an email or a phone number."""
    return ValidationFailed(
        "A lead needs at least a name, an email or a phone number.",
        code="LEAD_IDENTITY_REQUIRED",
        errors=[{"field": k, "message": "one of first_name, last_name, email, phone "
                 "is required"} for k in IDENTITY] if per_field else None,
    )


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Stripped, without empty ones or repeats, in their first order."""
    return list(dict.fromkeys(t for t in (tag.strip() for tag in tags) if t))


def tags_fit(tags: list[str]) -> bool:
    return len(tags) <= MAX_TAGS and all(len(t) <= MAX_TAG for t in tags)


def email(raw: str) -> str:
    """The address validated (syntax, no DNS) and lowercased; 422 ``INVALID_EMAIL``."""
    return normalize_email(raw)


def phone(raw: str, *, region: str, timezone: str | None) -> dict[str, str | None]:
    """``phone`` in E.164 (national numbers read in ``region``) with the ``timezone`` and
    ``country`` it implies (``timezone``: the workspace's, preferred among several);
    422 ``INVALID_PHONE``."""
    parsed = parse_phone(raw, region=region, preferred_timezone=timezone)
    return {"phone": parsed.e164, "timezone": parsed.timezone, "country": parsed.country}


def normalise(values: dict[str, Any], *, region: str, timezone: str | None) -> None:
    """Normalise contact data in place: the email; the phone with its time zone and
    country (a phone set to None clears them). Raises the 422 of the first bad value."""
    if values.get("email") is not None:
        values["email"] = email(values["email"])
    if "phone" in values:
        if values["phone"] is None:
            values["timezone"] = None
            values["country"] = None
        else:
            values.update(phone(values["phone"], region=region, timezone=timezone))


def merge_patch(current: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """What merging ``sent`` into an existing lead changes: every value sent wins, tags
    are added, ``metadata`` is merged key by key (``fields`` are merged by the field
    engine). Creating with on_duplicate=update and imports with it both merge so."""
    patch: dict[str, Any] = {k: v for k, v in sent.items()
                             if v is not None and k not in ("tags", "metadata")}
    if sent.get("tags"):
        patch["tags"] = list(dict.fromkeys([*current["tags"], *sent["tags"]]))
    if sent.get("metadata"):
        patch["metadata"] = {**current["metadata"], **sent["metadata"]}
    return patch
