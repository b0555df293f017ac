"""Background passes of the rules over many leads, with progress:

- ``reassign_user``: every open lead of a user (on deactivation when the workspace says
  so, or asked: ``POST /users/{id}/reassign-leads``) goes through the rules as if new,
  the user excluded; a lead for which no one is found is left without an owner.
- ``new_leads``: the new leads of an import without an owner, listed by the import in
  its transaction, assigned right after it commits (an import is one long transaction:
  assigning inside it would hold the rotations' locks, and so every concurrent create,
  until it ends).

Each batch is one transaction (decisions, owners, timeline, events, counters), so the
counters always say what is committed; running a job twice is harmless (only a queued
job is taken, and a batch takes what is left)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import procrastinate
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.assignment import flows, repository
from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of, context_of
from leadbase.db.session import Database
from leadbase.events import outbox
from leadbase.kit.errors import NotFound
from leadbase.users import repository as users_repository
from leadbase.worker.defer import defer
from leadbase.worker.runtime import get_runtime, log_outcome

log = logging.getLogger(__name__)

QUEUE = "assignment"
RUN_JOB = "run_assignment_job"
BATCH = 500

blueprint = procrastinate.Blueprint()


def job_not_found() -> NotFound:
    return NotFound("Assignment job not found.", code="ASSIGNMENT_JOB_NOT_FOUND")


async def _queue(session: AsyncSession, ctx: Context, values: dict[str, Any]
                 ) -> dict[str, Any]:
    job = await repository.insert_job(session, tenant_id=ctx.tenant_id, values={
        "created_by": ctx.actor_user_id, "actor": actor_of(ctx), **values})
    await defer(session, RUN_JOB, queue=QUEUE, tenant_id=str(ctx.tenant_id),
                job_id=str(job["id"]))
    await audit.record(session, ctx=ctx, action="assignment.job_queued",
                       entity_type="assignment_job", entity_id=job["id"],
                       changes={"kind": job["kind"]})
    return job


async def queue_reassign(session: AsyncSession, *, ctx: Context, user_id: uuid.UUID,
                         reason: str | None) -> dict[str, Any]:
    """Queue the reassignment of every open lead of ``user_id`` (404 for a user of
    another workspace)."""
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=user_id)
    if user is None:
        raise NotFound("User not found.", code="USER_NOT_FOUND")
    total = await repository.count_open_of(session, tenant_id=ctx.tenant_id, user_id=user_id)
    return await _queue(session, ctx, {"kind": "reassign_user", "user_id": user_id,
                                       "reason": reason, "total": total})


async def queue_new_leads(session: AsyncSession, *, ctx: Context, import_job_id: uuid.UUID,
                          select_sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """Queue the assignment of the leads ``select_sql`` lists (an import's new leads)."""
    job = await _queue(session, ctx, {"kind": "new_leads", "import_job_id": import_job_id,
                                      "reason": "import"})
    await repository.add_job_leads(session, tenant_id=ctx.tenant_id, job_id=job["id"],
                                   select_sql=select_sql, params=params)
    total = await repository.count_job_leads(session, tenant_id=ctx.tenant_id,
                                             job_id=job["id"])
    return await repository.update_job(session, tenant_id=ctx.tenant_id, job_id=job["id"],
                                       values={"total": total})


async def run_job(db: Database, *, tenant_id: uuid.UUID, job_id: uuid.UUID,
                  batch: int = BATCH) -> str:
    async with db.transaction(tenant_id) as session:
        job = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id,
                                       for_update=True)
        if job is None or job["status"] != "queued":
            return job["status"] if job else "missing"
        values: dict[str, Any] = {"status": "running", "started_at": datetime.now(UTC)}
        if job["kind"] == "new_leads":  # the import listed more after queueing it
            values["total"] = job["processed"] + await repository.count_job_leads(
                session, tenant_id=tenant_id, job_id=job_id)
        job = await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                          values=values)
    ctx = context_of(tenant_id, job["actor"])
    counts = {"processed": job["processed"], "assigned": job["assigned"],
              "unassigned": job["unassigned"]}
    after: uuid.UUID | None = None
    try:
        while True:
            async with db.transaction(tenant_id) as session:
                now = await repository.get_job(session, tenant_id=tenant_id, job_id=job_id)
                if now is None or now["status"] != "running":
                    return now["status"] if now else "missing"
                if job["kind"] == "reassign_user":
                    ids = await repository.open_leads_of(session, tenant_id=tenant_id,
                                                         user_id=job["user_id"], after=after,
                                                         limit=batch)
                    if not ids:
                        break
                    after = ids[-1]
                    result = await flows.assign_batch(
                        session, ctx=ctx, lead_ids=ids, method="reassign",
                        reason=job["reason"], exclude=job["user_id"],
                        keep_without_rule=False)
                else:
                    ids = await repository.take_job_leads(session, tenant_id=tenant_id,
                                                          job_id=job_id, limit=batch)
                    if not ids:
                        break
                    result = await flows.assign_batch(
                        session, ctx=ctx, lead_ids=ids, method="import", reason="import",
                        only_unowned=True)
                counts["processed"] += len(ids)
                counts["assigned"] += result.assigned
                counts["unassigned"] += len(ids) - result.assigned
                await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                            values=counts)
    except Exception as exc:
        log.exception("assignment job %s failed", job_id)
        async with db.transaction(tenant_id) as session:
            await repository.update_job(session, tenant_id=tenant_id, job_id=job_id, values={
                "status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000],
                "finished_at": datetime.now(UTC)})
        return "failed"
    async with db.transaction(tenant_id) as session:
        done = await repository.update_job(session, tenant_id=tenant_id, job_id=job_id,
                                           values={"status": "completed",
                                                   "finished_at": datetime.now(UTC)})
        await audit.record(session, ctx=ctx, action="assignment.job_completed",
                           entity_type="assignment_job", entity_id=job_id, changes=counts,
                           event=outbox.event(tenant_id=tenant_id,
                                              type="assignment.job_completed",
                                              entity_type="assignment_job",
                                              entity_id=job_id,
                                              payload={"id": str(job_id),
                                                       "kind": done["kind"], **counts}))
    return "completed"


@blueprint.task(name=RUN_JOB, queue=QUEUE,
                retry=procrastinate.RetryStrategy(max_attempts=5, wait=2))
async def run_assignment_job(tenant_id: str, job_id: str) -> str:
    status = await run_job(get_runtime().db, tenant_id=uuid.UUID(tenant_id),
                           job_id=uuid.UUID(job_id))
    return log_outcome(log, "assignment job", job_id, status)
