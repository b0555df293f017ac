"""leadbase.kit.checks: every resource's 412 answers ``current_version``; the shared
"nothing to update" and "not found" checks."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from leadbase.db.session import Database
from leadbase.kit.checks import check_version, found, require_changes, version_mismatch
from leadbase.kit.errors import NotFound, PreconditionFailed, ValidationFailed
from leadbase.users import service as users_service
from leadbase.users.schemas import UserUpdate
from tests.auth.helpers import assert_problem, member_ctx
from tests.factories import Member, add_member, make_lead, make_workspace
from tests.lists.helpers import create_list

API = "/api/v1"


async def _post(client: httpx.AsyncClient, member: Member, path: str,
                body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post(f"{API}{path}", headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


Resources = dict[str, tuple[str, dict[str, Any]]]


async def _resources(client: httpx.AsyncClient, owner: Member) -> Resources:
    """One row of each versioned resource: its URL and a PATCH body that changes it."""
    agent = await add_member(client, owner, "agent")
    made = await create_list(client, owner, "Versioned")
    section = await _post(client, owner, "/field-sections", {"name": "Datos"})
    code_list = await _post(client, owner, "/code-lists", {
        "name": "Colores", "items": [{"code": "red", "label": "Rojo"}]})
    item = code_list["items"][0]
    field = await _post(client, owner, "/fields", {"list_id": made["id"], "name": "Patente",
                                                   "type": "STRING"})
    rule = await _post(client, owner, "/validation-rules", {
        "field_id": field["id"], "type": "REGEX", "value": "^[A-Z]+$"})
    lead = await make_lead(client, owner, first_name="Ana")
    return {
        "user": (f"{API}/users/{agent.user_id}", {"name": "Other"}),
        "list": (f"{API}/lists/{made['id']}", {"name": "Renamed"}),
        "section": (f"{API}/field-sections/{section['id']}", {"name": "Other"}),
        "code list": (f"{API}/code-lists/{code_list['id']}", {"name": "Tonos"}),
        "item": (f"{API}/code-lists/{code_list['id']}/items/{item['id']}", {"label": "Rosso"}),
        "field": (f"{API}/fields/{field['id']}", {"name": "Dominio"}),
        "rule": (f"{API}/validation-rules/{rule['id']}", {"message": "Mayúsculas"}),
        "lead": (f"{API}/leads/{lead['id']}", {"first_name": "Eva"}),
    }


async def test_every_412_answers_the_current_version(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for what, (url, body) in (await _resources(client, owner)).items():
        first = await client.patch(url, headers=owner.headers, json=body)
        assert first.status_code == 200, (what, first.text)
        current = first.json()["version"]
        assert current == 2, what
        stale = assert_problem(await client.patch(
            url, headers={**owner.headers, "If-Match": '"1"'}, json=body), 412,
            "VERSION_MISMATCH")
        assert stale["current_version"] == current, what
        assert stale["detail"] == f"The {what} was changed by someone else; reload it."
        if what != "rule":  # a rule's DELETE takes no If-Match
            gone = assert_problem(await client.delete(
                url, headers={**owner.headers, "If-Match": '"1"'}), 412, "VERSION_MISMATCH")
            assert gone["current_version"] == current, what


async def test_every_update_of_nothing_is_refused(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    for what, (url, _) in (await _resources(client, owner)).items():
        assert_problem(await client.patch(url, headers=owner.headers, json={}), 422,
                       "EMPTY_UPDATE")
        assert (await client.get(url, headers=owner.headers)).json()["version"] == 1, what


async def test_a_lost_race_answers_the_winning_version(client: httpx.AsyncClient,
                                                       db: Database) -> None:
    """A user's update checks its version in the UPDATE itself: when a concurrent change
    commits between the read and the write, the 412 names the version that won."""
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    started = asyncio.Event()

    async def stale_update() -> PreconditionFailed:
        async with db.transaction(owner.tenant_id) as session:
            started.set()
            with pytest.raises(PreconditionFailed) as lost:
                await users_service.update_user(session, ctx=member_ctx(owner),
                                                user_id=agent.user_id,
                                                body=UserUpdate(name="Late"),
                                                expected_version=1)
            return lost.value

    async with db.transaction(owner.tenant_id) as winner:
        await winner.execute(text("UPDATE users SET name = 'First', version = version + 1 "
                                  "WHERE id = :u"), {"u": agent.user_id})
        loser = asyncio.create_task(stale_update())
        await started.wait()
        await asyncio.sleep(0.5)  # the loser reads version 1, then waits on the row lock
    error = await loser
    assert error.code == "VERSION_MISMATCH" and error.extra == {"current_version": 2}


def test_check_version() -> None:
    check_version({"version": 3}, None, what="lead")
    check_version({"version": 3}, 3, what="lead")
    with pytest.raises(PreconditionFailed) as stale:
        check_version({"version": 3}, 2, what="lead")
    assert stale.value.code == "VERSION_MISMATCH" and stale.value.status == 412
    assert stale.value.extra == {"current_version": 3}
    assert version_mismatch("user", 7).body()["current_version"] == 7


def test_require_changes() -> None:
    require_changes({"name": "x"})
    with pytest.raises(ValidationFailed) as empty:
        require_changes({})
    assert empty.value.code == "EMPTY_UPDATE" and empty.value.errors is None
    with pytest.raises(ValidationFailed) as named:
        require_changes(None, detail="Give 'changes'.", field="changes")
    assert named.value.errors == [{"field": "changes", "message": "Give 'changes'."}]


def test_found() -> None:
    row = {"id": 1}
    assert found(row, lambda: NotFound(code="X_NOT_FOUND")) is row
    with pytest.raises(NotFound) as missing:
        found(None, lambda: NotFound(code="X_NOT_FOUND"))
    assert missing.value.code == "X_NOT_FOUND"
