"""Bulk operations: each lead goes through the leads service exactly as a single update,
delete or restore would (same validation, visibility, audit entry and event), inside its
own savepoint, so one failure is reported with its id and never undoes or stops the
others. A summarising audit entry records the operation itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of, context_of
from leadbase.bulk import repository
from leadbase.bulk.schemas import MAX_INLINE_IDS, BulkChanges, BulkRequest
from leadbase.db.session import Database
from leadbase.kit.checks import require_changes
from leadbase.kit.errors import AppError, Conflict, NotFound, ValidationFailed
from leadbase.leads import service as leads
from leadbase.leads.filters import LeadFilter
from leadbase.leads.schemas import LeadUpdate
from leadbase.worker.defer import defer

KEPT_FAILURES = 1_000  # failures stored on a job (failed_count counts them all)
JOB_BATCH = 500
RUN_JOB, QUEUE = "run_bulk", "bulk"  # the worker job of a bulk by filter
Outcome = Literal["updated", "unchanged"]


@dataclass
class Tally:
    matched: int = 0
    updated: int = 0
    unchanged: int = 0
    failed_count: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, lead_id: uuid.UUID, code: str, message: str, keep: int | None) -> None:
        self.failed_count += 1
        if keep is None or len(self.failures) < keep:
            self.failures.append({"id": str(lead_id), "code": code, "message": message})


def _invalid(message: str, code: str, field_name: str) -> ValidationFailed:
    return ValidationFailed(message, code=code,
                            errors=[{"field": field_name, "message": message}])


def check_request(body: BulkRequest) -> None:
    """The request's own shape (the leads are checked one by one later)."""
    if (body.ids is None) == (body.filter is None):
        raise _invalid("Give either 'ids' or 'filter'.", "BULK_TARGET_REQUIRED", "ids")
    if body.ids is not None and not body.ids:
        raise _invalid("'ids' is empty.", "BULK_TARGET_REQUIRED", "ids")
    if body.ids is not None and len(body.ids) > MAX_INLINE_IDS:
        raise _invalid(f"At most {MAX_INLINE_IDS:,} ids per request; use 'filter' for more.",
                       "BULK_TOO_MANY_IDS", "ids")
    if body.action == "update":
        changes = body.changes
        require_changes(None if changes is None else [
            *(changes.model_fields_set - {"tags_add", "tags_remove"}),
            *(changes.tags_add or ()), *(changes.tags_remove or ())],
            detail="Nothing to update: give 'changes'.", field="changes")
    elif body.changes is not None:
        raise _invalid(f"'changes' is only for action=update, not {body.action}.",
                       "BULK_CHANGES_NOT_ALLOWED", "changes")


def _patch(changes: BulkChanges, current: dict[str, Any]) -> LeadUpdate:
    patch = changes.model_dump(exclude_unset=True, exclude={"tags_add", "tags_remove"})
    if changes.tags_add or changes.tags_remove:
        remove = set(changes.tags_remove)
        kept = [t for t in current["tags"] if t not in remove]
        patch["tags"] = kept + [t for t in changes.tags_add if t not in kept]
    return LeadUpdate.model_validate(patch)


async def apply_one(session: AsyncSession, *, ctx: Context, action: str,
                    changes: BulkChanges | None, lead_id: uuid.UUID) -> Outcome:
    """One lead, through the single-lead service calls (raises what they raise)."""
    if action == "delete":
        await leads.delete_lead(session, ctx=ctx, lead_id=lead_id, expected_version=None)
        return "updated"
    if action == "restore":
        await leads.restore_lead(session, ctx=ctx, lead_id=lead_id)
        return "updated"
    assert changes is not None
    # Locked: tags are added to and removed from what the lead holds now.
    current = await leads.get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    lead = await leads.update_lead(session, ctx=ctx, lead_id=lead_id,
                                   body=_patch(changes, current), expected_version=None)
    return "updated" if lead["version"] != current["version"] else "unchanged"


