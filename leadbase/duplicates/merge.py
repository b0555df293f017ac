"""Merging leads into one and undoing it within 30 days.

A merge locks the leads in id order, moves the others' activities, tasks, stage history,
opportunities and listing interests to the survivor (one UPDATE per table, the ids that
moved recorded in ``lead_merges``), hides the others (``merged_into_id``, ``merged_at``
and ``deleted_at``: every live index, list, count and stage counter leaves them out) and
writes the chosen values on the survivor, recording its values before. An unmerge puts
back exactly what moved and, when every lead of a merge is back, the survivor's values
(each column the merge wrote and nobody changed since)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.duplicates import repository
from leadbase.duplicates.schemas import MERGEABLE, MergeIn, UnmergeIn
from leadbase.events import outbox
from leadbase.fields import values as field_values
from leadbase.kit.errors import Conflict, ValidationFailed
from leadbase.leads import repository as leads_repository
from leadbase.leads.repository import readable
from leadbase.leads.service import event_payload, lead_not_found

WINDOW = timedelta(days=30)
_UUID_COLUMNS = frozenset({"owner_id"})
_TIME_COLUMNS = frozenset({"last_activity_at", "last_contacted_at"})


def _empty(value: Any) -> bool:
    return value is None or value == "" or value is False or value == [] or value == {}


def _json(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column in _UUID_COLUMNS:
        return uuid.UUID(value)
    if column in _TIME_COLUMNS:
        return datetime.fromisoformat(value)
    return value


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, errors=[{"field": field, "message": message}])


async def _locked(session: AsyncSession, ctx: Context,
                  ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The leads, locked in id order; 404 unless the caller can read every one."""
    rows = await repository.lock_leads(session, scope=readable(ctx), ids=sorted(ids))
    if len(rows) != len(ids):  # another workspace's, another agent's, or purged
        raise lead_not_found()
    return {r["id"]: r for r in rows}


def _merged_values(survivor: dict[str, Any], others: list[dict[str, Any]],
                   keep: dict[str, uuid.UUID],
                   by_id: dict[uuid.UUID, dict[str, Any]]) -> dict[str, Any]:
    """The survivor's values after the merge: ``keep`` per field, else the survivor's, else
    the first non-empty one; tags and metadata united; custom fields merged per key from
    the leads of the survivor's list; do-not-contact if any says so."""
    values: dict[str, Any] = {}
    for column in MERGEABLE:
        if column in keep:
            values[column] = by_id[keep[column]][column]
        elif _empty(survivor[column]):
            values[column] = next((o[column] for o in others if not _empty(o[column])),
                                  survivor[column])
    tags = list(survivor["tags"])
    for other in others:
        tags += [t for t in other["tags"] if t not in tags]
    values["tags"] = tags
    metadata: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for lead in [*reversed(others), survivor]:
        metadata.update(lead["metadata"])
        if lead["list_id"] == survivor["list_id"]:
            fields.update({k: v for k, v in lead["fields"].items() if not _empty(v)})
    fields.update({k: v for k, v in survivor["fields"].items() if not _empty(v)})
    for key, lead_id in keep.items():
        if key.startswith("fields."):
            code = key[7:]
            source = by_id[lead_id]["fields"]
            if code in source:
                fields[code] = source[code]
            else:
                fields.pop(code, None)
    values["fields"] = {**survivor["fields"], **fields}
    values["metadata"] = metadata
    values["do_not_contact"] = any(lead["do_not_contact"] for lead in [survivor, *others])
    for column in ("last_activity_at", "last_contacted_at"):
        times = [lead[column] for lead in [survivor, *others] if lead[column] is not None]
        values[column] = max(times) if times else None
    return values


def _check_keep(body: MergeIn, survivor: dict[str, Any],
                by_id: dict[uuid.UUID, dict[str, Any]]) -> None:
    for key, lead_id in body.keep.items():
        field = f"keep.{key}"
        if key not in MERGEABLE and not (key.startswith("fields.") and len(key) > 7):
            raise _invalid(field, f"not a mergeable field (one of {', '.join(MERGEABLE)} or "
                           "fields.<code>)", "MERGE_FIELD_UNKNOWN")
        if lead_id not in by_id:
            raise _invalid(field, "not one of the merged leads", "MERGE_KEEP_NOT_IN_MERGE")
        if key.startswith("fields.") and by_id[lead_id]["list_id"] != survivor["list_id"]:
            raise _invalid(field, "that lead is in another list (its custom fields do not "
                           "apply)", "MERGE_KEEP_OTHER_LIST")


