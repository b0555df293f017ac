"""Assigning leads: by hand, by the rules (one lead, with a dry run), every new lead when
the workspace says so, and batches (jobs). Every assignment that changes an owner is kept
on the lead's timeline (an ``assignment`` entry: from, to, how, rule, reason), in the
audit log and as a ``lead.assigned`` event, in the writing transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.activities import service as activities
from leadbase.assignment import decide, repository, service
from leadbase.assignment.engine import Decision
from leadbase.audit import repository as audit_repository
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.db import raw
from leadbase.events import outbox
from leadbase.kit.checks import check_version
from leadbase.kit.errors import Conflict, ValidationFailed
from leadbase.kit.ids import new_id
from leadbase.leads import repository as leads_repository
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository


@dataclass
class Outcome:
    lead: dict[str, Any]
    previous_owner_id: uuid.UUID | None
    decision: Decision | None
    changed: bool
    target: uuid.UUID | None = None  # the owner decided (a dry run's would-be owner)


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _entry(previous: uuid.UUID | None, owner: uuid.UUID | None, method: str,
           decision: Decision | None, reason: str | None) -> tuple[dict[str, Any], str]:
    """The timeline entry's attributes and words."""
    rule = decision.rule if decision else None
    attributes: dict[str, Any] = {"from_owner_id": _str(previous), "to_owner_id": _str(owner),
                                  "method": method}
    if rule is not None:
        attributes |= {"rule_id": str(rule.id), "rule_name": rule.name,
                       "strategy": rule.strategy, "outcome": decision.outcome if decision
                       else None}
    if reason:
        attributes["reason"] = reason
    if rule is not None:
        words = f"Assigned by rule '{rule.name}' ({rule.strategy})"
        if decision is not None and decision.outcome == "fallback_user":
            words = f"Assigned to the fallback of rule '{rule.name}': nobody was eligible"
        elif owner is None:
            words = f"Unassigned: nobody eligible for rule '{rule.name}'"
    else:
        words = "Assigned by hand" if owner else "Unassigned"
    return attributes, words + (f": {reason}" if reason else "")


def _statements(ctx: Context, lead: dict[str, Any], previous: uuid.UUID | None, method: str,
                decision: Decision | None, reason: str | None, *,
                audited: bool = True) -> list[raw.Statement]:
    """The timeline entry, ``lead.assigned`` event and audit entry of an assignment."""
    attributes, words = _entry(previous, lead["owner_id"], method, decision, reason)
    p = ctx.principal
    statements = [
        activities.system_statement(ctx, lead_id=lead["id"], type="assignment",
                                    attributes=attributes, description=words),
        outbox.event(tenant_id=ctx.tenant_id, type="lead.assigned", entity_type="lead",
                     entity_id=lead["id"], payload={"lead_id": str(lead["id"]), **attributes}),
    ]
    if audited:
        statements.append(audit_repository.entry_statement(tenant_id=ctx.tenant_id, values={
            "actor_user_id": p.user_id, "actor_api_key_id": p.api_key_id,
            "action": "lead.assigned", "entity_type": "lead", "entity_id": lead["id"],
            "changes": {"fields": ["owner_id"], "method": method,
                        "rule_id": attributes.get("rule_id")},
            "request_id": ctx.request_id}))
    return statements


async def _record(session: AsyncSession, ctx: Context, lead: dict[str, Any],
                  previous: uuid.UUID | None, method: str, decision: Decision | None,
                  reason: str | None) -> None:
    """An assignment's timeline entry, event and audit entry, in one round trip."""
    await raw.pipeline(session, _statements(ctx, lead, previous, method, decision, reason))


def _facts_of_new(values: dict[str, Any], now: datetime) -> Any:
    """A lead about to be created, as the rules read it (nothing has happened to it yet:
    every count is zero)."""
    row = {"id": None, "number": None, "score": 0, "temperature": "cold", "tags": [],
           "fields": {}, "owner_id": None, "created_at": now, "updated_at": now,
           "stage_entered_at": now, "last_contacted_at": None, "last_activity_at": None,
           **values}
    return rules.Facts(lead=row)


