"""create_opportunity at the service level: defaults, the stage history row, the lead's
timeline entry, audit and event; bad input and other workspaces' references."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.kit.errors import AppError, Forbidden
from leadbase.opportunities import service
from leadbase.opportunities.schemas import OpportunityCreate
from tests.factories import add_member, make_lead, make_workspace
from tests.opportunities.helpers import ctx_of, deal_pipeline, lead_pipeline


async def test_create_defaults(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Opp service")
    agent = await add_member(client, owner, "agent")
    lead = await make_lead(client, owner, owner_id=str(agent.user_id))
    pipeline = await deal_pipeline(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        row = await service.create_opportunity(
            session, ctx=ctx_of(owner),
            body=OpportunityCreate(name="Fleet", value="1200.50",  # type: ignore[arg-type]
                                   lead_id=uuid.UUID(lead["id"])))
    assert row["pipeline_id"] == uuid.UUID(pipeline["id"])
    assert row["stage"] == "qualified" and row["stage_category"] == "open"
    assert row["status"] == "open" and row["value"] == Decimal("1200.50")
    assert row["currency"] == "USD" and row["owner_id"] == agent.user_id  # the lead's owner
    assert row["probability"] == 20 and row["probability_is_default"]
    assert row["weighted_value"] == Decimal("240.10")
    assert row["lead"]["id"] == uuid.UUID(lead["id"]) and row["customer"] is None
    async with db.transaction(owner.tenant_id) as session:
        changes = (await session.execute(text(
            "SELECT from_stage_id, to_stage_id, actor_user_id FROM opportunity_stage_changes "
            "WHERE opportunity_id = :o"), {"o": row["id"]})).all()
        entry = (await session.execute(text(
            "SELECT type, attributes, opportunity_id FROM activities WHERE lead_id = :l "
            "AND type = 'opportunity_event'"), {"l": lead["id"]})).one()
        events = (await session.execute(text(
            "SELECT payload FROM events WHERE entity_id = :o AND type = 'opportunity.created'"),
            {"o": row["id"]})).all()
        audits = (await session.execute(text(
            "SELECT count(*) FROM audit_entries WHERE entity_id = :o "
            "AND action = 'opportunity.created'"), {"o": row["id"]})).scalar_one()
    assert changes == [(None, row["stage_id"], owner.user_id)]
    assert entry.attributes["event"] == "created" and entry.opportunity_id == row["id"]
    assert len(events) == 1 and events[0].payload["value"] == "1200.50"
    assert audits == 1


async def test_create_given_lead_and_stage_code(client: httpx.AsyncClient,
                                                db: Database) -> None:
    owner = await make_workspace(client, "Opp service 2")
    lead = await make_lead(client, owner)
    async with db.transaction(owner.tenant_id) as session:
        got = await service.create_opportunity(
            session, ctx=ctx_of(owner), lead=None,
            body=OpportunityCreate(name="X", value=Decimal(10), stage="PROPOSAL",
                                   currency="eur", probability=35))
        assert got["stage"] == "proposal" and got["currency"] == "EUR"
        assert got["probability"] == 35 and not got["probability_is_default"]
        assert got["owner_id"] == owner.user_id and got["lead_id"] is None
        from leadbase.leads import service as leads_service
        lead_row = await leads_service.get_lead(session, ctx=ctx_of(owner),
                                                lead_id=uuid.UUID(lead["id"]))
        passed = await service.create_opportunity(
            session, ctx=ctx_of(owner), lead=lead_row,
            body=OpportunityCreate(name="From lead", value=Decimal(1)))
        assert passed["lead_id"] == lead_row["id"]


@pytest.mark.parametrize("body", [
    {"value": "-1"}, {"value": "1.001"}, {"probability": 101}, {"probability": -1},
    {"currency": "XYZ"}, {"currency": "EURO"}, {"name": ""}, {"tenant_id": str(uuid.uuid4())},
])
def test_schema_refuses(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OpportunityCreate.model_validate({"name": "N", "value": "1", **body})


async def test_bad_references(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Opp refs")
    stranger = await make_workspace(client, "Opp refs other")
    their_lead = await make_lead(client, stranger)
    their_pipeline = await deal_pipeline(client, stranger)
    leads_pipeline = await lead_pipeline(client, owner)
    ours = await deal_pipeline(client, owner)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"pipeline_id": leads_pipeline["id"]}, "PIPELINE_NOT_FOUND"),
        ({"pipeline_id": their_pipeline["id"]}, "PIPELINE_NOT_FOUND"),
        ({"stage": their_pipeline["stages"][0]["id"]}, "STAGE_NOT_FOUND"),
        ({"stage": leads_pipeline["stages"][0]["id"]}, "STAGE_NOT_FOUND"),
        ({"stage": "nope"}, "STAGE_NOT_FOUND"),
        ({"stage": "closed_won"}, "STAGE_NOT_OPEN"),
        ({"lead_id": their_lead["id"]}, "OPPORTUNITY_LEAD_NOT_FOUND"),
        ({"customer_id": str(uuid.uuid4())}, "CUSTOMER_NOT_FOUND"),
        ({"owner_id": str(stranger.user_id)}, "OWNER_NOT_FOUND"),
    ]
    for extra, code in cases:
        body = OpportunityCreate.model_validate({"name": "N", "value": "1", **extra})
        async with db.transaction(owner.tenant_id) as session:
            with pytest.raises(AppError) as err:
                await service.create_opportunity(session, ctx=ctx_of(owner), body=body)
        assert err.value.code == code, (extra, err.value.code)
    assert ours["stages"]


async def test_agent_owns_its_opportunities(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client, "Opp agent")
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    theirs = await make_lead(client, other)
    async with db.transaction(owner.tenant_id) as session:
        row = await service.create_opportunity(
            session, ctx=ctx_of(agent), body=OpportunityCreate(name="Mine", value=Decimal(5)))
        assert row["owner_id"] == agent.user_id
        with pytest.raises(Forbidden):
            await service.create_opportunity(
                session, ctx=ctx_of(agent),
                body=OpportunityCreate(name="Given", value=Decimal(5),
                                       owner_id=other.user_id))
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(AppError) as err:
            await service.create_opportunity(
                session, ctx=ctx_of(agent),
                body=OpportunityCreate(name="Theirs", value=Decimal(5),
                                       lead_id=uuid.UUID(theirs["id"])))
        assert err.value.code == "OPPORTUNITY_LEAD_NOT_FOUND"
