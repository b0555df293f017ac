"""Primary field values: unique per list through ``lead_field_keys`` and its triggers, for
the API and for set-based SQL writers alike."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import Member, make_workspace
from tests.fields.test_fields_api import field, post_lead


async def _keys(db: Database, member: Member) -> dict[str, str]:
    async with db.transaction(member.tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT value, lead_id FROM lead_field_keys ORDER BY value"))).all()
    return {r[0]: str(r[1]) for r in rows}


async def _dni_workspace(client: httpx.AsyncClient) -> tuple[Member, dict[str, Any]]:
    owner = await make_workspace(client)
    dni = await field(client, owner, template_code="DNI_ARG", is_primary=True)
    return owner, dni


def _taken(resp: httpx.Response, existing: str) -> None:
    assert resp.status_code == 409, resp.text
    body = resp.json()
    assert (body["code"], body["existing_id"], body["matched_on"]) == (
        "DUPLICATE_FIELD_VALUE", existing, "fields.DNI_ARG")
    assert body["errors"][0]["rule"] == "primary"


async def test_updates_deletes_and_restores_keep_the_keys(client: httpx.AsyncClient,
                                                          db: Database) -> None:
    owner, _ = await _dni_workspace(client)
    a = (await post_lead(client, owner, {"DNI_ARG": "30111222"})).json()
    b = (await post_lead(client, owner, {"DNI_ARG": "30111333"})).json()
    assert await _keys(db, owner) == {"30111222": a["id"], "30111333": b["id"]}
    # Taking another lead's value, by PATCH
    resp = await client.patch(f"/api/v1/leads/{b['id']}", headers=owner.headers,
                              json={"fields": {"DNI_ARG": "30.111.222"}})
    _taken(resp, a["id"])
    # A change of another field keeps the value; a change of the value moves the key.
    assert (await client.patch(f"/api/v1/leads/{b['id']}", headers=owner.headers,
                               json={"fields": {"DNI_ARG": "30111444"}})).status_code == 200
    assert await _keys(db, owner) == {"30111222": a["id"], "30111444": b["id"]}
    # A deleted lead frees its value; restoring it when the value is taken is refused.
    assert (await client.delete(f"/api/v1/leads/{a['id']}",
                                headers=owner.headers)).status_code == 204
    c = (await post_lead(client, owner, {"DNI_ARG": "30111222"})).json()
    assert await _keys(db, owner) == {"30111222": c["id"], "30111444": b["id"]}
    resp = await client.post(f"/api/v1/leads/{a['id']}/restore", headers=owner.headers)
    _taken(resp, c["id"])
    # Purging frees it for good.
    assert (await client.delete(f"/api/v1/leads/{c['id']}?purge=true",
                                headers=owner.headers)).status_code == 204
    resp = await client.post(f"/api/v1/leads/{a['id']}/restore", headers=owner.headers)
    assert resp.status_code == 200, resp.text
    assert await _keys(db, owner) == {"30111222": a["id"], "30111444": b["id"]}


async def test_moving_between_lists_checks_the_target_list(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    owner, _ = await _dni_workspace(client)
    other = (await client.post("/api/v1/lists", headers=owner.headers,
                               json={"name": "Otra"})).json()
    await field(client, owner, template_code="DNI_ARG", is_primary=True, list_id=other["id"])
    here = (await post_lead(client, owner, {"DNI_ARG": "30222111"})).json()
    there = (await post_lead(client, owner, {"DNI_ARG": "30222111"},
                             list_id=other["id"])).json()  # another list: allowed
    resp = await client.patch(f"/api/v1/leads/{here['id']}", headers=owner.headers,
                              json={"list_id": other["id"]})
    _taken(resp, there["id"])
    assert (await client.delete(f"/api/v1/leads/{there['id']}",
                                headers=owner.headers)).status_code == 204
    resp = await client.patch(f"/api/v1/leads/{here['id']}", headers=owner.headers,
                              json={"list_id": other["id"]})
    assert resp.status_code == 200, resp.text
    async with db.transaction(owner.tenant_id) as session:
        rows = (await session.execute(text(
            "SELECT list_id, lead_id FROM lead_field_keys"))).all()
    assert [(str(r[0]), str(r[1])) for r in rows] == [(other["id"], here["id"])]


async def test_turning_primary_on_and_off(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    dni = await field(client, owner, template_code="DNI_ARG")
    await field(client, owner, name="Nota", type="STRING")
    first = (await post_lead(client, owner, {"DNI_ARG": "30333111"})).json()
    second = (await post_lead(client, owner, {"DNI_ARG": "30333111"})).json()  # not primary
    resp = await client.patch(f"/api/v1/fields/{dni['id']}", headers=owner.headers,
                              json={"is_primary": True})
    assert resp.status_code == 200, resp.text
    # The oldest lead keeps the shared value; the other may still change other fields.
    assert await _keys(db, owner) == {"30333111": first["id"]}
    _taken(await post_lead(client, owner, {"DNI_ARG": "30333111"}), first["id"])
    resp = await client.patch(f"/api/v1/leads/{second['id']}", headers=owner.headers,
                              json={"first_name": "Otra", "fields": {"Nota": "sigue"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["fields"] == {"DNI_ARG": "30333111", "Nota": "sigue"}
    assert await _keys(db, owner) == {"30333111": first["id"]}
    resp = await client.patch(f"/api/v1/fields/{dni['id']}", headers=owner.headers,
                              json={"is_primary": False})
    assert resp.status_code == 200
    assert await _keys(db, owner) == {}
    assert (await post_lead(client, owner, {"DNI_ARG": "30333111"})).status_code == 201
    # Deactivating a primary field drops its keys; restoring it takes them back.
    await client.patch(f"/api/v1/fields/{dni['id']}", headers=owner.headers,
                       json={"is_primary": True})
    assert await _keys(db, owner) == {"30333111": first["id"]}
    assert (await client.delete(f"/api/v1/fields/{dni['id']}",
                                headers=owner.headers)).json()["result"] == "deactivated"
    assert await _keys(db, owner) == {}
    await client.post(f"/api/v1/fields/{dni['id']}/restore", headers=owner.headers)
    assert await _keys(db, owner) == {"30333111": first["id"]}


async def test_set_based_sql_writes_are_checked_too(client: httpx.AsyncClient,
                                                    db: Database) -> None:
    """What an import does: INSERT ... SELECT and UPDATE ... FROM in the workspace's scope."""
    owner, _ = await _dni_workspace(client)
    taken = (await post_lead(client, owner, {"DNI_ARG": "30444111"})).json()
    list_id = taken["list_id"]
    insert = text("""
        INSERT INTO leads (id, tenant_id, list_id, first_name, fields)
        SELECT gen_random_uuid(), :t, :l, 'Bulk ' || v, jsonb_build_object('DNI_ARG', v)
        FROM unnest(CAST(:values AS text[])) AS v""")
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(insert, {"t": owner.tenant_id, "l": list_id,
                                       "values": ["30444222", "30444333"]})
    assert set(await _keys(db, owner)) == {"30444111", "30444222", "30444333"}
    for values in (["30444444", "30444111"], ["30444555", "30444555"]):
        with pytest.raises(Exception) as info:
            async with db.transaction(owner.tenant_id) as session:
                await session.execute(insert, {"t": owner.tenant_id, "l": list_id,
                                               "values": values})
        orig = getattr(info.value, "orig", None)
        assert isinstance(orig, psycopg.errors.UniqueViolation)
        assert orig.diag.constraint_name == "lead_field_keys_taken"
        assert orig.diag.column_name == "DNI_ARG"
        assert values[0] == "30444555" or orig.diag.message_detail == taken["id"]
    update = text("""
        UPDATE leads SET fields = fields || jsonb_build_object('DNI_ARG', s.v)
        FROM (SELECT CAST(:id AS uuid) AS id, CAST(:v AS text) AS v) AS s
        WHERE leads.id = s.id""")
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(update, {"id": taken["id"], "v": "30444999"})
    assert set(await _keys(db, owner)) == {"30444999", "30444222", "30444333"}
    lookup = text("SELECT lead_id FROM lead_field_keys WHERE list_id = :l AND code = 'DNI_ARG' "
                  "AND value = lb_field_key(:v)")
    async with db.transaction(owner.tenant_id) as session:
        holder = (await session.execute(lookup, {"l": list_id, "v": "30444999"})).scalar()
    assert holder == uuid.UUID(taken["id"])


