"""Rules for assignment rules and the workspace's assignment settings.

- Reading needs any role but agents and viewers see rules only (no settings writes);
  writing needs manager or higher (the endpoints say so).
- Rules are ordered (``position`` 0..n-1, no gaps); the first enabled rule whose
  condition holds decides. Creating at a position shifts the later ones; deleting closes
  the gap; ``reorder`` names every rule in its new order. Order changes are serialised
  per workspace.
- A rule is checked when saved, all problems at once, as one 422 ``INVALID_RULE`` whose
  ``errors`` name the place (``condition.all[1].value``, ``members[2].user_id``,
  ``territory.entries[0].value``): the condition by the rule language, members (users of
  the workspace who can own leads, no repeats, exactly one for ``specific_user``), the
  territory's field and values (checked as ``field in values`` predicates), the fallback.
- A territory rule's members are its entries' users (derived, weight 1).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase import rules
from leadbase.assignment import decide, repository
from leadbase.assignment.schemas import RuleCreate, RuleRead, RuleUpdate
from leadbase.audit import service as audit
from leadbase.auth.context import Context
from leadbase.events import outbox
from leadbase.kit.checks import check_version, found, require_changes
from leadbase.kit.errors import Conflict, NotFound, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.tenants import service as tenants_service

SETTINGS_KEY = "assignment"
DEFAULT_SETTINGS = {"auto_assign_new_leads": False, "reassign_on_deactivation": True}


def rule_not_found() -> NotFound:
    return NotFound("Assignment rule not found.", code="ASSIGNMENT_RULE_NOT_FOUND")


def settings_of(stored: dict[str, Any] | None) -> dict[str, bool]:
    return {k: bool((stored or {}).get(k, v)) for k, v in DEFAULT_SETTINGS.items()}


async def get_settings(session: AsyncSession, *, ctx: Context) -> dict[str, bool]:
    ws = await tenants_service.defaults(session, tenant_id=ctx.tenant_id)
    return settings_of(ws.assignment)


async def update_settings(session: AsyncSession, *, ctx: Context,
                          changes: dict[str, Any]) -> dict[str, bool]:
    require_changes({k: v for k, v in changes.items() if v is not None})
    tenant = await tenants_service.get_workspace(session, tenant_id=ctx.tenant_id)
    current = settings_of(tenant["settings"].get(SETTINGS_KEY))
    new = {**current, **{k: v for k, v in changes.items() if v is not None}}
    await tenants_service.set_setting(session, tenant_id=ctx.tenant_id, key=SETTINGS_KEY,
                                      value=new)
    await audit.record(session, ctx=ctx, action="assignment.settings_updated",
                       entity_type="workspace", entity_id=ctx.tenant_id,
                       changes={"fields": sorted(k for k in new if new[k] != current[k])},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="assignment.settings_updated",
                                          entity_type="workspace", entity_id=ctx.tenant_id,
                                          payload=new))
    return new


def _invalid(errors: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed("Invalid assignment rule: " + "; ".join(
        f"{e['field']}: {e['message']}" for e in errors[:3]), code="INVALID_RULE",
        errors=errors)


async def _checked(session: AsyncSession, ctx: Context, body: dict[str, Any]
                   ) -> dict[str, Any]:
    """The rule's stored values, or 422 ``INVALID_RULE`` with every problem."""
    errors: list[dict[str, Any]] = []
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    condition = body.get("condition")
    if condition is not None:
        try:
            condition = rules.parse(condition, catalog, path="condition").to_json()
        except ValidationFailed as exc:
            errors += exc.errors or []
    strategy = body["strategy"]
    members: list[dict[str, Any]] = [dict(m) for m in body.get("members") or []]
    territory = body.get("territory")
    users: list[tuple[str, uuid.UUID]] = []
    if strategy == "territory":
        if territory is None:
            errors.append({"field": "territory", "message": "required by the territory "
                                                            "strategy"})
        else:
            territory = {"field": territory["field"], "entries": []} | {
                "entries": [dict(e) for e in territory["entries"]]}
            for i, entry in enumerate(territory["entries"]):
                where = f"territory.entries[{i}]"
                try:
                    pred = rules.parse({"field": territory["field"], "op": "in",
                                        "value": entry["values"]}, catalog, path=where)
                    entry["values"] = pred.to_json()["value"]
                except ValidationFailed as exc:
                    errors += [{**e, "field": e["field"].replace(
                        f"{where}.field", "territory.field").replace(
                        f"{where}.value", f"{where}.values")} for e in exc.errors or []]
                seen: set[uuid.UUID] = set()
                for j, uid in enumerate(entry["user_ids"]):
                    if uid in seen:
                        errors.append({"field": f"{where}.user_ids[{j}]",
                                       "message": "named twice"})
                    seen.add(uid)
                    users.append((f"{where}.user_ids[{j}]", uid))
                entry["user_ids"] = [str(u) for u in entry["user_ids"]]
            derived: dict[uuid.UUID, None] = {}
            for _, uid in users:
                derived.setdefault(uid)
            members = [{"user_id": u, "weight": 1} for u in derived]
    else:
        if territory is not None:
            errors.append({"field": "territory", "message": "only for the territory strategy"})
        if not members:
            errors.append({"field": "members", "message": "at least one member"})
        if strategy == "specific_user" and len(members) > 1:
            errors.append({"field": "members", "message": "specific_user takes exactly one "
                                                          "member"})
        seen_members: set[uuid.UUID] = set()
        for i, m in enumerate(members):
            if m["user_id"] in seen_members:
                errors.append({"field": f"members[{i}].user_id", "message": "named twice"})
            seen_members.add(m["user_id"])
            users.append((f"members[{i}].user_id", m["user_id"]))
    fallback_user = body.get("fallback_user_id")
    if body.get("fallback", "unassigned") == "user":
        if fallback_user is None:
            errors.append({"field": "fallback_user_id", "message": "required by fallback "
                                                                   "'user'"})
        else:
            users.append(("fallback_user_id", fallback_user))
    elif fallback_user is not None:
        errors.append({"field": "fallback_user_id", "message": "only with fallback 'user'"})
    known = {u["id"]: u for u in await repository.users_of(
        session, tenant_id=ctx.tenant_id, user_ids=sorted({u for _, u in users}))}
    for where, uid in users:
        user = known.get(uid)
        if user is None:
            errors.append({"field": where, "message": "not a user of this workspace"})
        elif user["role"] == "viewer":
            errors.append({"field": where, "message": "a viewer cannot own leads"})
    if errors:
        raise _invalid(errors)
    return {
        "name": body["name"], "enabled": body.get("enabled", True), "condition": condition,
        "strategy": strategy,
        "members": [{"user_id": str(m["user_id"]), "weight": int(m.get("weight", 1))}
                    for m in members],
        "territory": territory if strategy == "territory" else None,
        "respect_working_hours": body.get("respect_working_hours", True),
        "respect_capacity": body.get("respect_capacity", True),
        "fallback": body.get("fallback", "unassigned"), "fallback_user_id": fallback_user,
    }


