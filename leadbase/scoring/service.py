"""Rules for scoring models and scores.

- A workspace has at most one model in force: the highest version. Every PUT saves a new
  version (the old ones are kept and listed), audited as ``scoring.model_updated``, under
  ``If-Match`` (the ETag is the version; ``"0"`` before the first). Reading needs any
  role; writing, previewing and recalculating need manager or higher.
- A rule's condition is checked against the workspace's catalog when saved (422
  ``INVALID_RULE``, ``errors`` naming ``rules[i].condition...``); a rule may not read the
  score or the temperature (a score made of itself). Points are never 0; hot is above
  warm.
- Scores are written by the system: the lead's version and ``updated_at`` stay, and no
  ``lead.updated`` is emitted (a rescore follows lead events; it must not cause them).
  ``lead.score_changed`` is emitted when a lead's temperature changes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.audit import service as audit
from leadbase.auth.context import Context, actor_of
from leadbase.events import outbox
from leadbase.kit.checks import check_version, found
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.scoring import engine, repository, sql
from leadbase.scoring.model import Model
from leadbase.scoring.predictive import service as predictive
from leadbase.scoring.schemas import ModelIn
from leadbase.worker.defer import defer

QUEUE = "scoring"
SELF_FIELDS = frozenset({"score", "temperature"})


def job_not_found() -> NotFound:
    return NotFound("Scoring job not found.", code="SCORING_JOB_NOT_FOUND")


def _self_reference(node: Any, path: str) -> list[dict[str, str]]:
    """Predicates of a stored condition that read the score or the temperature."""
    if not isinstance(node, dict):
        return []
    out: list[dict[str, str]] = []
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            for i, item in enumerate(node[key]):
                out += _self_reference(item, f"{path}.{key}[{i}]")
    if "not" in node:
        out += _self_reference(node["not"], f"{path}.not")
    if node.get("field") in SELF_FIELDS:
        out.append({"field": f"{path}.field",
                    "message": "a scoring rule cannot read the score or the temperature"})
    return out


async def check_model(session: AsyncSession, *, ctx: Context, body: ModelIn,
                      version: int = 0) -> tuple[Model, list[dict[str, Any]]]:
    """The draft checked: (the model to compute with, the rules to store). 422 with every
    problem found."""
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    errors: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, r in enumerate(body.rules):
        if r.points == 0:
            errors.append({"field": f"rules[{i}].points", "message": "points cannot be 0"})
        if r.name.lower() in names:
            errors.append({"field": f"rules[{i}].name", "message": "another rule has this name"})
        names.add(r.name.lower())
        problems = _self_reference(r.condition, f"rules[{i}].condition")
        if problems:
            errors += problems
            continue
        try:
            rule = rules.parse(r.condition, catalog, path=f"rules[{i}].condition")
        except ValidationFailed as exc:
            errors += exc.errors or [{"field": f"rules[{i}].condition", "message": exc.detail}]
            continue
        stored.append({"name": r.name, "condition": rule.to_json(), "points": r.points})
    if body.thresholds.hot <= body.thresholds.warm:
        errors.append({"field": "thresholds.hot", "message": "hot must be above warm"})
    if errors:
        codes = {"INVALID_RULE"} if any(".condition" in e["field"] for e in errors) else set()
        raise ValidationFailed("The scoring model is not valid.",
                               code=codes.pop() if codes else "INVALID_SCORING_MODEL",
                               errors=errors)
    row = {"version": version, "rules": stored,
           "decay": body.decay.model_dump(exclude_none=True) if body.decay else None,
           "hot": body.thresholds.hot, "warm": body.thresholds.warm}
    return engine.build_model(row, catalog), stored


async def get_model(session: AsyncSession, *, ctx: Context,
                    version: int | None = None) -> dict[str, Any]:
    """The model in force (version 0, empty, before the first PUT), or one version; with
    each rule in words and the rules that no longer check."""
    row = await repository.current_model(session, tenant_id=ctx.tenant_id, version=version)
    if row is None:
        if version is not None:
            raise NotFound("No such version of the scoring model.",
                           code="SCORING_MODEL_VERSION_NOT_FOUND")
        row = engine.EMPTY_ROW
    return await _described(session, ctx, row)


async def _described(session: AsyncSession, ctx: Context,
                     row: dict[str, Any]) -> dict[str, Any]:
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    model = engine.build_model(row, catalog)
    words = {r.name: r.words for r in model.rules}
    return {**row, "rules": [{**r, "description": words.get(r["name"])} for r in row["rules"]],
            "thresholds": {"hot": row["hot"], "warm": row["warm"]},
            "broken_rules": list(model.broken)}


async def put_model(session: AsyncSession, *, ctx: Context, body: ModelIn,
                    expected_version: int | None) -> dict[str, Any]:
    """Save a new version of the model (412 when ``If-Match`` names another than the one
    in force)."""
    await repository.lock_models(session, tenant_id=ctx.tenant_id)
    current = await repository.current_model(session, tenant_id=ctx.tenant_id)
    version = current["version"] if current else 0
    check_version({"version": version}, expected_version, what="scoring model")
    _, stored = await check_model(session, ctx=ctx, body=body, version=version + 1)
    row = await repository.insert_model(session, tenant_id=ctx.tenant_id, values={
        "version": version + 1, "rules": stored,
        "decay": body.decay.model_dump(exclude_none=True) if body.decay else None,
        "hot": body.thresholds.hot, "warm": body.thresholds.warm,
        "created_by": ctx.actor_user_id})
    await audit.record(session, ctx=ctx, action="scoring.model_updated",
                       entity_type="scoring_model", entity_id=row["id"],
                       changes={"version": row["version"], "rules": len(stored),
                                "fields": sorted(body.model_fields_set)},
                       event=outbox.event(tenant_id=ctx.tenant_id, type="scoring.model_updated",
                                          entity_type="scoring_model", entity_id=row["id"],
                                          payload={"version": row["version"]}))
    return await _described(session, ctx, row)


async def list_versions(session: AsyncSession, *, ctx: Context, before: int | None,
                        limit: int) -> tuple[list[dict[str, Any]], int]:
    rows = await repository.list_models(session, tenant_id=ctx.tenant_id, before=before,
                                        limit=limit)
    total = await repository.count_models(session, tenant_id=ctx.tenant_id)
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    out = []
    for row in rows:
        model = engine.build_model(row, catalog)
        words = {r.name: r.words for r in model.rules}
        out.append({**row, "rules": [{**r, "description": words.get(r["name"])}
                                     for r in row["rules"]],
                    "thresholds": {"hot": row["hot"], "warm": row["warm"]},
                    "broken_rules": list(model.broken)})
    return out, total


def _score_read(row: dict[str, Any]) -> dict[str, Any]:
    prediction = None
    if row["probability"] is not None:
        prediction = {"predictor_version": row["predictor_version"],
                      "factors": row["factors"], "computed_at": row["predicted_at"]}
    return {"lead_id": row["lead_id"], "score": row["score"],
            "temperature": row["temperature"], "breakdown": row["breakdown"],
            "predicted_conversion": row["probability"], "prediction": prediction}


async def lead_score(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID) -> dict[str, Any]:
    row = await repository.score_of(session, scope=readable(ctx), lead_id=lead_id)
    if row is None:
        raise NotFound("Lead not found.", code="LEAD_NOT_FOUND")
    return _score_read(row)


async def rescore_lead(session: AsyncSession, *, ctx: Context,
                       lead_id: uuid.UUID) -> dict[str, Any]:
    """Recompute one lead now (its prediction too, when a predictive model is in force)."""
    await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)  # 404 outside the set
    model = await engine.load_model(session, tenant_id=ctx.tenant_id)
    if model is None:
        raise Conflict("The workspace has no scoring model yet (PUT /scoring/model).",
                       code="SCORING_MODEL_MISSING")
    await engine.rescore(session, tenant_id=ctx.tenant_id, scope=readable(ctx),
                         lead_ids=[lead_id], model=model, now=datetime.now(UTC),
                         reason="requested")
    predictor = await predictive.in_force(session, tenant_id=ctx.tenant_id)
    if predictor is not None:
        await predictive.predict_leads(session, tenant_id=ctx.tenant_id, predictor=predictor,
                                       lead_ids=[lead_id])
    return await lead_score(session, ctx=ctx, lead_id=lead_id)


async def preview(session: AsyncSession, *, ctx: Context, body: ModelIn) -> dict[str, Any]:
    """What a draft model would give the workspace's leads; writes nothing."""
    current = await repository.current_model(session, tenant_id=ctx.tenant_id)
    model, _ = await check_model(session, ctx=ctx, body=body,
                                 version=(current["version"] if current else 0) + 1)
    where = [*readable(ctx).where(), sql.T.c.deleted_at.is_(None)]
    row = (await session.execute(sql.preview(model, tenant_id=ctx.tenant_id, where=where,
                                             now=datetime.now(UTC)))).mappings().one()
    counts = {int(k): int(v) for k, v in row["histogram"].items()}
    histogram = [{"from": b * 10, "to": 100 if b == 9 else b * 10 + 9, "leads": counts.get(b, 0)}
                 for b in range(10)]
    blank = {"hot": 0, "warm": 0, "cold": 0}
    return {"leads": row["leads"], "histogram": histogram,
            "temperatures": {**blank, **row["temperatures"]},
            "current_temperatures": {**blank, **row["current_temperatures"]},
            "temperature_changes": row["temperature_changes"],
            "score_changes": row["score_changes"],
            "average_score": None if row["average_score"] is None
            else round(float(row["average_score"]), 2),
            "sample": row["sample"]}


