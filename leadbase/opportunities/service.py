"""Rules for opportunities (deals): what a new one may name, visibility, audit and events.
Stage moves, closing and reopening are in :mod:`leadbase.opportunities.stages`; the list
and update/delete in :mod:`leadbase.opportunities.records`.

Public functions (keyword-only after ``session``; none commits):

- ``create_opportunity(session, *, ctx, body: OpportunityCreate, lead=None) -> row``
- ``get_opportunity(session, *, ctx, opportunity_id, include_deleted=False,
  for_update=False) -> row``

A row is a dict with the fields of ``OpportunityRead`` (``probability`` the effective one,
``probability_is_default``, ``weighted_value``, the stage's code, name and category,
``customer`` and ``lead`` summaries). Errors: ``OPPORTUNITY_NOT_FOUND`` 404 (raised as
:class:`NotYours` when the opportunity is the workspace's but not the agent's to read);
422 ``PIPELINE_NOT_FOUND`` (unknown, or not a deal pipeline), ``NO_DEAL_PIPELINE``,
``STAGE_NOT_FOUND``, ``OPPORTUNITY_LEAD_NOT_FOUND``, ``CUSTOMER_NOT_FOUND``,
``OWNER_NOT_FOUND``; 403 ``OWNER_NOT_ALLOWED`` (an agent giving it to someone else).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.activities import service as activities
from leadbase.audit import service as audit
from leadbase.auth.context import Context, system_context
from leadbase.events import outbox
from leadbase.kit.errors import Forbidden, NotFound, ValidationFailed
from leadbase.leads import service as leads_service
from leadbase.leads.repository import readable
from leadbase.opportunities import repository
from leadbase.opportunities.repository import OppScope
from leadbase.opportunities.schemas import OpportunityCreate, OpportunityRead
from leadbase.tenants import service as tenants_service
from leadbase.users import repository as users_repository

TIMELINE_TYPE = "opportunity_event"


class NotYours(NotFound):
    """The opportunity exists in the workspace, but the caller may not read it."""


def not_found() -> NotFound:
    return NotFound("Opportunity not found.", code="OPPORTUNITY_NOT_FOUND")


def invalid(code: str, field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


def scope_of(ctx: Context) -> OppScope:
    """The opportunities ``ctx`` reaches (see :class:`repository.OppScope`)."""
    return OppScope(readable(ctx))


def presented(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as ``ctx`` may see it: an agent's own opportunity whose lead it may not
    read (another agent's) names no lead (``lead_id`` and ``lead`` null). The service's
    rows are unmasked; every face presents them through this."""
    if lead_hidden(ctx, row):
        return {**row, "lead_id": None, "lead": None}
    return row


def lead_hidden(ctx: Context, row: dict[str, Any]) -> bool:
    """Whether the opportunity's lead is out of ``ctx``'s readable set."""
    lead = row.get("lead")
    return (ctx.sees_only_own_leads and row["lead_id"] is not None
            and (lead is None or lead["owner_id"] != ctx.actor_user_id))


def event_payload(row: dict[str, Any]) -> dict[str, Any]:
    return OpportunityRead.model_validate(row).model_dump(
        mode="json", exclude={"customer", "lead"})


# ------------------------------------------------------------------ references

async def resolve_pipeline(session: AsyncSession, ctx: Context,
                           pipeline_id: uuid.UUID | None) -> dict[str, Any]:
    """A live deal pipeline of the workspace (default: its default one), or 422."""
    found = await repository.pipeline(session, tenant_id=ctx.tenant_id,
                                      pipeline_id=pipeline_id)
    if pipeline_id is None and found is None:
        raise invalid("NO_DEAL_PIPELINE", "pipeline_id",
                      "the workspace has no default deal pipeline: name one")
    if found is None or found["kind"] != "deal":
        raise invalid("PIPELINE_NOT_FOUND", "pipeline_id",
                      "not a deal pipeline of this workspace")
    found["stages"] = await repository.stages(session, tenant_id=ctx.tenant_id,
                                              pipeline_id=found["id"])
    if not found["stages"]:
        raise invalid("PIPELINE_NOT_FOUND", "pipeline_id", "the pipeline has no stages")
    return found


