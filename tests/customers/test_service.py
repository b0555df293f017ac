"""Customers, qualification and conversion called as services (as the CLI, worker and
profiles call them)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from leadbase.auth.context import Context, Principal
from leadbase.customers import flows
from leadbase.customers import service as customers
from leadbase.customers.repository import CustomerFilter
from leadbase.customers.schemas import (
    ConvertCustomer,
    ConvertOpportunity,
    ConvertRequest,
    CustomerCreate,
    CustomerUpdate,
)
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from leadbase.kit.pagination import PageParams
from leadbase.leads import qualification
from leadbase.leads import service as leads
from leadbase.leads.schemas import LeadCreate
from leadbase.tenants import service as tenants_service


async def _workspace(db: Database) -> Context:
    async with db.transaction(None, system=True) as session:
        tenant, owner = await tenants_service.create_with_owner(
            session, name="Conv Co", owner_email=f"conv.{uuid.uuid4().hex[:8]}@example.com",
            owner_name="Conv", owner_password="Secret123")
    return Context(tenant_id=tenant["id"],
                   principal=Principal(role="owner", tenant_id=tenant["id"],
                                       user_id=owner["id"]))


async def _lead(db: Database, ctx: Context, **values: object) -> uuid.UUID:
    async with db.transaction(ctx.tenant_id) as session:
        result = await leads.create_lead(session, ctx=ctx, body=LeadCreate.model_validate(
            {"first_name": "Ana", "email": f"ana.{uuid.uuid4().hex[:6]}@example.com",
             **values}))
    lead_id: uuid.UUID = result.lead["id"]
    return lead_id


async def test_convert_writes_everything_in_one_transaction(db: Database) -> None:
    ctx = await _workspace(db)
    lead_id = await _lead(db, ctx, company="Massive Dynamic", email="walter@massive.example")
    async with db.transaction(ctx.tenant_id) as session:
        done = await flows.convert(session, ctx=ctx, lead_id=lead_id, body=ConvertRequest(
            create_opportunity=True,
            opportunity=ConvertOpportunity(value=Decimal("1200.50"), currency="EUR")))
    assert done.customer_created and not done.already_converted
    assert done.opportunity is not None and done.opportunity["value"] == Decimal("1200.50")
    assert done.opportunity["currency"] == "EUR"
    assert done.customer["email_domain"] == "massive.example"
    async with db.transaction(ctx.tenant_id) as session:
        events = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :l ORDER BY created_at, id"),
            {"l": lead_id})).scalars().all()
        payload = (await session.execute(text(
            "SELECT payload FROM events WHERE entity_id = :l AND type = 'lead.converted'"),
            {"l": lead_id})).scalar_one()
        audit = (await session.execute(text(
            "SELECT changes FROM audit_entries WHERE entity_id = :l AND "
            "action = 'lead.converted'"), {"l": lead_id})).scalar_one()
        customer_events = (await session.execute(text(
            "SELECT type FROM events WHERE entity_id = :c"),
            {"c": done.customer["id"]})).scalars().all()
    assert events[-2:] == ["lead.converted", "lead.updated"]
    assert payload["customer"]["id"] == str(done.customer["id"])
    assert payload["opportunity"]["id"] == str(done.opportunity["id"])
    assert payload["lead"]["status"] == "converted" and payload["customer_created"] is True
    assert audit["customer_id"] == str(done.customer["id"])
    assert customer_events == ["customer.created"]
    # a failure later in the transaction leaves nothing behind
    other = await _lead(db, ctx, company="Rollback Ltd")
    with pytest.raises(ValidationFailed):
        async with db.transaction(ctx.tenant_id) as session:
            await flows.convert(session, ctx=ctx, lead_id=other, body=ConvertRequest(
                create_opportunity=True, opportunity=ConvertOpportunity(stage="nope")))
    async with db.transaction(ctx.tenant_id) as session:
        found = await customers.list_customers(session, ctx=ctx, f=CustomerFilter(q="rollback"),
                                               params=PageParams(1, 25, None, "auto"))
        lead = await leads.get_lead(session, ctx=ctx, lead_id=other)
    assert found.rows == [] and lead["status"] == "new"


async def test_repeat_and_concurrent_converts(db: Database) -> None:
    ctx = await _workspace(db)
    lead_id = await _lead(db, ctx, company="Aperture")

    async def once() -> flows.Conversion:
        async with db.transaction(ctx.tenant_id) as session:
            return await flows.convert(session, ctx=ctx, lead_id=lead_id,
                                       body=ConvertRequest(create_opportunity=True))

    results = await asyncio.gather(once(), once())
    assert len({r.customer["id"] for r in results}) == 1
    assert len({r.opportunity["id"] for r in results if r.opportunity}) == 1
    assert sorted(r.already_converted for r in results) == [False, True]
    again = await once()
    assert again.already_converted and again.customer["id"] == results[0].customer["id"]


async def test_match_reuse_and_force(db: Database) -> None:
    ctx = await _workspace(db)
    async with db.transaction(ctx.tenant_id) as session:
        acme = await customers.create_customer(session, ctx=ctx, body=CustomerCreate(
            name="Acme Corporation", email="sales@acme.example"))
    lead_id = await _lead(db, ctx, company="ACME corp.", email="x@nowhere.example")
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(Conflict) as info:
            await flows.convert(session, ctx=ctx, lead_id=lead_id, body=ConvertRequest())
    assert info.value.code == "CUSTOMER_MATCH_FOUND"
    assert [c["id"] for c in info.value.extra["candidates"]] == [str(acme["id"])]
    # a person lead with the customer's very email
    person = await _lead(db, ctx, email="sales@acme.example", first_name="Sal")
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(Conflict) as info:
            await flows.convert(session, ctx=ctx, lead_id=person, body=ConvertRequest())
    assert set(info.value.extra["candidates"][0]["matched_on"]) == {"email_domain", "email"}
    async with db.transaction(ctx.tenant_id) as session:
        forced = await flows.convert(session, ctx=ctx, lead_id=lead_id, body=ConvertRequest(
            customer=ConvertCustomer(create=True, kind="company", name="Acme East",
                                     industry="Anvils")))
    assert forced.customer["name"] == "Acme East" and forced.customer["industry"] == "Anvils"
    async with db.transaction(ctx.tenant_id) as session:
        reused = await flows.convert(session, ctx=ctx, lead_id=person, body=ConvertRequest(
            customer=ConvertCustomer(id=acme["id"])))
    assert reused.customer["id"] == acme["id"] and not reused.customer_created
    # a deleted customer is offered no more
    async with db.transaction(ctx.tenant_id) as session:
        await customers.delete_customer(session, ctx=ctx, customer_id=acme["id"])
        await customers.delete_customer(session, ctx=ctx, customer_id=forced.customer["id"])
    third = await _lead(db, ctx, company="Acme")
    async with db.transaction(ctx.tenant_id) as session:
        fresh = await flows.convert(session, ctx=ctx, lead_id=third, body=ConvertRequest())
    assert fresh.customer_created


async def test_customer_service_rules(db: Database) -> None:
    ctx = await _workspace(db)
    theirs = await _workspace(db)
    async with db.transaction(theirs.tenant_id) as session:
        foreign = await customers.create_customer(session, ctx=theirs,
                                                  body=CustomerCreate(name="Foreign"))
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(NotFound):
            await customers.get_customer(session, ctx=ctx, customer_id=foreign["id"])
        made = await customers.create_customer(session, ctx=ctx, body=CustomerCreate(
            name="Blue Sun", website="bluesun.example"))
        assert made["email_domain"] == "bluesun.example"
        with pytest.raises(PreconditionFailed):
            await customers.update_customer(session, ctx=ctx, customer_id=made["id"],
                                            body=CustomerUpdate(name="X"),
                                            expected_version=5)
        with pytest.raises(ValidationFailed):
            await customers.update_customer(session, ctx=ctx, customer_id=made["id"],
                                            body=CustomerUpdate())
        changed = await customers.update_customer(session, ctx=ctx, customer_id=made["id"],
                                                  body=CustomerUpdate(name="Blue Sun Inc"),
                                                  expected_version=1)
    assert changed["version"] == 2 and changed["name_key"] == "blue sun"


async def test_qualification_services(db: Database) -> None:
    ctx = await _workspace(db)
    lead_id = await _lead(db, ctx)
    async with db.transaction(ctx.tenant_id) as session:
        qualified = await qualification.qualify(session, ctx=ctx, lead_id=lead_id)
        assert qualified["status"] == "qualified" and qualified["qualified_at"] is not None
        with pytest.raises(ValidationFailed):
            await qualification.unqualify(session, ctx=ctx, lead_id=lead_id, reason="   ")
        unq = await qualification.unqualify(session, ctx=ctx, lead_id=lead_id,
                                            reason="Wrong size")
        assert unq["unqualified_reason"] == "Wrong size"
        report = await qualification.unqualified_reasons(session, ctx=ctx, start=None,
                                                         end=None)
    assert report["reasons"] == [{"reason": "Wrong size", "count": 1}]
    async with db.transaction(ctx.tenant_id) as session:
        with pytest.raises(NotFound):
            await qualification.qualify(session, ctx=ctx, lead_id=uuid.uuid4())
        check = await flows.can_convert(session, ctx=ctx, lead_id=lead_id)
    assert check == {"can_convert": True, "reasons": []}
