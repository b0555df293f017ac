"""leads.contacts: the lead a contact (email or phone) is about, found or created."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.db.session import Database
from leadbase.kit.errors import Forbidden, ValidationFailed
from leadbase.leads import contacts
from tests.auth.helpers import member_ctx
from tests.factories import add_member, make_workspace


def test_split_name() -> None:
    assert contacts.split_name("Jane Doe") == ("Jane", "Doe")
    assert contacts.split_name("  Ana   María López ") == ("Ana", "María López")
    assert contacts.split_name("Legal") == ("Legal", None)
    assert contacts.split_name("") == (None, None)
    assert contacts.full_name({"first_name": "Ana", "last_name": "María López"}) == \
        "Ana María López"
    assert contacts.full_name({"first_name": None, "last_name": "Doe"}) == "Doe"


async def test_one_person_one_lead(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    ctx = member_ctx(owner)
    async with db.transaction(ctx.tenant_id) as session:
        first = await contacts.lead_for_contact(session, ctx=ctx, contact="+212-600-123456",
                                                name="Ahmed Benali")
        again = await contacts.lead_for_contact(session, ctx=ctx, contact="+212600123456",
                                                name="Somebody Else")
        mail = await contacts.lead_for_contact(session, ctx=ctx, contact=" Jane.Doe@Email.com",
                                               name="Jane Doe")
        same = await contacts.lead_for_contact(session, ctx=ctx, contact="jane.doe@email.com",
                                               name=None)
    assert first.created and not again.created
    assert again.lead["id"] == first.lead["id"]
    assert (first.lead["first_name"], first.lead["last_name"]) == ("Ahmed", "Benali")
    assert again.lead["first_name"] == "Ahmed"  # a found lead is not renamed
    assert first.lead["phone"] == "+212600123456"
    assert mail.created and same.lead["id"] == mail.lead["id"]
    assert mail.lead["email"] == "jane.doe@email.com"


async def test_bad_contacts_and_other_agents(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    other = await add_member(client, owner, "agent")
    for bad in ("nobody", "@", "12"):
        with pytest.raises(ValidationFailed):
            async with db.transaction(owner.tenant_id) as session:
                await contacts.lead_for_contact(session, ctx=member_ctx(owner), contact=bad,
                                                name="X")
    async with db.transaction(owner.tenant_id) as session:
        mine = await contacts.lead_for_contact(session, ctx=member_ctx(agent),
                                               contact="sara.alami@email.com", name="Sara")
    assert mine.lead["owner_id"] == agent.user_id
    with pytest.raises(Forbidden) as refused:
        async with db.transaction(owner.tenant_id) as session:
            await contacts.lead_for_contact(session, ctx=member_ctx(other),
                                            contact="sara.alami@email.com", name="Sara")
    assert refused.value.code == "CONTACT_NOT_YOURS"
    async with db.transaction(owner.tenant_id) as session:  # the owner sees every lead
        seen = await contacts.lead_for_contact(session, ctx=member_ctx(owner),
                                               contact="SARA.ALAMI@email.com", name=None)
    assert seen.lead["id"] == mine.lead["id"] and isinstance(seen.lead["id"], uuid.UUID)