async def prepare_new(session: AsyncSession, *, ctx: Context,
                      values: dict[str, Any]) -> Decision | None:
    """For a lead being created without an owner (the leads service calls this before
    the insert): the rules' decision when the workspace auto-assigns new leads, else
    None. ``values`` (the lead's columns) get the owner, and the assignment's moment as
    the lead's last activity (so the timeline entry does not touch the new row again);
    the caller inserts the lead and writes :func:`new_lead_statements`."""
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    if not service.settings_of(ws.assignment)["auto_assign_new_leads"]:
        return None
    ruleset = await decide.load_hot(session, tenant_id=ctx.tenant_id)
    if not ruleset.rules:
        return None
    now = datetime.now(UTC)
    decision = await decide.decide_one(session, tenant_id=ctx.tenant_id, ruleset=ruleset,
                                       facts=_facts_of_new(values, now), now=now,
                                       default_timezone=ws.timezone, dry_run=False)
    if decision.user_id is not None:
        values["owner_id"] = decision.user_id
        values["last_activity_at"] = datetime.now(UTC)
    return decision


def new_lead_statements(*, ctx: Context, lead: dict[str, Any],
                        decision: Decision | None) -> list[raw.Statement]:
    """What a new lead's assignment writes (timeline entry and ``lead.assigned`` event,
    one statement), for the leads service to send with the lead's own audit entry, which
    stands for it (no second one)."""
    if decision is None or lead["owner_id"] is None:
        return []
    attributes, words = _entry(None, lead["owner_id"], "auto", decision, None)
    return [repository.new_lead_statement(
        tenant_id=ctx.tenant_id, lead_id=lead["id"], at=lead["last_activity_at"],
        author_user_id=ctx.actor_user_id, words=words, attributes=attributes)]


async def _check_user(session: AsyncSession, ctx: Context, user_id: uuid.UUID | None) -> None:
    if user_id is None:
        return
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=user_id)
    if user is None or not user["is_active"] or user["role"] == "viewer":
        raise ValidationFailed("The owner must be an active user of this workspace who can "
                               "own leads.", code="OWNER_NOT_FOUND",
                               errors=[{"field": "user_id",
                                        "message": "unknown, inactive or a viewer"}])


async def assign(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                 user_id: uuid.UUID | None, reason: str | None,
                 expected_version: int | None) -> Outcome:
    """Give the lead to ``user_id`` (None: nobody) by hand (managers and up)."""
    current = await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    check_version(current, expected_version, what="lead")
    await _check_user(session, ctx, user_id)
    if current["owner_id"] == user_id:
        return Outcome(lead=current, previous_owner_id=user_id, decision=None, changed=False,
                       target=user_id)
    lead = await leads_repository.update_lead(session, scope=readable(ctx), lead_id=lead_id,
                                              values={"owner_id": user_id})
    await _record(session, ctx, lead, current["owner_id"], "manual", None, reason)
    return Outcome(lead=lead, previous_owner_id=current["owner_id"], decision=None,
                   changed=True, target=user_id)


async def reassign(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                   from_user_id: uuid.UUID | None, to_user_id: uuid.UUID | None,
                   reason: str | None, expected_version: int | None = None) -> Outcome:
    """:func:`assign` from a named owner: the lead must be ``from_user_id``'s now (None:
    nobody's), else 409 ``OWNER_CHANGED`` and nothing changes (someone reassigned it
    meanwhile)."""
    current = await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id, for_update=True)
    if current["owner_id"] != from_user_id:
        raise Conflict("The lead is not assigned to the agent it is reassigned from.",
                       code="OWNER_CHANGED",
                       extra={"owner_id": _str(current["owner_id"])})
    return await assign(session, ctx=ctx, lead_id=lead_id, user_id=to_user_id,
                        reason=reason, expected_version=expected_version)