async def merge(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                body: MergeIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge ``body.other_ids`` into ``lead_id``: (the survivor, the merge record)."""
    if lead_id in body.other_ids:
        raise _invalid("other_ids", "a lead cannot be merged with itself",
                       "MERGE_WITH_ITSELF")
    by_id = await _locked(session, ctx, [lead_id, *body.other_ids])
    for lead in by_id.values():
        if lead["merged_into_id"] is not None:
            raise Conflict("A lead of the merge is already merged into another.",
                           code="LEAD_ALREADY_MERGED",
                           extra={"lead_id": str(lead["id"]),
                                  "merged_into": str(lead["merged_into_id"])})
        if lead["deleted_at"] is not None:
            raise Conflict("A lead of the merge is deleted.", code="LEAD_DELETED",
                           extra={"lead_id": str(lead["id"])})
    survivor = by_id[lead_id]
    others = [by_id[i] for i in body.other_ids]
    _check_keep(body, survivor, by_id)
    values = _merged_values(survivor, others, body.keep, by_id)
    changed = {k: v for k, v in values.items() if survivor[k] != v}
    tenant_id = ctx.tenant_id
    moved = await repository.move_children(session, tenant_id=tenant_id,
                                           survivor_id=lead_id, others=body.other_ids)
    # Hidden first: their primary custom-field values are free for the survivor.
    await repository.hide(session, tenant_id=tenant_id, survivor_id=lead_id,
                          others=body.other_ids)
    lead = survivor
    if changed:
        try:
            lead = await leads_repository.update_lead(session, scope=readable(ctx),
                                                      lead_id=lead_id, values=changed)
        except leads_repository.PrimaryValueTaken as exc:
            raise field_values.primary_value_taken(exc.code, exc.existing_id) from None
    record = await repository.MERGE_ROWS.insert(session, tenant_id=tenant_id, values={
        "survivor_id": lead_id, "merged_ids": body.other_ids, "moved": moved,
        "before": {k: _json(survivor[k]) for k in changed},
        "after": {k: _json(v) for k, v in changed.items()},
        "actor_user_id": ctx.actor_user_id,
        "expires_at": datetime.now(UTC) + WINDOW})
    counts = moved_counts(record)
    ids = [str(i) for i in body.other_ids]
    await activities.log_system(
        session, ctx, lead_id=lead_id, type="system",
        attributes={"event": "lead_merged", "merge_id": str(record["id"]), "merged_ids": ids,
                    "moved": counts},
        description=f"Merged {len(ids)} lead(s) into this one")
    await audit.record(session, ctx=ctx, action="lead.merged", entity_type="lead",
                       entity_id=lead_id,
                       changes={"fields": sorted(changed), "merged_ids": ids, "moved": counts},
                       event=outbox.event(tenant_id=tenant_id, type="lead.merged",
                                          entity_type="lead", entity_id=lead_id,
                                          payload={"lead": event_payload(lead),
                                                   "merged_ids": ids,
                                                   "merge_id": str(record["id"])}))
    return lead, record


def moved_counts(record: dict[str, Any]) -> dict[str, int]:
    return {table: sum(len(ids) for ids in per.values())
            for table, per in record["moved"].items()}


async def unmerge(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                  body: UnmergeIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Restore leads merged into ``lead_id`` (all of them by default): (the survivor, the
    merge records touched)."""
    survivor = (await _locked(session, ctx, [lead_id]))[lead_id]
    if survivor["merged_into_id"] is not None:
        raise Conflict("This lead is itself merged into another: unmerge it there.",
                       code="LEAD_MERGED", extra={"merged_into": str(survivor["merged_into_id"])})
    if survivor["deleted_at"] is not None:
        raise lead_not_found()
    merges = await repository.merges_of(session, tenant_id=ctx.tenant_id,
                                        survivor_id=lead_id, for_update=True)
    pending = {m: r for r in merges for m in r["merged_ids"] if m not in r["unmerged_ids"]}
    targets = list(dict.fromkeys(body.lead_ids)) if body.lead_ids else list(pending)
    if not targets:
        raise Conflict("No lead is merged into this one.", code="NOTHING_TO_UNMERGE")
    unknown = [str(t) for t in targets if t not in pending]
    if unknown:
        raise ValidationFailed("Some leads are not merged into this one.",
                               code="NOT_MERGED_INTO_LEAD",
                               errors=[{"field": "lead_ids", "message": i} for i in unknown])
    now = datetime.now(UTC)
    touched = [r for r in merges if any(pending.get(t) is r for t in targets)]
    if any(r["expires_at"] <= now for r in touched):
        raise Conflict("The 30-day window to unmerge has closed.", code="MERGE_WINDOW_CLOSED")
    await _locked(session, ctx, [lead_id, *targets])  # the hidden ones, in id order
    current = {k: _json(survivor[k]) for k in survivor}
    restore: dict[str, Any] = {}
    updated = []
    for record in touched:  # newest first
        mine = [t for t in targets if pending[t] is record]
        await repository.move_back(session, tenant_id=ctx.tenant_id, survivor_id=lead_id,
                                   moved=record["moved"], leads=mine)
        done = [*record["unmerged_ids"], *mine]
        whole = set(done) >= set(record["merged_ids"])
        if whole:
            for column, value in record["before"].items():
                if current.get(column) == record["after"].get(column):
                    restore[column] = _decode(column, value)
                    current[column] = value
        updated.append(await repository.MERGE_ROWS.update(
            session, tenant_id=ctx.tenant_id, row_id=record["id"],
            values={"unmerged_ids": done, "status": "unmerged" if whole else "partial",
                    "unmerged_at": now}))
    lead = survivor
    if restore:
        lead = await leads_repository.update_lead(session, scope=readable(ctx),
                                                  lead_id=lead_id, values=restore)
    try:
        await repository.revive(session, tenant_id=ctx.tenant_id, survivor_id=lead_id,
                                leads=targets)
    except Exception as exc:
        taken = leads_repository._taken(exc)
        if taken is None:
            raise
        raise field_values.primary_value_taken(taken.code, taken.existing_id) from None
    ids = [str(t) for t in targets]
    await activities.log_system(session, ctx, lead_id=lead_id, type="system",
                                attributes={"event": "lead_unmerged", "restored_ids": ids},
                                description=f"Unmerged {len(ids)} lead(s)")
    await audit.record(session, ctx=ctx, action="lead.unmerged", entity_type="lead",
                       entity_id=lead_id,
                       changes={"fields": sorted(restore), "restored_ids": ids},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="lead.unmerged",
                                          entity_type="lead", entity_id=lead_id,
                                          payload={"lead": event_payload(lead),
                                                   "restored_ids": ids}))
    return lead, updated

