"""Duplicates: the candidates of one lead, the workspace's groups (from its last completed
scan) and the scans. Merge and unmerge are in ``leadbase.duplicates.merge``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of
from leadbase.duplicates import candidates, repository
from leadbase.duplicates.scan import STEPS
from leadbase.kit.errors import Conflict, NotFound
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.worker.defer import defer

QUEUE = "duplicates"


def scan_not_found() -> NotFound:
    return NotFound("Duplicate scan not found.", code="DUPLICATE_SCAN_NOT_FOUND")


async def lead_candidates(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                          limit: int) -> list[candidates.Match]:
    """The leads the caller can read that are likely the same person, best first."""
    lead = await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id, merged="redirect")
    return await candidates.find(session, scope=readable(ctx), lead=lead, limit=limit)


async def groups(session: AsyncSession, *, ctx: Context, offset: int,
                 limit: int) -> tuple[uuid.UUID | None, list[dict[str, Any]], int]:
    """A page of the last completed scan's groups, each with its leads that are still live
    and readable (merged or deleted ones drop out; a group left with one lead shows it)."""
    scan_id = await repository.latest_completed_scan(session, tenant_id=ctx.tenant_id)
    if scan_id is None:
        return None, [], 0
    rows, total = await repository.groups_page(session, tenant_id=ctx.tenant_id,
                                               scan_id=scan_id, offset=offset, limit=limit)
    ids = [i for r in rows for i in r["lead_ids"]]
    found = await repository.briefs(session, scope=readable(ctx), ids=ids) if ids else {}
    page = [{**r, "leads": [found[i] for i in r["lead_ids"] if i in found]} for r in rows]
    return scan_id, page, total


async def queue_scan(session: AsyncSession, *, ctx: Context) -> dict[str, Any]:
    """A job scanning the workspace for duplicate groups (one at a time per workspace)."""
    running, _ = await repository.list_scans(session, tenant_id=ctx.tenant_id, offset=0,
                                             limit=1)
    if running and running[0]["status"] in ("queued", "running"):
        raise Conflict("A duplicate scan is already under way.", code="DUPLICATE_SCAN_RUNNING",
                       extra={"scan_id": str(running[0]["id"])})
    scan = await repository.SCAN_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "actor": actor_of(ctx), "created_by": ctx.actor_user_id, "total": STEPS})
    await defer(session, "duplicates_scan", queue=QUEUE, tenant_id=str(ctx.tenant_id),
                scan_id=str(scan["id"]))
    await audit.record(session, ctx=ctx, action="duplicates.scan_requested",
                       entity_type="duplicate_scan", entity_id=scan["id"])
    return scan


async def get_scan(session: AsyncSession, *, ctx: Context, scan_id: uuid.UUID) -> dict[str, Any]:
    scan = await repository.get_scan(session, tenant_id=ctx.tenant_id, scan_id=scan_id)
    if scan is None:
        raise scan_not_found()
    return scan


async def list_scans(session: AsyncSession, *, ctx: Context, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_scans(session, tenant_id=ctx.tenant_id, offset=offset,
                                       limit=limit)


async def cancel_scan(session: AsyncSession, *, ctx: Context,
                      scan_id: uuid.UUID) -> dict[str, Any]:
    scan = await repository.get_scan(session, tenant_id=ctx.tenant_id, scan_id=scan_id,
                                     for_update=True)
    if scan is None:
        raise scan_not_found()
    if scan["status"] not in ("queued", "running"):
        raise Conflict(f"The scan is {scan['status']}.", code="DUPLICATE_SCAN_FINISHED")
    return await repository.SCAN_ROWS.update(session, tenant_id=ctx.tenant_id, row_id=scan_id,
                                             values={"status": "cancelled",
                                                     "finished_at": datetime.now(UTC)})