async def queue_recalculation(session: AsyncSession, *, ctx: Context) -> dict[str, Any]:
    """A job recalculating every lead's score with the model in force."""
    current = await repository.current_model(session, tenant_id=ctx.tenant_id)
    if current is None:
        raise Conflict("The workspace has no scoring model yet (PUT /scoring/model).",
                       code="SCORING_MODEL_MISSING")
    total, _ = await repository.number_span(session, tenant_id=ctx.tenant_id)
    job = await repository.JOB_ROWS.insert(session, tenant_id=ctx.tenant_id, values={
        "kind": "recalculate", "actor": actor_of(ctx), "created_by": ctx.actor_user_id,
        "model_version": current["version"], "total": total})
    await defer(session, "scoring_run", queue=QUEUE, tenant_id=str(ctx.tenant_id),
                job_id=str(job["id"]))
    await audit.record(session, ctx=ctx, action="scoring.recalculate_requested",
                       entity_type="scoring_job", entity_id=job["id"],
                       changes={"model_version": current["version"]})
    return job


async def get_job(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID) -> dict[str, Any]:
    return found(await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id),
                 job_not_found)


async def list_jobs(session: AsyncSession, *, ctx: Context, offset: int,
                    limit: int) -> tuple[list[dict[str, Any]], int]:
    return await repository.list_jobs(session, tenant_id=ctx.tenant_id, offset=offset,
                                      limit=limit)


async def cancel_job(session: AsyncSession, *, ctx: Context, job_id: uuid.UUID) -> dict[str, Any]:
    job = found(await repository.get_job(session, tenant_id=ctx.tenant_id, job_id=job_id,
                                         for_update=True), job_not_found)
    if job["status"] not in ("queued", "running"):
        raise Conflict(f"The scoring job is {job['status']}.", code="SCORING_JOB_FINISHED")
    return await repository.JOB_ROWS.update(session, tenant_id=ctx.tenant_id, row_id=job_id,
                                            values={"status": "cancelled",
                                                    "finished_at": datetime.now(UTC)})