async def apply_many(session: AsyncSession, *, ctx: Context, action: str,
                     changes: BulkChanges | None, ids: list[uuid.UUID], tally: Tally,
                     keep: int | None) -> None:
    for lead_id in ids:
        try:
            async with session.begin_nested():
                outcome = await apply_one(session, ctx=ctx, action=action, changes=changes,
                                          lead_id=lead_id)
        except AppError as exc:
            tally.fail(lead_id, exc.code, exc.detail, keep)
            continue
        except ValidationError as exc:
            tally.fail(lead_id, "VALIDATION_ERROR", str(exc.errors()[0]["msg"]), keep)
            continue
        except DBAPIError as exc:
            tally.fail(lead_id, "DATABASE_ERROR", str(exc.orig)[:300], keep)
            continue
        if outcome == "updated":
            tally.updated += 1
        else:
            tally.unchanged += 1


async def _summarise(session: AsyncSession, ctx: Context, job: dict[str, Any]) -> None:
    await audit.record(session, ctx=ctx, action=f"leads.bulk_{job['action']}",
                       entity_type="bulk_job", entity_id=job["id"],
                       changes={"fields": sorted((job["payload"] or {}).keys()),
                                "matched": job["matched"], "updated": job["updated"],
                                "unchanged": job["unchanged"],
                                "failed": job["failed_count"]})


async def run_ids(session: AsyncSession, *, ctx: Context, body: BulkRequest) -> dict[str, Any]:
    """A bulk by ids, applied now in the caller's transaction. Another workspace's ids,
    and leads an agent does not own, fail with ``LEAD_NOT_FOUND``; nothing else changes."""
    check_request(body)
    assert body.ids is not None
    ids = list(dict.fromkeys(body.ids))
    tally = Tally(matched=len(ids))
    started = datetime.now(UTC)
    await apply_many(session, ctx=ctx, action=body.action, changes=body.changes, ids=ids,
                     tally=tally, keep=None)
    job = await repository.insert_job(session, tenant_id=ctx.tenant_id, values={
        "created_by": ctx.actor_user_id, "actor": actor_of(ctx), "action": body.action,
        "mode": "ids", "payload": body.changes.model_dump(mode="json", exclude_unset=True)
        if body.changes else {}, "status": "completed", "matched": tally.matched,
        "processed": len(ids), "updated": tally.updated, "unchanged": tally.unchanged,
        "failed_count": tally.failed_count, "failures": tally.failures[:KEPT_FAILURES],
        "started_at": started, "finished_at": datetime.now(UTC)})
    await _summarise(session, ctx, job)
    job["failures"] = tally.failures  # the response reports every failure
    return job


async def queue_job(session: AsyncSession, *, ctx: Context,
                    body: BulkRequest) -> dict[str, Any]:
    """A bulk by filter (or by ids with ``background``): checked now, run by the worker
    (its job is deferred in the caller's transaction)."""
    check_request(body)
    if body.ids is not None:
        filters: dict[str, Any] = {"ids": [str(i) for i in dict.fromkeys(body.ids)]}
        matched: int | None = len(filters["ids"])
    else:  # checked now (422), run with the actor's readable set by the job
        await leads.lead_set(session, ctx=ctx, f=LeadFilter.from_body(body.filter))
        filters = {"params": body.filter}
        matched = None
    job = await repository.insert_job(session, tenant_id=ctx.tenant_id, values={
        "created_by": ctx.actor_user_id, "actor": actor_of(ctx), "action": body.action,
        "mode": "ids" if body.ids is not None else "filter", "matched": matched,
        "payload": body.changes.model_dump(mode="json", exclude_unset=True)
        if body.changes else {}, "filters": filters})
    await defer(session, RUN_JOB, queue=QUEUE, tenant_id=str(ctx.tenant_id),
                job_id=str(job["id"]))
    return job


