"""Scoring leads in memory: the stored model checked against the workspace's catalog, and
a set of leads rescored at once (``rules.load_facts`` for all of them, ``rules.matches``
per lead and rule, one statement to write, one to emit). The one-lead ``POST
/leads/{id}/score`` and the worker's rescore after events both come here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.db import raw
from leadbase.kit.errors import ValidationFailed
from leadbase.leads.repository import Readable
from leadbase.scoring import repository
from leadbase.scoring.model import Decay, Model, Result, ScoringRule, compute
from leadbase.scoring.sql import SCORE_CHANGED

EMPTY_ROW: dict[str, Any] = {"version": 0, "rules": [], "decay": None, "hot": 70,
                             "warm": 40, "created_at": None, "created_by": None}


def build_model(row: dict[str, Any], catalog: Any) -> Model:
    """The model of a stored version. A rule that no longer checks (a field it names was
    deleted since) is left out and reported in ``broken``."""
    compiled: list[ScoringRule] = []
    broken: list[dict[str, Any]] = []
    for i, stored in enumerate(row["rules"]):
        try:
            rule = rules.parse(stored["condition"], catalog, path=f"rules[{i}].condition")
        except ValidationFailed as exc:
            broken.append({"index": i, "name": stored["name"], "errors": exc.errors or []})
            continue
        compiled.append(ScoringRule(name=stored["name"], points=int(stored["points"]),
                                    rule=rule, words=rules.describe(rule)))
    return Model(version=row["version"], rules=tuple(compiled),
                 decay=Decay.from_json(row["decay"]), hot=row["hot"], warm=row["warm"],
                 broken=tuple(broken))


async def load_model(session: AsyncSession, *, tenant_id: uuid.UUID,
                     version: int | None = None) -> Model | None:
    row = await repository.current_model(session, tenant_id=tenant_id, version=version)
    if row is None:
        return None
    catalog = await rules.load_catalog(session, tenant_id=tenant_id)
    return build_model(row, catalog)


def changed_payload(lead_id: uuid.UUID, result: Result, old: dict[str, Any], version: int,
                    reason: str) -> dict[str, Any]:
    """The payload of ``lead.score_changed`` (as ``scoring.sql.changed_payload``)."""
    return {"lead_id": str(lead_id), "score": result.score, "previous_score": old["score"],
            "temperature": result.temperature,
            "previous_temperature": old["temperature"], "model_version": version,
            "reason": reason}


_EMIT_SQL = ("INSERT INTO events (id, tenant_id, type, entity_type, entity_id, payload) "
             "SELECT lb_uuid7(), %s, %s, 'lead', e.id, e.payload "
             "FROM unnest(%s::uuid[], %s::jsonb[]) AS e(id, payload)")


async def rescore(session: AsyncSession, *, tenant_id: uuid.UUID, scope: Readable,
                  lead_ids: list[uuid.UUID], model: Model, now: datetime,
                  reason: str) -> dict[uuid.UUID, Result]:
    """Recompute the live leads among ``lead_ids`` (in ``scope``), write those whose result
    changed and emit ``lead.score_changed`` for each whose temperature changed. The
    leads are locked for the transaction, in id order."""
    rows = await repository.lock_leads(session, scope=scope, lead_ids=lead_ids)
    if not rows:
        return {}
    ids = [r["id"] for r in rows]
    facts = await rules.load_facts(session, tenant_id=tenant_id, lead_ids=ids,
                                   needs=model.needs, now=now)
    computed_at = now.isoformat()
    results: dict[uuid.UUID, Result] = {}
    for row in rows:
        fact = facts.get(row["id"])
        if fact is None:
            continue
        matched = [rules.matches(r.rule, fact, now=now) for r in model.rules]
        results[row["id"]] = compute(model, matched, since=row["since"], now=now,
                                     computed_at=computed_at)
    written = await repository.write_scores(session, tenant_id=tenant_id, rows=[
        (i, r.score, r.temperature, r.breakdown) for i, r in results.items()])
    moved = [(row["id"], changed_payload(row["id"], results[row["id"]], row, model.version,
                                         reason))
             for row in rows if row["id"] in written
             and results[row["id"]].temperature != row["temperature"]]
    if moved:
        await raw.execute(session, _EMIT_SQL, (tenant_id, SCORE_CHANGED,
                                               [m[0] for m in moved],
                                               [raw.jsonb(m[1]) for m in moved]))
    return results