async def describe(session: AsyncSession, ctx: Context,
                   rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with their condition in words (``description``)."""
    if not any(r["condition"] for r in rows):
        return [{**r, "description": None} for r in rows]
    catalog = await rules.load_catalog(session, tenant_id=ctx.tenant_id)
    out = []
    for r in rows:
        text = None
        if r["condition"]:
            try:
                text = rules.describe(rules.parse(r["condition"], catalog))
            except ValidationFailed:
                text = "(no longer valid: fix the rule)"
        out.append({**r, "description": text})
    return out


def _payload(row: dict[str, Any]) -> dict[str, Any]:
    return RuleRead.model_validate({**row, "description": None}).model_dump(mode="json")


async def _recorded(session: AsyncSession, ctx: Context, row: dict[str, Any], action: str,
                    fields: list[str]) -> dict[str, Any]:
    decide.forget(ctx.tenant_id)
    await audit.record(session, ctx=ctx, action=f"assignment_rule.{action}",
                       entity_type="assignment_rule", entity_id=row["id"],
                       changes={"fields": sorted(fields)},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type=f"assignment_rule.{action}",
                                          entity_type="assignment_rule", entity_id=row["id"],
                                          payload=_payload(row)))
    return (await describe(session, ctx, [row]))[0]


async def list_rules(session: AsyncSession, *, ctx: Context,
                     params: PageParams) -> tuple[list[dict[str, Any]], int]:
    rows, total = await repository.list_rules(session, tenant_id=ctx.tenant_id,
                                              offset=params.offset, limit=params.per_page)
    return await describe(session, ctx, rows), total


async def get_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID
                   ) -> dict[str, Any]:
    row = found(await repository.get_rule(session, tenant_id=ctx.tenant_id, rule_id=rule_id),
                rule_not_found)
    return (await describe(session, ctx, [row]))[0]


async def create_rule(session: AsyncSession, *, ctx: Context, body: RuleCreate
                      ) -> dict[str, Any]:
    values = await _checked(session, ctx, body.model_dump())
    await repository.lock_rules(session, tenant_id=ctx.tenant_id)
    count = await repository.count_rules(session, tenant_id=ctx.tenant_id)
    if count >= 200:
        raise Conflict("A workspace has at most 200 assignment rules.",
                       code="TOO_MANY_RULES")
    position = count if body.position is None else min(body.position, count)
    await repository.shift_positions(session, tenant_id=ctx.tenant_id, start=position, by=1)
    row = await repository.RULE_ROWS.insert(session, tenant_id=ctx.tenant_id,
                                            values={**values, "position": position})
    return await _recorded(session, ctx, row, "created", list(values))


def _as_input(row: dict[str, Any]) -> dict[str, Any]:
    members = [{"user_id": uuid.UUID(m["user_id"]), "weight": m["weight"]}
               for m in row["members"]]
    territory = row["territory"]
    if territory is not None:
        territory = {"field": territory["field"], "entries": [
            {"values": e["values"], "user_ids": [uuid.UUID(u) for u in e["user_ids"]]}
            for e in territory["entries"]]}
    return {**{k: row[k] for k in ("name", "enabled", "condition", "strategy",
                                   "respect_working_hours", "respect_capacity", "fallback",
                                   "fallback_user_id")},
            "members": members, "territory": territory}


async def update_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID,
                      body: RuleUpdate, expected_version: int | None) -> dict[str, Any]:
    current = found(await repository.get_rule(session, tenant_id=ctx.tenant_id,
                                               rule_id=rule_id, for_update=True),
                    rule_not_found)
    patch = body.model_dump(exclude_unset=True)
    require_changes(patch)
    check_version(current, expected_version, what="assignment rule")
    for key in ("name", "enabled", "strategy", "members", "respect_working_hours",
                "respect_capacity", "fallback"):
        if key in patch and patch[key] is None:
            raise ValidationFailed(f"'{key}' cannot be null.", code="NULL_NOT_ALLOWED",
                                   errors=[{"field": key, "message": "cannot be null"}])
    merged = {**_as_input(current), **patch}
    if merged["strategy"] != "territory" and "territory" not in patch:
        merged["territory"] = None
    if merged["strategy"] == "territory" and "members" not in patch:
        merged["members"] = []
    if merged["fallback"] == "unassigned" and "fallback_user_id" not in patch:
        merged["fallback_user_id"] = None
    values = await _checked(session, ctx, merged)
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    if not changed:
        return (await describe(session, ctx, [current]))[0]
    row = await repository.RULE_ROWS.update(session, tenant_id=ctx.tenant_id, row_id=rule_id,
                                            values=changed)
    return await _recorded(session, ctx, row, "updated", list(changed))


async def delete_rule(session: AsyncSession, *, ctx: Context, rule_id: uuid.UUID,
                      expected_version: int | None) -> None:
    await repository.lock_rules(session, tenant_id=ctx.tenant_id)
    current = found(await repository.get_rule(session, tenant_id=ctx.tenant_id,
                                               rule_id=rule_id, for_update=True),
                    rule_not_found)
    check_version(current, expected_version, what="assignment rule")
    await repository.RULE_ROWS.delete(session, tenant_id=ctx.tenant_id, row_id=rule_id)
    decide.forget(ctx.tenant_id)
    await repository.shift_positions(session, tenant_id=ctx.tenant_id,
                                     start=current["position"] + 1, by=-1)
    await audit.record(session, ctx=ctx, action="assignment_rule.deleted",
                       entity_type="assignment_rule", entity_id=rule_id,
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="assignment_rule.deleted",
                                          entity_type="assignment_rule", entity_id=rule_id,
                                          payload={"id": str(rule_id)}))


async def reorder(session: AsyncSession, *, ctx: Context,
                  rule_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Every rule of the workspace, in the order given (422 unless each is named once)."""
    await repository.lock_rules(session, tenant_id=ctx.tenant_id)
    rows = await repository.all_rules(session, tenant_id=ctx.tenant_id)
    if len(set(rule_ids)) != len(rule_ids) or set(rule_ids) != {r["id"] for r in rows}:
        raise ValidationFailed("Name every assignment rule of the workspace exactly once.",
                               code="INVALID_ORDER",
                               errors=[{"field": "rule_ids",
                                        "message": "must list every rule once"}])
    await repository.set_positions(session, tenant_id=ctx.tenant_id, rule_ids=rule_ids)
    decide.forget(ctx.tenant_id)
    await audit.record(session, ctx=ctx, action="assignment_rule.reordered",
                       entity_type="workspace", entity_id=ctx.tenant_id,
                       changes={"order": [str(i) for i in rule_ids]},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="assignment_rule.reordered",
                                          entity_type="workspace", entity_id=ctx.tenant_id,
                                          payload={"rule_ids": [str(i) for i in rule_ids]}))
    return await describe(session, ctx, await repository.all_rules(
        session, tenant_id=ctx.tenant_id))
