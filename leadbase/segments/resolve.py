"""A segment as a condition on leads: what ``GET /leads?segment_id=``, bulk operations,
exports and the segment's own count and members query.

A dynamic segment's stored condition is parsed again against the workspace's catalog
(the fields, stages and lists it names may have changed since it was saved) and compiled
by ``rules.to_sql``; a static segment is its member list. Either is combined by the
caller with the readable set of the principal (``leads.repository.LeadSet``). This module
imports no leads service (the leads service imports it)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.kit.errors import ValidationFailed
from leadbase.segments import repository


def rule_broken(errors: list[dict[str, Any]] | None) -> ValidationFailed:
    return ValidationFailed(
        "The segment's saved condition no longer holds in this workspace (a field, stage, "
        "list or user it names was removed); edit the segment.",
        code="SEGMENT_RULE_INVALID", errors=errors)


CATALOG_SECONDS = 10.0
"""How long a process reuses a workspace's rule catalog to *use* saved segments (saving one
always checks it against a fresh catalog). A rule that does not parse against the reused
catalog is tried again with a fresh one, so a field or stage added since is never
refused; one removed since may still be compiled for these few seconds (its condition
then matches what is left of it)."""
_MAX_CATALOGS = 1000
_catalogs: dict[uuid.UUID, tuple[float, rules.Catalog]] = {}


async def catalog_for(session: AsyncSession, *, tenant_id: uuid.UUID,
                      fresh: bool = False) -> rules.Catalog:
    """The workspace's catalog, reused for :data:`CATALOG_SECONDS` unless ``fresh`` (its
    five queries were a third of a count request's database round trips)."""
    now = time.monotonic()
    kept = _catalogs.get(tenant_id)
    if kept is not None and not fresh and kept[0] > now:
        return kept[1]
    catalog = await rules.load_catalog(session, tenant_id=tenant_id)
    if len(_catalogs) >= _MAX_CATALOGS:
        _catalogs.clear()
    _catalogs[tenant_id] = (now + CATALOG_SECONDS, catalog)
    return catalog


async def load_rule(session: AsyncSession, *, tenant_id: uuid.UUID,
                    segment: dict[str, Any]) -> rules.Rule:
    """The parsed condition of a dynamic segment; 422 ``SEGMENT_RULE_INVALID`` (naming
    the ``condition....`` paths) when it no longer parses against the workspace's
    current catalog."""
    catalog = await catalog_for(session, tenant_id=tenant_id)
    try:
        return rules.parse(segment["condition"], catalog, path="condition")
    except ValidationFailed:
        catalog = await catalog_for(session, tenant_id=tenant_id, fresh=True)
    try:
        return rules.parse(segment["condition"], catalog, path="condition")
    except ValidationFailed as exc:
        raise rule_broken(exc.errors) from None


async def condition_of(session: AsyncSession, *, tenant_id: uuid.UUID,
                       segment: dict[str, Any], now: datetime | None = None
                       ) -> ColumnElement[bool]:
    """The leads of ``segment`` (a row of ``segments``) as a condition on
    ``leads.repository.T``."""
    if segment["kind"] == "static":
        return repository.member_condition(tenant_id, segment["id"])
    rule = await load_rule(session, tenant_id=tenant_id, segment=segment)
    return rules.to_sql(rule, now=now or datetime.now(UTC), tenant_id=tenant_id)


async def filter_condition(session: AsyncSession, *, tenant_id: uuid.UUID,
                           segment_id: uuid.UUID, field: str = "segment_id"
                           ) -> ColumnElement[bool]:
    """The lead filter's ``segment_id=``: 422 ``INVALID_FILTER`` naming ``field`` for a
    segment that is not (or no longer) one of this workspace's."""
    segment = await repository.get(session, tenant_id=tenant_id, segment_id=segment_id,
                                   include_deleted=True)
    if segment is None:
        raise ValidationFailed(f"No segment {segment_id} in this workspace.",
                               code="INVALID_FILTER",
                               errors=[{"field": field, "message": "unknown segment"}])
    if segment["deleted_at"] is not None:
        raise ValidationFailed(f"The segment '{segment['name']}' was deleted.",
                               code="INVALID_FILTER",
                               errors=[{"field": field, "message": "deleted segment"}])
    return await condition_of(session, tenant_id=tenant_id, segment=segment)
