"""Idempotency keys belong to their sender, and bodies compare canonically."""

from __future__ import annotations

import httpx

from leadbase.kit.idempotency import _canonical
from tests.factories import add_member, make_workspace, unique_email

LEADS = "/api/v1/leads"


async def test_another_member_replaying_a_key_gets_no_response_of_the_owner(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    manager = await add_member(client, owner, "manager")
    body = {"first_name": "Secret", "company": "Owner's deal"}
    mine = await client.post(LEADS, json=body,
                             headers={**owner.headers, "Idempotency-Key": "k-1"})
    assert mine.status_code == 201
    # The agent sends the owner's key with the same body: their own request, not a replay
    # of a lead they may not read.
    theirs = await client.post(LEADS, json=body,
                               headers={**agent.headers, "Idempotency-Key": "k-1"})
    assert theirs.status_code == 201 and "idempotency-replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    # With another body, a colleague learns nothing about the owner's use of the key.
    other = await client.post(LEADS, json={"first_name": "Mine", "email": unique_email("a")},
                              headers={**manager.headers, "Idempotency-Key": "k-1"})
    assert other.status_code == 201, other.text
    # The owner still replays their own.
    again = await client.post(LEADS, json=body,
                              headers={**owner.headers, "Idempotency-Key": "k-1"})
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["id"] == mine.json()["id"]


async def test_api_key_and_its_creator_are_two_senders(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/api-keys", headers=owner.headers,
                             json={"name": "sync", "role": "admin"})
    key = {"Authorization": f"Bearer {resp.json()['secret']}"}
    await client.post(LEADS, json={"first_name": "A", "email": unique_email("a")},
                      headers={**owner.headers, "Idempotency-Key": "shared"})
    by_key = await client.post(LEADS, json={"first_name": "B", "email": unique_email("b")},
                               headers={**key, "Idempotency-Key": "shared"})
    assert by_key.status_code == 201, by_key.text
    assert "idempotency-replayed" not in by_key.headers


async def test_key_order_and_whitespace_do_not_make_another_body(
        client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    email = unique_email("order")
    headers = {**owner.headers, "Idempotency-Key": "order", "Content-Type": "application/json"}
    first = await client.post(LEADS, headers=headers,
                              content=f'{{"first_name": "Ord", "email": "{email}"}}')
    again = await client.post(LEADS, headers=headers,
                              content=f'{{ "email":"{email}",\n "first_name":"Ord" }}')
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


def test_canonical_form() -> None:
    assert _canonical(b'{"b": [1, {"d": 1, "c": 2}], "a": null}', "application/json") == \
        b'{"a":null,"b":[1,{"c":2,"d":1}]}'
    assert _canonical(b"b=1&a=2", "application/x-www-form-urlencoded") == b"b=1&a=2"
    assert _canonical(b"{not json", "application/json") == b"{not json"
