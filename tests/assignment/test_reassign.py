"""assignment.flows.reassign: from a named owner to another, refused (409, nothing
changed) when the lead is no longer the named owner's."""

from __future__ import annotations

import uuid

import httpx
import pytest

from leadbase.assignment import flows
from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, NotFound
from tests.assignment.helpers import agents
from tests.factories import make_lead, make_workspace


def _ctx(tenant_id: uuid.UUID) -> Context:
    return Context(tenant_id=tenant_id, principal=Principal(role="manager",
                                                            tenant_id=tenant_id))


async def test_reassign_from_the_owner(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    a, b = await agents(client, owner, 2)
    lead = await make_lead(client, owner, owner_id=str(a.user_id))
    lead_id = uuid.UUID(lead["id"])
    async with db.transaction(owner.tenant_id) as session:
        outcome = await flows.reassign(session, ctx=_ctx(owner.tenant_id), lead_id=lead_id,
                                       from_user_id=a.user_id, to_user_id=b.user_id,
                                       reason="holidays")
    assert outcome.changed and outcome.lead["owner_id"] == b.user_id
    assert outcome.previous_owner_id == a.user_id
    async with db.transaction(owner.tenant_id) as session:
        with pytest.raises(Conflict) as refused:
            await flows.reassign(session, ctx=_ctx(owner.tenant_id), lead_id=lead_id,
                                 from_user_id=a.user_id, to_user_id=None, reason=None)
    assert refused.value.code == "OWNER_CHANGED"
    timeline = await client.get(f"/api/v1/leads/{lead['id']}/timeline?types=assignment",
                                headers=owner.headers)
    entries = timeline.json()["data"]
    assert len(entries) == 1 and entries[0]["attributes"]["reason"] == "holidays"
    got = await client.get(f"/api/v1/leads/{lead['id']}", headers=owner.headers)
    assert got.json()["owner_id"] == str(b.user_id)
    other = await make_workspace(client)
    async with db.transaction(other.tenant_id) as session:
        with pytest.raises(NotFound):
            await flows.reassign(session, ctx=_ctx(other.tenant_id), lead_id=lead_id,
                                 from_user_id=b.user_id, to_user_id=None, reason=None)
