"""Rules for pipelines and stages.

- Reading needs any role; writing needs manager or higher (the endpoints say so).
- One default pipeline per kind: making one the default takes the flag from the other
  (under a per-workspace lock). The default cannot be deleted, nor stop being the
  default except by another taking its place.
- A stage's ``code`` is a lowercase slug, unique among the pipeline's live stages. It is
  stable: renaming a stage keeps it. It may be changed only while no lead is in the stage
  and no stage change names it (profiles, rules and saved filters name stages by code).
- A stage that holds leads is deleted only with ``move_to`` (another stage of the same
  pipeline): its leads move there set-based, each with its stage change. The last stage
  of a pipeline cannot be deleted. A pipeline that holds leads cannot be deleted.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.opportunities import repository as opportunities_repository
from leadbase.pipelines import repository
from leadbase.pipelines.repository import moves
from leadbase.pipelines.schemas import (
    MAX_STAGES,
    PipelineCreate,
    PipelineRead,
    PipelineUpdate,
    StageCreate,
    StageUpdate,
)


async def create_defaults(session: AsyncSession, *, tenant_id: uuid.UUID) -> None:
    """Give a new workspace its default lead and deal pipelines."""
    await repository.create_defaults(session, tenant_id=tenant_id)


def pipeline_not_found() -> NotFound:
    return NotFound("Pipeline not found.", code="PIPELINE_NOT_FOUND")


def stage_not_found() -> NotFound:
    return NotFound("Stage not found.", code="STAGE_NOT_FOUND")


def slug(name: str) -> str:
    """A stage code from a name: ``"Proposal sent!"`` → ``"proposal_sent"``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    code = re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")[:64].strip("_")
    return code or "stage"


def _code_taken(code: str, field: str = "code") -> Conflict:
    return Conflict(f"The pipeline already has a stage with the code '{code}'.",
                    code="STAGE_CODE_TAKEN", errors=[{"field": field, "message": "taken"}])


def _stage_values(stage: StageCreate, position: int) -> dict[str, Any]:
    return {"name": stage.name, "code": stage.code or slug(stage.name), "position": position,
            "probability": stage.probability, "category": stage.category,
            "rot_days": stage.rot_days}


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    return PipelineRead.model_validate(row).model_dump(mode="json")


async def _with_stages(session: AsyncSession, tenant_id: uuid.UUID,
                       rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stages = await repository.stages_of(session, tenant_id=tenant_id,
                                        pipeline_ids=[r["id"] for r in rows])
    by_pipeline: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for stage in stages:
        by_pipeline.setdefault(stage["pipeline_id"], []).append(stage)
    return [{**r, "stages": by_pipeline.get(r["id"], [])} for r in rows]


async def list_pipelines(session: AsyncSession, *, ctx: Context, kind: str | None,
                         params: PageParams) -> tuple[list[dict[str, Any]], int]:
    rows, total = await repository.list_pipelines(session, tenant_id=ctx.tenant_id, kind=kind,
                                                  offset=params.offset, limit=params.per_page)
    return await _with_stages(session, ctx.tenant_id, rows), total


async def get_pipeline(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                       for_update: bool = False) -> dict[str, Any]:
    row = found(await repository.get_pipeline(session, tenant_id=ctx.tenant_id,
                                              pipeline_id=pipeline_id, for_update=for_update),
                pipeline_not_found)
    return (await _with_stages(session, ctx.tenant_id, [row]))[0]


async def _make_default(session: AsyncSession, ctx: Context, kind: str) -> None:
    await repository.lock_defaults(session, tenant_id=ctx.tenant_id)
    await repository.clear_default(session, tenant_id=ctx.tenant_id, kind=kind)


async def _written(session: AsyncSession, ctx: Context, pipeline_id: uuid.UUID, *,
                   action: str, changes: list[str], touch: bool = False) -> dict[str, Any]:
    """The pipeline after a write, with its audit entry and ``pipeline.<action>`` event
    (``touch``: a change of its stages, which bumps the pipeline's version too)."""
    if touch:
        await repository.update_pipeline(session, tenant_id=ctx.tenant_id,
                                         pipeline_id=pipeline_id, values={})
    row = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id)
    await audit.record(session, ctx=ctx, action=f"pipeline.{action}", entity_type="pipeline",
                       entity_id=pipeline_id, changes={"fields": sorted(changes)},
                       event=outbox.event(tenant_id=ctx.tenant_id, type=f"pipeline.{action}",
                                          entity_type="pipeline", entity_id=pipeline_id,
                                          payload=_payload(row)))
    return row