async def test_keys_are_tenant_data(client: httpx.AsyncClient, db: Database) -> None:
    owner, _ = await _dni_workspace(client)
    await post_lead(client, owner, {"DNI_ARG": "30555111"})
    stranger = await make_workspace(client)
    assert await _keys(db, stranger) == {}
    assert await _keys(db, owner) != {}


async def test_bulk_update_fails_only_the_lead_whose_value_is_taken(
        client: httpx.AsyncClient, db: Database) -> None:
    owner, _ = await _dni_workspace(client)
    a = (await post_lead(client, owner, {"DNI_ARG": "30666111"})).json()
    b = (await post_lead(client, owner, {"DNI_ARG": "30666222"})).json()
    c = (await post_lead(client, owner, {"DNI_ARG": "30666333"})).json()
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "ids": [a["id"], b["id"]],
        "changes": {"fields": {"DNI_ARG": "30666333"}, "status": "contacted"}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["updated"] == 0
    assert sorted(f["code"] for f in body["failed"]) == ["DUPLICATE_FIELD_VALUE"] * 2
    # Both take one free value: the first wins, the second fails alone (its savepoint).
    resp = await client.post("/api/v1/leads/bulk", headers=owner.headers, json={
        "action": "update", "ids": [a["id"], b["id"]],
        "changes": {"fields": {"DNI_ARG": "30666444"}}})
    body = resp.json()
    assert body["updated"] == 1 and [f["id"] for f in body["failed"]] == [b["id"]]
    assert await _keys(db, owner) == {"30666444": a["id"], "30666222": b["id"],
                                      "30666333": c["id"]}


