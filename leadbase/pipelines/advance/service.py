"""Rules of auto-advance rules (``/pipelines/{id}/stages/{stage_id}/advance-rules``).

- A rule belongs to a stage of a lead pipeline: a lead in that stage whose condition (the
  rule language, checked when saved: 422 ``INVALID_RULE`` naming ``condition....`` paths)
  holds moves to ``target_stage`` — another live stage of the same pipeline (422
  ``INVALID_TARGET_STAGE`` otherwise).
- A stage's rules are ordered (``position``, 0 first; at most 20): the first that
  matches fires (leadbase.pipelines.advance.evaluate).
- Reading needs any role; writing needs manager or higher (the endpoints say so).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.pipelines import service as pipelines
from leadbase.pipelines.advance import repository
from leadbase.pipelines.advance.schemas import (
    MAX_RULES_PER_STAGE,
    AdvanceRuleCreate,
    AdvanceRuleRead,
    AdvanceRuleUpdate,
)


def rule_not_found() -> NotFound:
    return NotFound("Auto-advance rule not found.", code="ADVANCE_RULE_NOT_FOUND")


async def stage_of(session: AsyncSession, ctx: Context, pipeline_id: uuid.UUID,
                   stage_id: uuid.UUID) -> tuple[dict[str, Any], dict[str, Any]]:
    """The lead pipeline and its live stage (404 ``PIPELINE_NOT_FOUND`` /
    ``STAGE_NOT_FOUND``; a deal pipeline holds no leads: 404 as well)."""
    pipeline = await pipelines.get_pipeline(session, ctx=ctx, pipeline_id=pipeline_id)
    if pipeline["kind"] != "lead":
        raise NotFound("Auto-advance works on lead pipelines; this is a deal pipeline.",
                       code="PIPELINE_NOT_FOUND")
    stage = next((s for s in pipeline["stages"] if s["id"] == stage_id), None)
    if stage is None:
        raise pipelines.stage_not_found()
    return pipeline, stage


def _target(pipeline: dict[str, Any], stage: dict[str, Any], ref: str) -> dict[str, Any]:
    target: dict[str, Any] | None = next(
        (s for s in pipeline["stages"] if ref in (str(s["id"]), s["code"])), None)
    if target is None or target["id"] == stage["id"]:
        why = "the rule's own stage" if target is not None else "no such stage"
        raise ValidationFailed(f"target_stage must name another stage of this pipeline "
                               f"({why}).", code="INVALID_TARGET_STAGE",
                               errors=[{"field": "target_stage", "message": why}])
    return target


async def _checked(session: AsyncSession, ctx: Context,
                   condition: dict[str, Any]) -> dict[str, Any]:
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    checked: dict[str, Any] = rules.parse(condition, catalog, path="condition").to_json()
    return checked


async def with_summaries(session: AsyncSession, ctx: Context,
                         rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rule with ``summary`` (its condition in words) and ``problems``."""
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id) if rows else None
    out = []
    for row in rows:
        assert catalog is not None
        summary, problems = None, None
        try:
            summary = rules.describe(rules.parse(row["condition"], catalog, path="condition"))
        except ValidationFailed as exc:
            problems = exc.errors or [{"field": "condition", "message": exc.detail}]
        out.append({**row, "summary": summary, "problems": problems})
    return out


async def _written(session: AsyncSession, ctx: Context, stage_id: uuid.UUID,
                   rule_id: uuid.UUID, action: str, fields: list[str]) -> dict[str, Any]:
    row = found(await repository.get_rule(session, tenant_id=ctx.tenant_id, stage_id=stage_id,
                                          rule_id=rule_id), rule_not_found)
    shown = (await with_summaries(session, ctx, [row]))[0]
    await audit.record(session, ctx=ctx, action=f"advance_rule.{action}",
                       entity_type="advance_rule", entity_id=rule_id,
                       changes={"fields": sorted(fields)},
                       event=outbox.event(
                           tenant_id=ctx.tenant_id, type=f"advance_rule.{action}",
                           entity_type="advance_rule", entity_id=rule_id,
                           payload=AdvanceRuleRead.model_validate(shown).model_dump(
                               mode="json")))
    return shown


async def _place(session: AsyncSession, ctx: Context, stage_id: uuid.UUID,
                 rule_id: uuid.UUID, position: int | None) -> None:
    """Put ``rule_id`` at ``position`` among the stage's rules (None: keep its order,
    close the gaps)."""
    ids = [r["id"] for r in await repository.rules_of_stage(
        session, tenant_id=ctx.tenant_id, stage_id=stage_id)]
    if position is not None:
        ids.remove(rule_id)
        ids.insert(min(position, len(ids)), rule_id)
    await repository.set_positions(session, tenant_id=ctx.tenant_id,
                                   positions={rid: i for i, rid in enumerate(ids)})