def match_stage(stages: list[dict[str, Any]], ref: str, *, field: str = "stage"
                ) -> dict[str, Any]:
    """The stage of ``stages`` named by id or code (a code case-insensitively), or 422
    ``STAGE_NOT_FOUND``."""
    for stage in stages:
        if ref == str(stage["id"]) or ref == stage["code"]:
            return stage
    folded = ref.casefold()
    for stage in stages:
        if stage["code"].casefold() == folded:
            return stage
    raise invalid("STAGE_NOT_FOUND", field, f"no stage '{ref}' in the opportunity's pipeline")


def first_of(stages: list[dict[str, Any]], category: str) -> dict[str, Any] | None:
    return next((s for s in stages if s["category"] == category), None)


async def readable_lead(session: AsyncSession, ctx: Context, lead_id: uuid.UUID) -> dict[str, Any]:
    try:
        return await leads_service.get_lead(session, ctx=ctx, lead_id=lead_id)
    except NotFound:
        raise invalid("OPPORTUNITY_LEAD_NOT_FOUND", "lead_id", "unknown lead") from None


async def check_customer(session: AsyncSession, ctx: Context,
                         customer_id: uuid.UUID | None) -> None:
    if customer_id is None:
        return
    if not await repository.customer_readable(session, leads=readable(ctx),
                                              customer_id=customer_id):
        raise invalid("CUSTOMER_NOT_FOUND", "customer_id", "unknown customer")


async def check_owner(session: AsyncSession, ctx: Context,
                      owner_id: uuid.UUID | None) -> None:
    """An active user of the workspace; an agent gives opportunities only to itself."""
    if ctx.sees_only_own_leads and owner_id != ctx.actor_user_id:
        raise Forbidden("An agent's opportunities are its own.", code="OWNER_NOT_ALLOWED")
    if owner_id is None:
        return
    user = await users_repository.get(session, tenant_id=ctx.tenant_id, user_id=owner_id)
    if user is None or not user["is_active"]:
        raise invalid("OWNER_NOT_FOUND", "owner_id",
                      "unknown or inactive user of this workspace")


async def log_timeline(session: AsyncSession, ctx: Context, row: dict[str, Any], event: str,
                       extra: dict[str, Any] | None = None) -> None:
    """An ``opportunity_event`` entry on the timeline of the opportunity's lead (none
    without a lead)."""
    if row["lead_id"] is None:
        return
    await activities.log_system(
        session, ctx, lead_id=row["lead_id"], type=TIMELINE_TYPE,
        attributes={"event": event, "opportunity_id": str(row["id"]), "name": row["name"],
                    "stage": row["stage"], "status": row["status"],
                    "value": f"{row['value']:.2f}", "currency": row["currency"],
                    **(extra or {})},
        opportunity_id=row["id"])


# ------------------------------------------------------------------ create and read

