"""SQL for pipelines and stages (always tenant-scoped). Stage moves are in
:mod:`.moves`, boards and metrics in :mod:`.board`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db import raw
from leadbase.db.base import table_of
from leadbase.kit import crud
from leadbase.kit.ids import new_id
from leadbase.models import Lead, Pipeline, Stage, StageChange

P = table_of(Pipeline)
S = table_of(Stage)
C = table_of(StageChange)
L = table_of(Lead)

STAGE_COLUMNS = ("id, pipeline_id, name, code, position, probability, category, rot_days, "
                 "created_at, updated_at, version")


async def create_defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """The workspace's default lead and deal pipelines with their stages (migration 0016's
    ``lb_create_default_pipelines``; a no-op where they exist)."""
    await session.execute(text("SELECT lb_create_default_pipelines(:t)"), {"t": tenant_id})


# ---------------------------------------------------------------------------- pipelines

async def list_pipelines(session: AsyncSession, *, tenant_id: uuid.UUID, kind: str | None,
                         offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    where = [P.c.deleted_at.is_(None)] + ([P.c.kind == kind] if kind else [])
    return await crud.list_rows(session, P, tenant_id=tenant_id, where=where,
                                order=[P.c.kind, P.c.position], offset=offset, limit=limit)


async def get_pipeline(session: AsyncSession, *, tenant_id: uuid.UUID,
                       pipeline_id: uuid.UUID, for_update: bool = False
                       ) -> dict[str, Any] | None:
    return await crud.get_row(session, P, tenant_id=tenant_id, row_id=pipeline_id,
                              for_update=for_update, where=[P.c.deleted_at.is_(None)])


async def default_pipeline(session: AsyncSession, *, tenant_id: uuid.UUID,
                           kind: str) -> dict[str, Any] | None:
    q = select(P).where(P.c.tenant_id == tenant_id, P.c.kind == kind, P.c.is_default,
                        P.c.deleted_at.is_(None))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def lock_defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Serialise changes of a workspace's default pipelines (released at commit)."""
    await raw.fetch_row(session, "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        (f"pipelines:{tenant_id}",))


async def insert_pipeline(session: AsyncSession, *, tenant_id: uuid.UUID,
                          values: dict[str, Any]) -> dict[str, Any]:
    return await crud.insert_row(session, P, tenant_id=tenant_id, values=values)


async def update_pipeline(session: AsyncSession, *, tenant_id: uuid.UUID,
                          pipeline_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, P, tenant_id=tenant_id, row_id=pipeline_id,
                                 values=values)


async def clear_default(session: AsyncSession, *, tenant_id: uuid.UUID, kind: str) -> None:
    await session.execute(
        update(P).where(P.c.tenant_id == tenant_id, P.c.kind == kind, P.c.is_default,
                        P.c.deleted_at.is_(None))
        .values(is_default=False, updated_at=func.now(), version=P.c.version + 1))


async def next_pipeline_position(session: AsyncSession, *, tenant_id: uuid.UUID,
                                 kind: str) -> int:
    q = select(func.coalesce(func.max(P.c.position) + 1, 0)).where(
        P.c.tenant_id == tenant_id, P.c.kind == kind, P.c.deleted_at.is_(None))
    return int((await session.execute(q)).scalar_one())


async def pipeline_holds_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                               pipeline_id: uuid.UUID) -> bool:
    """Whether any lead (deleted ones too: they keep their stage) is in the pipeline."""
    row = await raw.fetch_row(
        session, "SELECT EXISTS (SELECT 1 FROM leads l JOIN pipeline_stages s ON "
        "s.tenant_id = l.tenant_id AND s.id = l.stage_id WHERE l.tenant_id = %s "
        "AND s.tenant_id = %s AND s.pipeline_id = %s)", (tenant_id, tenant_id, pipeline_id))
    return bool(row and row[0])


# ---------------------------------------------------------------------------- stages

