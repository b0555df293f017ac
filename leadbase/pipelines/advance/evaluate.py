"""Evaluating a lead's auto-advance rules, and the move a rule makes.

The rules of the lead's current stage are tried in order against the lead's facts
(``rules.load_facts`` once for all of them, ``rules.matches`` each): the first that
matches *fires* and the lead moves to its target stage through
``leadbase.pipelines.moves.move_lead`` — a stage change like any other (history,
timeline entry, audit, ``lead.stage_changed``) with the reason ``auto-advance: <rule>``,
and the event payload naming the rule (``auto_advance``).

Loops: an evaluation moves a lead at most once (the first matching rule of the stage it
is in; the rules of the target stage are not tried in the same evaluation), and the
``lead.stage_changed`` event of an auto-advance move does not start another evaluation
(``jobs.lead_of`` skips it): the event chain that led to a move ends with it. A pair of
rules that would move a lead back and forth moves it once per outside change (an edit,
a logged activity, a manual move), never by itself.

``dry_run`` answers the same verdicts and writes nothing: which rule would fire and why
each other did not.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.auth.context import Context
from leadbase.kit.errors import Forbidden, ValidationFailed
from leadbase.leads import service as leads_service
from leadbase.pipelines import moves
from leadbase.pipelines.advance import repository
from leadbase.pipelines.schemas import StageMove

REASON_PREFIX = "auto-advance: "


def _unmet(rule: rules.Rule, facts: rules.Facts, now: datetime) -> list[str]:
    """The parts of the condition the lead does not meet, in words: each failing item of
    a top-level ``all``, or the whole condition."""
    root = rule.root
    if isinstance(root, rules.All):
        return [rules.describe_node(item) for item in root.items
                if not rules.check_node(item, facts, now=now)]
    return [rules.describe(rule)]


def _verdict(row: dict[str, Any], outcome: str, reason: str,
             unmet: list[str] | None = None) -> dict[str, Any]:
    return {"rule_id": row["id"], "name": row["name"], "position": row["position"],
            "target_stage_id": row["target_stage_id"], "target_stage": row["target_stage"],
            "outcome": outcome, "reason": reason, "unmet": unmet or []}


async def verdicts(session: AsyncSession, *, tenant_id: uuid.UUID, lead: dict[str, Any],
                   now: datetime, dry_run: bool
                   ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Every rule of the lead's stage with its outcome, and the row of the one that
    fires (None: none)."""
    if lead["stage_id"] is None:
        return [], None
    rows = await repository.rules_of_stage(session, tenant_id=tenant_id,
                                           stage_id=lead["stage_id"])
    if not rows:
        return [], None
    catalog = await rules.load_catalog(session, tenant_id=tenant_id)
    parsed: list[rules.Rule | ValidationFailed | None] = []
    for row in rows:
        if not row["enabled"]:
            parsed.append(None)
            continue
        try:
            parsed.append(rules.parse(row["condition"], catalog, path="condition"))
        except ValidationFailed as exc:
            parsed.append(exc)
    needs = rules.combine_needs(*[r for r in parsed if isinstance(r, rules.Rule)])
    facts = (await rules.load_facts(session, tenant_id=tenant_id, lead_ids=[lead["id"]],
                                    needs=needs, now=now))[lead["id"]]
    out: list[dict[str, Any]] = []
    fired: dict[str, Any] | None = None
    for row, rule in zip(rows, parsed, strict=True):
        if rule is None:
            out.append(_verdict(row, "disabled", "the rule is disabled"))
        elif isinstance(rule, ValidationFailed):
            problems = "; ".join(f"{e['field']}: {e['message']}" for e in rule.errors or [])
            out.append(_verdict(row, "invalid", "its condition no longer holds in this "
                                                f"workspace ({problems or rule.detail})"))
        elif not row["target_live"]:
            out.append(_verdict(row, "target_missing", "its target stage was deleted"))
        elif rules.matches(rule, facts, now=now):
            words = rules.describe(rule)
            if fired is None:
                fired = row
                out.append(_verdict(row, "would_fire" if dry_run else "fired",
                                    f"the lead meets its condition: {words}"))
            else:
                out.append(_verdict(row, "shadowed", f"the lead meets its condition "
                                    f"({words}), but '{fired['name']}' comes first"))
        else:
            unmet = _unmet(rule, facts, now)
            out.append(_verdict(row, "not_matched", "not met: " + "; ".join(unmet), unmet))
    return out, fired


async def auto_advance(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                       dry_run: bool) -> dict[str, Any]:
    """Evaluate the lead's rules now; unless ``dry_run``, make the move of the rule that
    fires (at most one). Agents: their own leads; a move needs agent or higher."""
    if not dry_run and not ctx.principal.at_least("agent"):
        raise Forbidden("Moving a lead needs the role 'agent' or higher; a viewer may ask "
                        "with dry_run=true.", code="ROLE_REQUIRED")
    lead = await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id,
                                        for_update=not dry_run)
    now = datetime.now(UTC)
    found, fired = await verdicts(session, tenant_id=ctx.tenant_id, lead=lead, now=now,
                                  dry_run=dry_run)
    result: dict[str, Any] = {
        "lead_id": lead_id, "dry_run": dry_run, "stage_id": lead["stage_id"],
        "stage": lead["stage"], "rules": found, "moved": False, "lead": lead, "change": None,
        "fired": next((v for v in found if v["outcome"] in ("fired", "would_fire")), None)}
    if fired is None or dry_run:
        return result
    moved, change = await moves.move_lead(
        session, ctx=ctx, lead_id=lead_id,
        body=StageMove(stage=str(fired["target_stage_id"]),
                       reason=REASON_PREFIX + fired["name"]),
        expected_version=None,
        event_extra={"auto_advance": {"rule_id": str(fired["id"]), "rule": fired["name"]}})
    return {**result, "moved": change is not None, "lead": moved, "change": change}