async def create_pipeline(session: AsyncSession, *, ctx: Context,
                          body: PipelineCreate) -> dict[str, Any]:
    stages = [_stage_values(s, i) for i, s in enumerate(body.stages)]
    codes = [s["code"] for s in stages]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise ValidationFailed(f"Two stages have the code '{code}'.",
                                   code="STAGE_CODE_TAKEN",
                                   errors=[{"field": f"stages.{i}.code", "message": "taken"}])
    if body.is_default:
        await _make_default(session, ctx, body.kind)
    position = body.position
    if position is None:
        position = await repository.next_pipeline_position(session, tenant_id=ctx.tenant_id,
                                                           kind=body.kind)
    row = await repository.insert_pipeline(session, tenant_id=ctx.tenant_id, values={
        "name": body.name, "kind": body.kind, "description": body.description,
        "is_default": body.is_default, "position": position})
    await repository.insert_stages(session, tenant_id=ctx.tenant_id, pipeline_id=row["id"],
                                   stages=stages)
    return await _written(session, ctx, row["id"], action="created",
                          changes=["name", "kind", "stages"])


async def update_pipeline(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                          body: PipelineUpdate, expected_version: int | None) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    if "name" in patch and patch["name"] is None:
        raise ValidationFailed("'name' cannot be null.", code="NULL_NOT_ALLOWED",
                               errors=[{"field": "name", "message": "cannot be null"}])
    for key in ("position", "is_default"):
        if key in patch and patch[key] is None:
            patch.pop(key)
    current = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    check_version(current, expected_version, what="pipeline")
    changed = {k: v for k, v in patch.items() if current.get(k) != v}
    if not changed:
        return current
    if changed.get("is_default"):
        await _make_default(session, ctx, current["kind"])
    await repository.update_pipeline(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                     values=changed)
    return await _written(session, ctx, pipeline_id, action="updated", changes=list(changed))


async def delete_pipeline(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                          expected_version: int | None) -> None:
    current = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    check_version(current, expected_version, what="pipeline")
    if current["is_default"]:
        raise Conflict("The default pipeline cannot be deleted; make another the default "
                       "first.", code="DEFAULT_PIPELINE")
    if await repository.pipeline_holds_leads(session, tenant_id=ctx.tenant_id,
                                             pipeline_id=pipeline_id):
        raise Conflict("The pipeline holds leads; move them first.",
                       code="PIPELINE_NOT_EMPTY")
    if await opportunities_repository.pipeline_holds_opportunities(
            session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id):
        raise Conflict("The pipeline holds opportunities; move them first.",
                       code="PIPELINE_NOT_EMPTY")
    now = datetime.now(UTC)
    await repository.update_pipeline(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                     values={"deleted_at": now})
    await audit.record(session, ctx=ctx, action="pipeline.deleted", entity_type="pipeline",
                       entity_id=pipeline_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="pipeline.deleted",
                                          entity_type="pipeline", entity_id=pipeline_id,
                                          payload={"id": str(pipeline_id)}))


# ---------------------------------------------------------------------------- stages

def _stage_of(pipeline: dict[str, Any], stage_id: uuid.UUID) -> dict[str, Any]:
    for stage in pipeline["stages"]:
        if stage["id"] == stage_id:
            return dict(stage)
    raise stage_not_found()


async def add_stage(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                    body: StageCreate) -> dict[str, Any]:
    pipeline = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    stages = pipeline["stages"]
    if len(stages) >= MAX_STAGES:
        raise Conflict(f"A pipeline has at most {MAX_STAGES} stages.", code="TOO_MANY_STAGES")
    position = len(stages) if body.position is None else min(body.position, len(stages))
    values = _stage_values(body, position)
    if values["code"] in {s["code"] for s in stages}:
        raise _code_taken(values["code"])
    await repository.shift_positions(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                     start=position, by=1)
    await repository.insert_stages(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                   stages=[values])
    return await _written(session, ctx, pipeline_id, action="updated", changes=["stages"],
                          touch=True)


async def update_stage(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                       stage_id: uuid.UUID, body: StageUpdate,
                       expected_version: int | None) -> dict[str, Any]:
    """Change a stage; ``expected_version`` is the pipeline's (its ETag: stages are
    read and written as parts of their pipeline)."""
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("name", "code", "probability", "category"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    pipeline = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    check_version(pipeline, expected_version, what="pipeline")
    stage = _stage_of(pipeline, stage_id)
    changed = {k: v for k, v in patch.items() if stage.get(k) != v}
    if not changed:
        return pipeline
    if "code" in changed:
        if changed["code"] in {s["code"] for s in pipeline["stages"]}:
            raise _code_taken(changed["code"])
        if await repository.stage_was_used(session, tenant_id=ctx.tenant_id, stage_id=stage_id):
            raise Conflict("The code of a stage that holds or held leads stays as it is.",
                           code="STAGE_CODE_IN_USE",
                           errors=[{"field": "code", "message": "in use"}])
    if "category" in changed and await opportunities_repository.stage_holds_opportunities(
            session, tenant_id=ctx.tenant_id, stage_id=stage_id):
        raise Conflict("The category of a stage that holds opportunities stays as it is "
                       "(their status follows it).", code="STAGE_CATEGORY_IN_USE",
                       errors=[{"field": "category", "message": "in use"}])
    try:
        await repository.update_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id,
                                      values=changed)
    except IntegrityError:  # a concurrent write took the code
        raise _code_taken(str(changed.get("code"))) from None
    return await _written(session, ctx, pipeline_id, action="updated",
                          changes=[f"stages.{k}" for k in changed], touch=True)