async def auto_assign(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                      dry_run: bool, reason: str | None,
                      expected_version: int | None = None) -> Outcome:
    """Run the rules for the lead now; with ``dry_run``, say what they would do (the
    rule, the chosen user, every candidate and why) and write nothing."""
    current = await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id,
                                           for_update=not dry_run)
    check_version(current, expected_version, what="lead")
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    ruleset = await decide.load(session, tenant_id=ctx.tenant_id)
    now = datetime.now(UTC)
    facts = await rules.load_facts(session, tenant_id=ctx.tenant_id, lead_ids=[lead_id],
                                   needs=ruleset.needs, now=now)
    decision = await decide.decide_one(session, tenant_id=ctx.tenant_id, ruleset=ruleset,
                                       facts=facts[lead_id], now=now,
                                       default_timezone=ws.timezone, dry_run=dry_run)
    previous = current["owner_id"]
    # No rule, or nobody eligible and no fallback user: the lead keeps its owner.
    target = decision.user_id if decision.user_id is not None else previous
    if dry_run or target == previous:
        return Outcome(lead=current, previous_owner_id=previous, decision=decision,
                       changed=target != previous, target=target)
    lead = await leads_repository.update_lead(session, scope=readable(ctx), lead_id=lead_id,
                                              values={"owner_id": target})
    await _record(session, ctx, lead, previous, "auto", decision, reason)
    return Outcome(lead=lead, previous_owner_id=previous, decision=decision, changed=True,
                   target=target)


@dataclass
class BatchResult:
    processed: int
    assigned: int
    unassigned: int


_EVENTS_SQL = ("INSERT INTO events (id, tenant_id, type, entity_type, entity_id, payload) "
               "SELECT e.id, %(t)s, 'lead.assigned', 'lead', e.lead, e.payload FROM "
               "unnest(%(ids)s::uuid[], %(leads)s::uuid[], %(payloads)s::jsonb[]) "
               "AS e(id, lead, payload)")


async def assign_batch(session: AsyncSession, *, ctx: Context, lead_ids: Sequence[uuid.UUID],
                       method: str, reason: str | None = None,
                       exclude: uuid.UUID | None = None,
                       keep_without_rule: bool = True,
                       only_unowned: bool = False) -> BatchResult:
    """Run the rules over many leads set-based (a job's batch): facts loaded at once,
    decisions made in memory under the loads' and rotations' locks, owners, timeline
    entries and events written in one statement each. ``exclude`` is never chosen (the
    user whose leads are being reassigned); ``keep_without_rule``: a lead no rule
    matches keeps its owner (else it is unassigned); ``only_unowned``: leads that got an
    owner meanwhile are left as they are."""
    if not lead_ids:
        return BatchResult(0, 0, 0)
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    ruleset = await decide.load(session, tenant_id=ctx.tenant_id)
    now = datetime.now(UTC)
    order = sorted(lead_ids)
    facts = await rules.load_facts(session, tenant_id=ctx.tenant_id, lead_ids=order,
                                   needs=ruleset.needs, now=now)
    order = [i for i in order if i in facts and facts[i].lead.get("deleted_at") is None
             and not (only_unowned and facts[i].lead.get("owner_id") is not None)]
    decisions = await decide.decide_many(session, tenant_id=ctx.tenant_id, ruleset=ruleset,
                                         facts=facts, order=order, now=now,
                                         default_timezone=ws.timezone, exclude=exclude)
    owners: dict[uuid.UUID, uuid.UUID | None] = {}
    for lead_id, d in decisions.items():
        if d.rule is None and keep_without_rule:
            continue
        owners[lead_id] = d.user_id
    changed = await repository.set_owners(session, tenant_id=ctx.tenant_id, owners=owners)
    entries: list[tuple[uuid.UUID, str, dict[str, Any], str | None]] = []
    payloads = []
    for row in changed:
        attributes, words = _entry(row["previous"], row["owner_id"], method,
                                   decisions[row["id"]], reason)
        entries.append((row["id"], "assignment", attributes, words))
        payloads.append(raw.jsonb({"lead_id": str(row["id"]), **attributes}))
    await activities.log_system_many(session, ctx, entries=entries)
    if changed:
        await raw.execute(session, _EVENTS_SQL, {
            "t": ctx.tenant_id, "ids": [new_id() for _ in changed],
            "leads": [r["id"] for r in changed], "payloads": payloads})
    assigned = sum(1 for r in changed if r["owner_id"] is not None)
    await audit.record(session, ctx=ctx, action="leads.assigned", entity_type="lead",
                       entity_id=None, changes={"method": method, "leads": len(order),
                                                "changed": len(changed),
                                                "assigned": assigned})
    return BatchResult(processed=len(order), assigned=assigned,
                       unassigned=sum(1 for r in changed if r["owner_id"] is None))
