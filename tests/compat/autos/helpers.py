"""The document's examples (verbatim in document_examples.txt) and the rows they name,
made per test through the profile itself (cars through ``/cars``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.factories import Member, make_workspace

BASE = "/compat/autos/v1"

_SOURCE = Path(__file__).with_name("document_examples.txt").read_text(encoding="utf-8")
EXAMPLES = dict(re.findall(r"^== (\w+) ==\n(.*?)(?=^== |\Z)", _SOURCE, re.S | re.M))

LEAD_KEYS = {"id", "carId", "status", "action", "targetName", "targetInfo", "tag", "note",
             "order", "createdAt", "updatedAt"}
CAR_SUMMARY_KEYS = {"id", "make", "model", "overviewYear", "location"}
CIVIC = {"make": "Honda", "model": "Civic", "overviewYear": 2021, "location": "Casablanca"}


def example(name: str) -> Any:
    """The document's JSON example ``name`` as published."""
    return json.loads(EXAMPLES[name])


def curl(name: str) -> tuple[str, str, dict[str, Any]]:
    """A curl example: its method, its path after ``/v1`` and its JSON body."""
    text = EXAMPLES[name]
    method = re.search(r"-X (\w+)", text)
    url = re.search(r'"https://api\.steerai\.autos/v1([^"]+)"', text)
    body = re.search(r"-d '(.*?)'", text, re.S)
    assert method and url and body, text
    return method.group(1), url.group(1), json.loads(body.group(1))


async def call(client: httpx.AsyncClient, method: str, path: str,
               who: Member | dict[str, str] | None, body: Any = None,
               **params: Any) -> httpx.Response:
    headers = who.headers if isinstance(who, Member) else (who or {})
    return await client.request(method, BASE + path, headers=headers, json=body,
                                params=params or None)


async def ok(client: httpx.AsyncClient, method: str, path: str,
             who: Member | dict[str, str], body: Any = None, expect: int = 200,
             **params: Any) -> Any:
    resp = await call(client, method, path, who, body, **params)
    assert resp.status_code == expect, resp.text
    return resp.json()


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The document's error shape: a top-level ``code`` string and a ``message``."""
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert set(body) <= {"code", "message", "errors"}, body
    return body


@dataclass
class World:
    """A workspace with a car (the document's Honda Civic, Casablanca)."""

    owner: Member
    car: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return self.owner.headers


async def make_car(client: httpx.AsyncClient, who: Member | dict[str, str],
                   **attributes: Any) -> dict[str, Any]:
    car: dict[str, Any] = await ok(client, "POST", "/cars", who, {**CIVIC, **attributes},
                                   expect=201)
    return car


async def make_world(client: httpx.AsyncClient, name: str = "Autos Casablanca") -> World:
    owner = await make_workspace(client, name)
    return World(owner, await make_car(client, owner))


async def post_lead(client: httpx.AsyncClient, who: Member | dict[str, str], car_id: str,
                    **body: Any) -> dict[str, Any]:
    values = {"action": "Follow up call", "targetName": "John Smith",
              "targetInfo": "+212-600-123456", **body}
    lead: dict[str, Any] = await ok(client, "POST", f"/leads/car/{car_id}", who, values,
                                    expect=201)
    return lead
