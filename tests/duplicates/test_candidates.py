"""Candidates of one lead: reasons, order, visibility; the scoring alone."""

from __future__ import annotations

import httpx

from leadbase.duplicates import candidates
from tests.duplicates.helpers import LEADS
from tests.factories import add_member, make_lead, make_workspace


async def _allow(client: httpx.AsyncClient, member, **fields: object) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """A lead created even when another has its email or phone."""
    body = {"first_name": "Ana", "last_name": "López", **fields}
    resp = await client.post(f"{LEADS}?on_duplicate=allow", headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def _dupes(client: httpx.AsyncClient, member, lead_id: str,  # type: ignore[no-untyped-def]
                 query: str = "") -> httpx.Response:
    return await client.get(f"{LEADS}/{lead_id}/duplicates{query}", headers=member.headers)


async def test_reasons_and_order(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    lead = await make_lead(client, owner, first_name="María", last_name="Fernández",
                           email="maria.fernandez+crm@acme-industrial.com",
                           phone="+34 612 345 678", company="Acme Industrial SA")
    same_all = await _allow(client, owner, first_name="Maria", last_name="Fernandez",
                               email="Maria.Fernandez@acme-industrial.com",
                               phone="+34612345678", company="ACME Industrial")
    same_phone = await _allow(client, owner, first_name="M.", last_name="Ruiz",
                                 email="other@x.org", phone="+34612345678")
    colleague = await make_lead(client, owner, first_name="Jorge", last_name="Fernández",
                                email="jorge@acme-industrial.com")
    similar = await make_lead(client, owner, first_name="Maria", last_name="Fernandes",
                              email="mf@gmail.com")
    await make_lead(client, owner, first_name="Pedro", last_name="Gómez",
                    email="pedro@y.org")
    await make_lead(client, other, first_name="María", last_name="Fernández",
                    email="maria.fernandez@acme-industrial.com")
    resp = await _dupes(client, owner, lead["id"])
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    ids = [d["lead"]["id"] for d in data]
    # Equal scores: the older lead first.
    assert ids == [same_all["id"], same_phone["id"], colleague["id"], similar["id"]]
    codes = [[r["code"] for r in d["reasons"]] for d in data]
    assert codes[0] == ["same_email", "same_phone", "similar_name", "similar_company",
                        "same_domain_last_name"]
    assert data[0]["score"] == 100
    assert codes[1] == ["same_phone"] and data[1]["score"] == 50
    assert codes[2] == ["same_domain_last_name"]
    assert codes[3] == ["similar_name"] and 0.85 <= data[3]["reasons"][0]["similarity"] < 1
    assert [d["score"] for d in data] == sorted((d["score"] for d in data), reverse=True)
    assert len((await _dupes(client, owner, lead["id"], "?limit=1")).json()["data"]) == 1
    assert (await _dupes(client, owner, lead["id"], "?limit=0")).status_code == 422


async def test_only_readable_leads(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent, email="dup@corp.io")
    mine2 = await _allow(client, agent, email="dup@corp.io")
    await _allow(client, owner, email="dup@corp.io")
    data = (await _dupes(client, agent, mine["id"])).json()["data"]
    assert [d["lead"]["id"] for d in data] == [mine2["id"]]
    assert len((await _dupes(client, owner, mine["id"])).json()["data"]) == 2
    theirs = await make_lead(client, owner, email="x@corp.io")
    assert (await _dupes(client, agent, theirs["id"])).status_code == 404
    assert (await _dupes(client, other, mine["id"])).status_code == 404


def test_compare_and_email_key() -> None:
    assert candidates.email_key("J.Doe+news@GoogleMail.com") == "jdoe@gmail.com"
    assert candidates.email_key("j.doe+x@acme.com") == "j.doe@acme.com"
    a = {"first_name": "Ana", "last_name": "Pérez", "email": "ana@gmail.com", "phone": None,
         "company": None}
    b = {**a, "email": "other@gmail.com", "last_name": "Perez"}
    score, reasons = candidates.compare(a, b)
    # Same webmail domain and last name says nothing.
    assert [r["code"] for r in reasons] == ["similar_name"] and score == 35
    assert candidates.compare(a, {"first_name": "Zoe", "last_name": "Quinn"}) == (0, [])
