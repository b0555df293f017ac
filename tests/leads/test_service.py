"""The leads service called directly, as the CLI, worker and profiles call it."""

from __future__ import annotations

import uuid

import pytest

from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.leads import service
from leadbase.leads.filters import LeadFilter
from leadbase.leads.schemas import LeadCreate, LeadUpdate
from leadbase.tenants import service as tenants_service


async def _workspace(db: Database, region: str = "US") -> Context:
    async with db.transaction(None, system=True) as session:
        tenant, owner = await tenants_service.create_with_owner(
            session, name="Service Co", owner_email=f"svc.{uuid.uuid4().hex[:8]}@example.com",
            owner_name="Svc", owner_password="Secret123", default_region=region,
            timezone="Europe/Madrid" if region == "ES" else "UTC")
    return Context(tenant_id=tenant["id"],
                   principal=Principal(role="owner", tenant_id=tenant["id"],
                                       user_id=owner["id"]))


async def test_region_of_the_workspace_is_used(db: Database) -> None:
    ctx = await _workspace(db, "ES")
    async with db.transaction(ctx.tenant_id) as session:
        result = await service.create_lead(session, ctx=ctx, body=LeadCreate(
            first_name="Lucía", phone="612 34 56 78"))
    assert result.created
    assert result.lead["phone"] == "+34612345678"
    assert result.lead["country"] == "ES"
    assert result.lead["timezone"] == "Europe/Madrid"


async def test_nothing_is_written_when_a_rule_fails(db: Database) -> None:
    ctx = await _workspace(db)
    with pytest.raises(ValidationFailed):
        async with db.transaction(ctx.tenant_id) as session:
            await service.create_lead(session, ctx=ctx, body=LeadCreate(
                first_name="Ok", email="ok@example.com"))
            await service.create_lead(session, ctx=ctx, body=LeadCreate(
                first_name="Bad", phone="000"))
    async with db.transaction(ctx.tenant_id) as session:
        listing = await service.list_leads(session, ctx=ctx, f=LeadFilter(), sort=None,
                                           params=PageParams(1, 25, None, "exact"),
                                           count_cap=10_000)
    assert listing.total == 0


async def test_duplicate_and_version_rules(db: Database) -> None:
    ctx = await _workspace(db)
    async with db.transaction(ctx.tenant_id) as session:
        lead = (await service.create_lead(session, ctx=ctx, body=LeadCreate(
            email="one@example.com"))).lead
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(Conflict) as info:
            await service.create_lead(session, ctx=ctx, body=LeadCreate(email="ONE@example.com"))
        assert info.value.extra["existing_id"] == str(lead["id"])
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(PreconditionFailed):
            await service.update_lead(session, ctx=ctx, lead_id=lead["id"],
                                      body=LeadUpdate(company="X"), expected_version=7)
        updated = await service.update_lead(session, ctx=ctx, lead_id=lead["id"],
                                            body=LeadUpdate(company="X"), expected_version=1)
    assert updated["version"] == 2


async def test_other_tenant_ids_are_not_found(db: Database) -> None:
    mine = await _workspace(db)
    theirs = await _workspace(db)
    async with db.transaction(theirs.tenant_id) as session:
        lead = (await service.create_lead(session, ctx=theirs,
                                          body=LeadCreate(first_name="T"))).lead
    async with db.transaction(mine.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get_lead(session, ctx=mine, lead_id=lead["id"])
        with pytest.raises(NotFound):
            await service.delete_lead(session, ctx=mine, lead_id=lead["id"],
                                      expected_version=None)


async def test_agent_context_is_restricted(db: Database) -> None:
    ctx = await _workspace(db)
    agent_ctx = Context(tenant_id=ctx.tenant_id,
                        principal=Principal(role="agent", tenant_id=ctx.tenant_id,
                                            user_id=uuid.uuid4()))
    async with db.transaction(ctx.tenant_id) as session:
        lead = (await service.create_lead(session, ctx=ctx, body=LeadCreate(first_name="O"))).lead
        with pytest.raises(NotFound):
            await service.get_lead(session, ctx=agent_ctx, lead_id=lead["id"])
        listing = await service.list_leads(session, ctx=agent_ctx, f=LeadFilter(), sort=None,
                                           params=PageParams(1, 25, None, "auto"),
                                           count_cap=10_000)
    assert listing.rows == [] and listing.total == 0
