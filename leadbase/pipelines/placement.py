"""Where a lead stands: the stage a new lead starts in, and the lead list's ``pipeline_id=``
and ``stage=`` filters made conditions. (Called by leads.service; no rule of its own
beyond resolving names.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, false
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.kit.errors import ValidationFailed
from leadbase.leads.filters import LeadFilter
from leadbase.leads.repository import T
from leadbase.pipelines import repository


def unknown_stage(field: str, ref: str, code: str = "STAGE_NOT_FOUND") -> ValidationFailed:
    return ValidationFailed(f"No stage '{ref}' in this workspace's lead pipelines.",
                            code=code, errors=[{"field": field, "message": "unknown stage"}])


async def first_placement(session: AsyncSession, *, tenant_id: uuid.UUID, stage: str | None,
                          pipeline_id: uuid.UUID | None) -> dict[str, Any]:
    """The ``stage_id`` of a new lead: the stage named (id or code, in ``pipeline_id``
    when given), the first stage of ``pipeline_id``, or {}. The ``lb_lead_default_stage``
    trigger fills in the rest: the stage's pipeline and ``stage_entered_at`` (and with no
    stage, the default lead pipeline's first stage)."""
    if stage is None and pipeline_id is None:
        return {}
    if stage is None:
        assert pipeline_id is not None
        stages = await repository.stages_of(session, tenant_id=tenant_id,
                                            pipeline_ids=[pipeline_id])
        pipeline = await repository.get_pipeline(session, tenant_id=tenant_id,
                                                 pipeline_id=pipeline_id)
        if not stages or pipeline is None or pipeline["kind"] != "lead":
            raise ValidationFailed("The pipeline is not a lead pipeline of this workspace.",
                                   code="PIPELINE_NOT_FOUND",
                                   errors=[{"field": "pipeline_id",
                                            "message": "unknown lead pipeline"}])
        return {"stage_id": stages[0]["id"]}
    found = await repository.find_stages(session, tenant_id=tenant_id, refs=[stage],
                                         pipeline_id=pipeline_id)
    if not found:
        raise unknown_stage("stage", stage)
    if len(found) > 1:
        raise ValidationFailed(f"Several lead pipelines have a stage '{stage}': name the "
                               "pipeline_id.", code="STAGE_AMBIGUOUS",
                               errors=[{"field": "pipeline_id", "message": "required"}])
    return {"stage_id": found[0]["id"]}


async def stage_conditions(session: AsyncSession, *, tenant_id: uuid.UUID,
                           f: LeadFilter) -> list[ColumnElement[bool]]:
    """``pipeline_id=`` and ``stage=`` as ``stage_id IN (...)`` (served by
    ix_leads_tenant_stage_created); an unknown stage code is 422 ``INVALID_FILTER``."""
    conds: list[ColumnElement[bool]] = []
    if f.pipeline_ids:
        conds.append(T.c.pipeline_id.in_(f.pipeline_ids))
        if not f.stages:  # the stages' index serves it
            ids = [s["id"] for s in await repository.stages_of(
                session, tenant_id=tenant_id, pipeline_ids=f.pipeline_ids)]
            conds.append(T.c.stage_id.in_(ids) if ids else false())
    if f.stages:
        pipeline_id = f.pipeline_ids[0] if f.pipeline_ids and len(f.pipeline_ids) == 1 \
            else None
        found = await repository.find_stages(session, tenant_id=tenant_id, refs=f.stages,
                                             pipeline_id=pipeline_id)
        known = {str(s["id"]) for s in found} | {s["code"] for s in found}
        missing = [ref for ref in f.stages if ref not in known
                   and ref.lower() not in known]
        if missing and not all(_is_uuid(m) for m in missing):
            raise ValidationFailed(f"Unknown stage '{missing[0]}'.", code="INVALID_FILTER",
                                   errors=[{"field": "stage", "message": "unknown stage"}])
        ids = [s["id"] for s in found]
        conds.append(T.c.stage_id.in_(ids) if ids else false())
    return conds


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