async def stages_of(session: AsyncSession, *, tenant_id: uuid.UUID,
                    pipeline_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Live stages of the pipelines, in order."""
    return await raw.fetch_all(
        session, f"SELECT {STAGE_COLUMNS} FROM pipeline_stages WHERE tenant_id = %s "
        "AND pipeline_id = ANY(%s) AND deleted_at IS NULL ORDER BY pipeline_id, position",
        (tenant_id, pipeline_ids))


async def get_stage(session: AsyncSession, *, tenant_id: uuid.UUID, pipeline_id: uuid.UUID,
                    stage_id: uuid.UUID) -> dict[str, Any] | None:
    return await crud.get_row(session, S, tenant_id=tenant_id, row_id=stage_id,
                              where=[S.c.pipeline_id == pipeline_id, S.c.deleted_at.is_(None)])


async def insert_stages(session: AsyncSession, *, tenant_id: uuid.UUID,
                        pipeline_id: uuid.UUID, stages: list[dict[str, Any]]) -> None:
    for stage in stages:
        await session.execute(S.insert().values(id=new_id(), tenant_id=tenant_id,
                                                pipeline_id=pipeline_id, **stage))


async def update_stage(session: AsyncSession, *, tenant_id: uuid.UUID, stage_id: uuid.UUID,
                       values: dict[str, Any]) -> dict[str, Any]:
    return await crud.update_row(session, S, tenant_id=tenant_id, row_id=stage_id,
                                 values=values)


async def shift_positions(session: AsyncSession, *, tenant_id: uuid.UUID,
                          pipeline_id: uuid.UUID, start: int, by: int) -> None:
    """Move the live stages at ``start`` and beyond by ``by`` places."""
    await session.execute(
        update(S).where(S.c.tenant_id == tenant_id, S.c.pipeline_id == pipeline_id,
                        S.c.deleted_at.is_(None), S.c.position >= start)
        .values(position=S.c.position + by, updated_at=func.now()))


async def set_order(session: AsyncSession, *, tenant_id: uuid.UUID, pipeline_id: uuid.UUID,
                    stage_ids: list[uuid.UUID]) -> None:
    """Positions 0.. in the order of ``stage_ids`` (one statement)."""
    await raw.execute(
        session, "UPDATE pipeline_stages s SET position = o.n - 1, updated_at = now(), "
        "version = s.version + 1 FROM unnest(%s::uuid[]) WITH ORDINALITY AS o(id, n) "
        "WHERE s.tenant_id = %s AND s.pipeline_id = %s AND s.id = o.id "
        "AND s.position <> o.n - 1", (stage_ids, tenant_id, pipeline_id))


async def stage_holds_leads(session: AsyncSession, *, tenant_id: uuid.UUID,
                            stage_id: uuid.UUID) -> bool:
    row = await raw.fetch_row(session, "SELECT EXISTS (SELECT 1 FROM leads WHERE "
                              "tenant_id = %s AND stage_id = %s)", (tenant_id, stage_id))
    return bool(row and row[0])


async def stage_was_used(session: AsyncSession, *, tenant_id: uuid.UUID,
                         stage_id: uuid.UUID) -> bool:
    """Whether a lead is in the stage or its history names it."""
    row = await raw.fetch_row(
        session, "SELECT EXISTS (SELECT 1 FROM leads WHERE tenant_id = %(t)s AND "
        "stage_id = %(s)s) OR EXISTS (SELECT 1 FROM stage_changes WHERE tenant_id = %(t)s "
        "AND to_stage_id = %(s)s) OR EXISTS (SELECT 1 FROM stage_changes WHERE "
        "tenant_id = %(t)s AND from_stage_id = %(s)s)", {"t": tenant_id, "s": stage_id})
    return bool(row and row[0])


async def find_stages(session: AsyncSession, *, tenant_id: uuid.UUID, refs: list[str],
                      pipeline_id: uuid.UUID | None, kind: str = "lead"
                      ) -> list[dict[str, Any]]:
    """Live stages of live ``kind`` pipelines named by id or code (codes looked up in
    ``pipeline_id`` when given, else in every such pipeline)."""
    ids: list[uuid.UUID] = []
    codes: list[str] = []
    for ref in refs:
        try:
            ids.append(uuid.UUID(ref))
        except ValueError:
            codes.append(ref)
    return await raw.fetch_all(
        session, "SELECT s.id, s.pipeline_id, s.code, s.position FROM pipeline_stages s "
        "JOIN pipelines p ON p.tenant_id = s.tenant_id AND p.id = s.pipeline_id "
        "WHERE s.tenant_id = %(t)s AND p.tenant_id = %(t)s AND s.deleted_at IS NULL "
        "AND p.deleted_at IS NULL AND p.kind = %(k)s "
        "AND (%(p)s::uuid IS NULL OR s.pipeline_id = %(p)s::uuid) "
        "AND (s.id = ANY(%(ids)s) OR s.code = ANY(%(codes)s))",
        {"t": tenant_id, "k": kind, "p": pipeline_id, "ids": ids, "codes": codes})


async def default_stage(session: AsyncSession, *, tenant_id: uuid.UUID
                        ) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(pipeline id, first stage id) of the default lead pipeline."""
    row = await raw.fetch_row(
        session, "SELECT p.id, s.id FROM pipelines p JOIN pipeline_stages s ON "
        "s.tenant_id = p.tenant_id AND s.pipeline_id = p.id WHERE p.tenant_id = %s "
        "AND p.kind = 'lead' AND p.is_default AND p.deleted_at IS NULL "
        "AND s.deleted_at IS NULL ORDER BY s.position LIMIT 1", (tenant_id,))
    return (row[0], row[1]) if row else None