async def test_bulk_inserts_are_checked_once_per_statement(client: httpx.AsyncClient,
                                                           db: Database) -> None:
    """With leadbase.bulk_insert = 'on' (imports), the statement trigger checks every row
    of an INSERT at once and refuses exactly as the row trigger does."""
    owner, _ = await _dni_workspace(client)
    taken = (await post_lead(client, owner, {"DNI_ARG": "30666111"})).json()
    insert = text("""
        INSERT INTO leads (id, tenant_id, list_id, first_name, fields)
        SELECT gen_random_uuid(), :t, :l, 'Bulk ' || v,
               CASE WHEN v = '' THEN '{}'::jsonb ELSE jsonb_build_object('DNI_ARG', v) END
        FROM unnest(CAST(:values AS text[])) AS v""")
    params = {"t": owner.tenant_id, "l": taken["list_id"]}
    async with db.transaction(owner.tenant_id) as session:
        await session.execute(text("SET LOCAL leadbase.bulk_insert = 'on'"))
        await session.execute(insert, {**params, "values": ["30666222", "30666333", ""]})
    assert set(await _keys(db, owner)) == {"30666111", "30666222", "30666333"}
    for values, holder in ((["30666444", "30666111"], taken["id"]),
                           (["30666555", "30666555"], None)):
        with pytest.raises(Exception) as info:
            async with db.transaction(owner.tenant_id) as session:
                await session.execute(text("SET LOCAL leadbase.bulk_insert = 'on'"))
                await session.execute(insert, {**params, "values": values})
        orig = getattr(info.value, "orig", None)
        assert isinstance(orig, psycopg.errors.UniqueViolation)
        assert (orig.diag.constraint_name, orig.diag.column_name) == (
            "lead_field_keys_taken", "DNI_ARG")
        if holder:
            assert orig.diag.message_detail == holder
    assert set(await _keys(db, owner)) == {"30666111", "30666222", "30666333"}