async def list_rules(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                     stage_id: uuid.UUID) -> list[dict[str, Any]]:
    await stage_of(session, ctx, pipeline_id, stage_id)
    rows = await repository.rules_of_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id)
    return await with_summaries(session, ctx, rows)


async def get_rule(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                   stage_id: uuid.UUID, rule_id: uuid.UUID) -> dict[str, Any]:
    await stage_of(session, ctx, pipeline_id, stage_id)
    row = found(await repository.get_rule(session, tenant_id=ctx.tenant_id, stage_id=stage_id,
                                          rule_id=rule_id), rule_not_found)
    return (await with_summaries(session, ctx, [row]))[0]


async def create_rule(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                      stage_id: uuid.UUID, body: AdvanceRuleCreate) -> dict[str, Any]:
    pipeline, stage = await stage_of(session, ctx, pipeline_id, stage_id)
    target = _target(pipeline, stage, body.target_stage)
    condition = await _checked(session, ctx, body.condition)
    await repository.lock_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id)
    existing = await repository.rules_of_stage(session, tenant_id=ctx.tenant_id,
                                               stage_id=stage_id)
    if len(existing) >= MAX_RULES_PER_STAGE:
        raise Conflict(f"A stage has at most {MAX_RULES_PER_STAGE} auto-advance rules.",
                       code="TOO_MANY_RULES")
    row = await repository.ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "pipeline_id": pipeline_id, "stage_id": stage_id, "target_stage_id": target["id"],
        "name": body.name, "condition": condition, "position": len(existing),
        "enabled": body.enabled})
    if body.position is not None and body.position < len(existing):
        await _place(session, ctx, stage_id, row["id"], body.position)
    return await _written(session, ctx, stage_id, row["id"], "created",
                          ["name", "condition", "target_stage_id", "position", "enabled"])


async def update_rule(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                      stage_id: uuid.UUID, rule_id: uuid.UUID, body: AdvanceRuleUpdate,
                      expected_version: int | None) -> dict[str, Any]:
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    for key in ("name", "condition", "target_stage", "enabled", "position"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    pipeline, stage = await stage_of(session, ctx, pipeline_id, stage_id)
    await repository.lock_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id)
    current = found(await repository.get_rule(session, tenant_id=ctx.tenant_id,
                                              stage_id=stage_id, rule_id=rule_id,
                                              for_update=True), rule_not_found)
    check_version(current, expected_version, what="auto-advance rule")
    values: dict[str, Any] = {}
    if "target_stage" in patch:
        values["target_stage_id"] = _target(pipeline, stage, patch.pop("target_stage"))["id"]
    if "condition" in patch:
        values["condition"] = await _checked(session, ctx, patch.pop("condition"))
    position = patch.pop("position", None)
    values.update(patch)
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    moved = position is not None and position != current["position"]
    if not changed and not moved:
        return (await with_summaries(session, ctx, [current]))[0]
    await repository.ROWS.update(session, tenant_id=ctx.tenant_id, row_id=rule_id,
                                 values=changed)
    if moved:
        await _place(session, ctx, stage_id, rule_id, position)
    return await _written(session, ctx, stage_id, rule_id, "updated",
                          list(changed) + (["position"] if moved else []))


async def delete_rule(session: AsyncSession, *, ctx: Context, pipeline_id: uuid.UUID,
                      stage_id: uuid.UUID, rule_id: uuid.UUID,
                      expected_version: int | None) -> None:
    await stage_of(session, ctx, pipeline_id, stage_id)
    await repository.lock_stage(session, tenant_id=ctx.tenant_id, stage_id=stage_id)
    current = found(await repository.get_rule(session, tenant_id=ctx.tenant_id,
                                              stage_id=stage_id, rule_id=rule_id,
                                              for_update=True), rule_not_found)
    check_version(current, expected_version, what="auto-advance rule")
    await repository.soft_delete(session, tenant_id=ctx.tenant_id, rule_id=rule_id)
    await _place(session, ctx, stage_id, rule_id, None)
    await audit.record(session, ctx=ctx, action="advance_rule.deleted",
                       entity_type="advance_rule", entity_id=rule_id,
                       event=outbox.event(tenant_id=ctx.tenant_id, type="advance_rule.deleted",
                                          entity_type="advance_rule", entity_id=rule_id,
                                          payload={"id": str(rule_id),
                                                   "stage_id": str(stage_id)}))