def _own(ctx: Context) -> uuid.UUID | None:
    """Agents see their own bulk operations; managers and above see all."""
    return None if ctx.principal.at_least("manager") else ctx.actor_user_id


async def list_jobs(session: AsyncSession, *, ctx: Context, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_jobs(session, tenant_id=ctx.tenant_id, created_by=_own(ctx),
                                      offset=offset, limit=limit)


async def get_job(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID) -> dict[str, Any]:
    job = await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                   created_by=_own(ctx))
    if job is None:
        raise NotFound("Bulk operation not found.", code="BULK_JOB_NOT_FOUND")
    return job


async def cancel_job(session: AsyncSession, *, ctx: Context,
                     job_id: uuid.UUID) -> dict[str, Any]:
    """Stop a queued or running bulk job before its next batch (what was committed stays;
    the counters say how far it got)."""
    await get_job(session, ctx=ctx, job_id=job_id)  # visibility
    job = await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                   for_update=True)
    assert job is not None
    if job["status"] not in ("queued", "running"):
        raise Conflict(f"The bulk operation is {job['status']}.",
                       code="BULK_JOB_NOT_CANCELLABLE", extra={"status": job["status"]})
    job = await repository.update_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                      values={"status": "cancelled",
                                              "finished_at": datetime.now(UTC)})
    await _summarise(session, ctx, job)
    return job


async def run_job(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  batch: int = JOB_BATCH) -> str:
    """Run a queued bulk job (the worker calls this). Leads are taken ``batch`` at a time
    (by filter: in id order, keyset), each batch in its own transaction together with the
    job's counters: the counters always match what is committed. Only a queued job is
    taken. Failures kept: the first 1,000 by filter, all by ids."""
    async with db.transaction(tenant_id) as session:
        job = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                       for_update=True)
        if job is None or job["status"] != "queued":
            return job["status"] if job else "missing"
        ctx = context_of(tenant_id, job["actor"])
        listed = [uuid.UUID(i) for i in job["filters"]["ids"]] if job["mode"] == "ids" \
            else None
        selected = None
        if listed is None:
            selected = await leads.lead_set(
                session, ctx=ctx, f=LeadFilter.from_body(job["filters"]["params"]))
            matched = await repository.count_matches(session, leads=selected)
        else:
            matched = len(listed)
        job = await repository.update_job(session, tenant_id=tenant_id, job_id=job_id, values={
            "status": "running", "started_at": datetime.now(UTC), "matched": matched})
    keep = KEPT_FAILURES if listed is None else None
    changes = BulkChanges.model_validate(job["payload"]) if job["action"] == "update" else None
    tally = Tally(matched=matched, failures=list(job["failures"]))
    after: uuid.UUID | None = None
    processed = 0
    try:
        while True:
            async with db.transaction(tenant_id) as session:
                now = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id)
                if now is None or now["status"] == "cancelled":
                    return "cancelled"  # the batches done so far stay done
                if selected is None:
                    assert listed is not None
                    ids = listed[processed:processed + batch]
                else:
                    ids = await repository.next_ids(session, leads=selected, after=after,
                                                    limit=batch)
                if not ids:
                    break
                await apply_many(session, ctx=ctx, action=job["action"], changes=changes,
                                 ids=ids, tally=tally, keep=keep)
                processed += len(ids)
                await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                            values={"processed": processed,
                                                    "updated": tally.updated,
                                                    "unchanged": tally.unchanged,
                                                    "failed_count": tally.failed_count,
                                                    "failures": tally.failures})
            after = ids[-1]
        values: dict[str, Any] = {"status": "completed", "finished_at": datetime.now(UTC)}
    except Exception as exc:  # recorded on the job; committed batches stay committed
        values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000],
                  "finished_at": datetime.now(UTC)}
    async with db.transaction(tenant_id) as session:
        current = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                           for_update=True)
        if current is None or current["status"] == "cancelled":
            return "cancelled"
        job = await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                          values=values)
        await _summarise(session, ctx, job)
    return str(values["status"])