async def reorder_stages(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                         stage_ids: list[uuid.UUID],
                         expected_version: int | None) -> dict[str, Any]:
    pipeline = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    check_version(pipeline, expected_version, what="pipeline")
    live = [s["id"] for s in pipeline["stages"]]
    if sorted(map(str, stage_ids)) != sorted(map(str, live)):
        raise ValidationFailed("stage_ids must name every live stage of the pipeline once.",
                               code="INVALID_STAGE_ORDER",
                               errors=[{"field": "stage_ids",
                                        "message": "every stage of the pipeline, once"}])
    if stage_ids == live:
        return pipeline
    await repository.set_order(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                               stage_ids=stage_ids)
    return await _written(session, ctx, pipeline_id, action="updated", changes=["stages"],
                          touch=True)


async def delete_stage(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                       stage_id: uuid.UUID, move_to: str | None,
                       expected_version: int | None) -> dict[str, Any]:
    """Soft-delete a stage. Its leads (if any) move to ``move_to`` (id or code of another
    stage of the pipeline) first; without ``move_to`` a stage with leads is 409
    ``STAGE_NOT_EMPTY``."""
    pipeline = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id, for_update=True)
    check_version(pipeline, expected_version, what="pipeline")
    stage = _stage_of(pipeline, stage_id)
    if len(pipeline["stages"]) == 1:
        raise Conflict("A pipeline keeps at least one stage.", code="LAST_STAGE")
    target = None
    if move_to is not None:
        target = next((s for s in pipeline["stages"]
                       if move_to in (str(s["id"]), s["code"])), None)
        if target is None or target["id"] == stage_id:
            raise ValidationFailed("move_to must name another stage of this pipeline.",
                                   code="INVALID_MOVE_TO",
                                   errors=[{"field": "move_to", "message": "unknown stage"}])
    moved = 0
    holds = await repository.stage_holds_leads(session, tenant_id=ctx.tenant_id,
                                               stage_id=stage_id)
    if holds and target is None:
        raise Conflict("The stage holds leads: name the stage they move to (move_to).",
                       code="STAGE_NOT_EMPTY")
    deals = await opportunities_repository.stage_holds_opportunities(
        session, tenant_id=ctx.tenant_id, stage_id=stage_id)
    if deals and target is None:
        raise Conflict("The stage holds opportunities: name the stage they move to "
                       "(move_to).", code="STAGE_NOT_EMPTY")
    if deals and target is not None and target["category"] != stage["category"]:
        raise ValidationFailed("The stage's opportunities move to a stage of the same "
                               f"category ({stage['category']}).", code="INVALID_MOVE_TO",
                               errors=[{"field": "move_to",
                                        "message": "another category"}])
    now = datetime.now(UTC)
    moved_deals = 0
    if deals and target is not None:
        moved_deals = await opportunities_repository.move_all(
            session, tenant_id=ctx.tenant_id, from_stage_id=stage_id,
            to_stage_id=target["id"], pipeline_id=pipeline_id, now=now,
            actor_user_id=ctx.actor_user_id, reason=f"stage {stage['code']} deleted")
    if holds and target is not None:
        moved = await moves.move_all(session, tenant_id=ctx.tenant_id,
                                     from_pipeline_id=pipeline_id, from_stage_id=stage_id,
                                     to_pipeline_id=pipeline_id, to_stage_id=target["id"],
                                     now=now, actor_user_id=ctx.actor_user_id,
                                     reason=f"stage {stage['code']} deleted")
    await repository.update_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id,
                                  values={"deleted_at": now})
    await repository.shift_positions(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                     start=stage["position"] + 1, by=-1)
    await repository.update_pipeline(session, tenant_id=ctx.tenant_id, pipeline_id=pipeline_id,
                                     values={})
    row = await get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id)
    await audit.record(session, ctx=ctx, action="pipeline.stage_deleted",
                       entity_type="pipeline", entity_id=pipeline_id,
                       changes={"stage_id": str(stage_id), "moved": moved,
                                "moved_opportunities": moved_deals},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="pipeline.updated",
                                          entity_type="pipeline", entity_id=pipeline_id,
                                          payload={**_payload(row), "deleted_stage_id":
                                                   str(stage_id), "moved_leads": moved,
                                                   "moved_opportunities": moved_deals}))
    return row