async def create_opportunity(session: AsyncSession, *, ctx: Context,
                             body: OpportunityCreate,
                             lead: dict[str, Any] | None = None) -> dict[str, Any]:
    """A new open opportunity in a deal pipeline, with its first stage-history row; a
    system entry on its lead's timeline; audited, ``opportunity.created``.

    ``lead``: the lead it comes from, already read (and locked) by the caller as ``ctx``
    may (a conversion); else ``body.lead_id`` is read here. Defaults: the workspace's
    default deal pipeline and its first open stage, the workspace's currency, the lead's
    owner (else the caller) as owner. A stage named must be an open one (closing is
    close-won / close-lost)."""
    values = body.model_dump(exclude={"stage"})
    if lead is None and body.lead_id is not None:
        lead = await readable_lead(session, ctx, body.lead_id)
    if lead is not None:
        if body.lead_id is not None and body.lead_id != lead["id"]:
            raise invalid("OPPORTUNITY_LEAD_NOT_FOUND", "lead_id",
                          "not the lead it is created from")
        values["lead_id"] = lead["id"]
    pipe = await resolve_pipeline(session, ctx, body.pipeline_id)
    if body.stage is None:
        stage = first_of(pipe["stages"], "open")
        if stage is None:
            raise invalid("STAGE_NOT_FOUND", "stage", "the pipeline has no open stage")
    else:
        stage = match_stage(pipe["stages"], body.stage)
        if stage["category"] != "open":
            raise invalid("STAGE_NOT_OPEN", "stage",
                          "a new opportunity starts in an open stage (close it with "
                          "close-won or close-lost)")
    await check_customer(session, ctx, body.customer_id)
    if "owner_id" not in body.model_fields_set:
        values["owner_id"] = (lead["owner_id"] if lead is not None
                              and lead["owner_id"] is not None else ctx.actor_user_id)
        if ctx.sees_only_own_leads:
            values["owner_id"] = ctx.actor_user_id
    await check_owner(session, ctx, values["owner_id"])
    if values["currency"] is None:
        workspace = await tenants_service.get_workspace(session, tenant_id=ctx.tenant_id)
        values["currency"] = workspace["currency"]
    if values["metadata"] is None:
        values["metadata"] = {}
    now = datetime.now(UTC)
    values.update(pipeline_id=pipe["id"], stage_id=stage["id"], stage_entered_at=now,
                  status="open")
    opportunity_id = await repository.insert_opportunity(session, tenant_id=ctx.tenant_id,
                                                         values=values)
    await repository.insert_change(session, tenant_id=ctx.tenant_id, values={
        "opportunity_id": opportunity_id, "pipeline_id": pipe["id"], "from_stage_id": None,
        "to_stage_id": stage["id"], "changed_at": now, "actor_user_id": ctx.actor_user_id,
        "reason": None, "seconds_in_previous": None})
    row = await read_any(session, ctx, opportunity_id)
    await log_timeline(session, ctx, row, "created")
    fields = sorted(k for k, v in body.model_dump(exclude_unset=True).items()
                    if v not in (None, {}))
    await audit.record(session, ctx=ctx, action="opportunity.created",
                       entity_type="opportunity", entity_id=opportunity_id,
                       changes={"fields": fields},
                       event=outbox.event(tenant_id=ctx.tenant_id,
                                          type="opportunity.created",
                                          entity_type="opportunity",
                                          entity_id=opportunity_id,
                                          payload=event_payload(row)))
    return row


async def read_any(session: AsyncSession, ctx: Context,
                   opportunity_id: uuid.UUID) -> dict[str, Any]:
    """The opportunity as the workspace sees it (after a write the caller was allowed)."""
    row = await repository.get(session, scope=OppScope(readable(system_context(ctx.tenant_id))),
                               opportunity_id=opportunity_id, include_deleted=True)
    assert row is not None
    return row


async def get_opportunity(session: AsyncSession, *, ctx: Context,
                          opportunity_id: uuid.UUID, include_deleted: bool = False,
                          for_update: bool = False) -> dict[str, Any]:
    """The opportunity if ``ctx`` reaches it (``for_update``: its row locked first)."""
    scope = scope_of(ctx)
    if for_update and not await repository.lock(session, scope=scope,
                                                opportunity_id=opportunity_id):
        row = None
    else:
        row = await repository.get(session, scope=scope, opportunity_id=opportunity_id,
                                   include_deleted=include_deleted)
    if row is not None:
        return row
    if ctx.sees_only_own_leads and await repository.exists_in_workspace(
            session, tenant_id=ctx.tenant_id, opportunity_id=opportunity_id):
        raise NotYours("Opportunity not found.", code="OPPORTUNITY_NOT_FOUND")
    raise not_found()
