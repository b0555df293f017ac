"""The document's examples (verbatim in document_examples.txt, their JSON syntax fixed
when read) and the rows they refer to, made per test through the profile itself."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from leadbase.db.session import Database
from tests.factories import Member, make_workspace

BASE = "/compat/fields"

# -- the document's bodies --------------------------------------------------------------

_SOURCE = Path(__file__).with_name("document_examples.txt").read_text(encoding="utf-8")
EXAMPLES = dict(re.findall(r"^== (\w+) ==\n(.*?)(?=^== |\Z)", _SOURCE, re.S | re.M))

_COMMENT = re.compile(r"\s*//[^\n]*")
_TRAILING = re.compile(r",(\s*[}\]])")
_MISSING = re.compile(r'([0-9"el\]}])(\s*\n\s*")')  # a value, a line break, then a key


def example(name: str) -> Any:
    """The document's example ``name`` as published, with its JSON syntax fixed: `//`
    comments dropped, missing commas added, trailing ones removed, ``[...]`` read as
    ``[]``. The bodies themselves are untouched."""
    fixed = _COMMENT.sub("", EXAMPLES[name]).replace("[...]", "[]")
    fixed = _MISSING.sub(r"\1,\2", fixed)
    fixed = _TRAILING.sub(r"\1", fixed)
    return json.loads(fixed)


# -- the rows the examples name ----------------------------------------------------------

@dataclass
class World:
    """A workspace with the document's campaign 1 and 2, section 1 ("Datos"), another
    section ("Vehículo"), and nomenclator 2 (items ROJO, AZUL, VERDE). Sections are the
    workspace's: fields of both campaigns may sit in either."""

    owner: Member
    campaign1: int
    campaign2: int
    section1: int
    section2: int
    nomenclator2: int

    @property
    def headers(self) -> dict[str, str]:
        return self.owner.headers

    def ids(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the document's ids replaced by the numbers of this world's rows."""
        maps = {"campaign_id": {1: self.campaign1, 2: self.campaign2},
                "related_campaign_id": {1: self.campaign1, 2: self.campaign2},
                "lead_field_section_id": {1: self.section1},
                "nomenclator_id": {2: self.nomenclator2}}
        return {k: maps[k][v] if k in maps else v for k, v in body.items()}


async def call(client: httpx.AsyncClient, method: str, path: str, member: Member | None,
               body: Any = None, **params: Any) -> httpx.Response:
    headers = member.headers if member else {}
    return await client.request(method, BASE + path, headers=headers, json=body,
                                params=params or None)


async def ok(client: httpx.AsyncClient, method: str, path: str, member: Member,
             body: Any = None, **params: Any) -> Any:
    resp = await call(client, method, path, member, body, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def make_world(client: httpx.AsyncClient, name: str = "Concesionaria") -> World:
    owner = await make_workspace(client, name)
    c1 = await ok(client, "POST", "/campaigns", owner, {"name": "Campaña 1"})
    c2 = await ok(client, "POST", "/campaigns", owner, {"name": "Campaña 2"})
    s1 = await ok(client, "POST", "/lead_field_sections", owner, {"name": "Datos"})
    s2 = await ok(client, "POST", "/lead_field_sections", owner, {"name": "Vehículo"})
    n2 = await ok(client, "POST", "/nomenclators", owner, {"name": "Colores", "items": [
        {"code": "ROJO", "name": "Rojo"}, {"code": "AZUL", "name": "Azul"},
        {"code": "VERDE", "name": "Verde", "active": False}]})
    return World(owner, c1["id"], c2["id"], s1["id"], s2["id"], n2["id"])


async def list_uuid(db: Database, member: Member, number: int) -> str:
    """The canonical id of a campaign (lead list), for the canonical leads API."""
    async with db.transaction(member.tenant_id) as session:
        found = (await session.execute(text("SELECT id FROM lead_lists WHERE number = :n"),
                                       {"n": number})).scalar_one()
    assert isinstance(found, uuid.UUID)
    return str(found)


async def post_lead(client: httpx.AsyncClient, db: Database, member: Member, campaign: int,
                    fields: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/leads", headers=member.headers, json={
        "list_id": await list_uuid(db, member, campaign), "first_name": "x",
        "fields": fields})


def assert_detail(resp: httpx.Response, status: int, code: str | None = None) -> str:
    """A service error in the profile's shape: ``{"detail": "<message>", "code": ...}``."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) <= {"detail", "code"} and isinstance(body["detail"], str), body
    if code is not None:
        assert body["code"] == code, body
    detail: str = body["detail"]
    return detail


def assert_validation(resp: httpx.Response, *locs: tuple[Any, ...]) -> list[dict[str, Any]]:
    """FastAPI's own 422: ``{"detail": [{"type", "loc", "msg", ...}]}``."""
    assert resp.status_code == 422, resp.text
    errors: list[dict[str, Any]] = resp.json()["detail"]
    assert isinstance(errors, list) and errors
    for err in errors:
        assert {"type", "loc", "msg"} <= set(err), err
    if locs:
        assert [tuple(e["loc"]) for e in errors] == list(locs), errors
    return errors
