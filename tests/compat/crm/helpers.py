"""The document's examples (``document.md``, verbatim) parsed into requests and responses,
and the rows they name, made per test through the profile itself."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.factories import Member, add_member, make_workspace, unique_email

BASE = "/compat/crm/v1"
DOCUMENT = Path(__file__).with_name("document.md").read_text(encoding="utf-8")

LEAD_KEYS = {"id", "firstName", "lastName", "email", "phone", "company", "jobTitle",
             "source", "status", "score", "temperature", "notes", "tags", "assignedToId",
             "lastContactedAt", "createdAt", "updatedAt"}
PAGE_KEYS = {"data", "total", "page", "limit", "totalPages"}
ERROR_KEYS = {"statusCode", "message", "errors", "code",
              "candidates", "hiddenCandidates", "reasons"}  # the last: conversion's 409s
# The document's placeholder ids (the examples name rows that exist): replaced by ours.
PLACEHOLDERS = ("{id}", "{agentId}", "lead_xxx", "lead_1", "lead_2", "agent_123",
                "agent_1", "agent_2", "opp_xxx")


@dataclass(frozen=True)
class Example:
    title: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # JSON, or the text of a form (multipart)
    status: int
    response: Any  # the JSON shown, None when the document shows none
    content_type: str | None  # a response's Content-Type shown


def _json_after(text: str) -> Any:
    text = text.strip()
    if not text.startswith(("{", "[")):
        return None
    return json.loads(text.replace("[...]", "[]").replace("{ ... }", "{}"))


def _parse(title: str, block: str) -> Example:
    request, _, response = block.partition("Response:")
    lines = request.strip().splitlines()
    method, path = lines[0].split(" ", 1)
    headers: dict[str, str] = {}
    i = 1
    while i < len(lines) and ":" in lines[i] and not lines[i].startswith(("{", " ")):
        key, _, value = lines[i].partition(":")
        headers[key.strip()] = value.strip()
        i += 1
    rest = "\n".join(lines[i:]).strip()
    body: Any = json.loads(rest) if rest.startswith("{") else (rest or None)
    status_line, _, after = response.strip().partition("\n")
    status = int(status_line.split()[0])
    content_type = None
    shown = after.strip()
    if shown.startswith("Content-Type:"):
        content_type, shown = shown.removeprefix("Content-Type:").strip(), ""
    return Example(title, method, path.strip(), headers, body, status, _json_after(shown),
                   content_type)


def _examples() -> dict[str, Example]:
    out: dict[str, Example] = {}
    for title, block in re.findall(r"^#### (.+?)\n```http\n(.*?)```", DOCUMENT, re.S | re.M):
        out[title.strip()] = _parse(title.strip(), block)
    return out


EXAMPLES = _examples()
ERRORS = {int(code): json.loads(body) for code, body in re.findall(
    r"^### (\d{3}) .*?\n```json\n(.*?)```", DOCUMENT, re.S | re.M)}


def example(title: str) -> Example:
    return EXAMPLES[title]


def fill(text: str, names: dict[str, str]) -> str:
    for placeholder in PLACEHOLDERS:
        if placeholder in names:
            text = text.replace(placeholder, names[placeholder])
    return text


def filled(value: Any, names: dict[str, str]) -> Any:
    """``value`` (a path or a JSON body) with the document's placeholders replaced."""
    return json.loads(fill(json.dumps(value), names)) if value is not None else None


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
    return resp.json() if resp.content else None


def assert_error(resp: httpx.Response, status: int, message: str | None = None,
                 code: str | None = None) -> dict[str, Any]:
    """The document's error shape: ``statusCode``, ``message``, ``errors`` on 400."""
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    assert set(body) <= ERROR_KEYS, body
    assert body["statusCode"] == status, body
    assert isinstance(body["message"], str) and body["message"], body
    if message is not None:
        assert body["message"] == message, body
    if code is not None:
        assert body["code"] == code, body
    if status == 400:
        assert isinstance(body["errors"], list), body
        for e in body["errors"]:
            assert set(e) == {"field", "message"}, e
    return body


def agent_id(member: Member) -> str:
    return "agent_" + member.user_id.hex


@dataclass
class World:
    """A workspace: its owner, a manager, two agents and a viewer."""

    owner: Member
    manager: Member
    agent: Member
    agent2: Member
    viewer: Member


async def make_world(client: httpx.AsyncClient, name: str = "CRM Seguros") -> World:
    owner = await make_workspace(client, name)
    return World(owner, await add_member(client, owner, "manager"),
                 await add_member(client, owner, "agent"),
                 await add_member(client, owner, "agent"),
                 await add_member(client, owner, "viewer"))


async def make_lead(client: httpx.AsyncClient, who: Member, **body: Any) -> dict[str, Any]:
    values = {"firstName": "Juan", "lastName": "Pérez", "email": unique_email("juan"),
              **body}
    lead: dict[str, Any] = await ok(client, "POST", "/leads", who, values, expect=201)
    return lead


async def scoring_model(client: httpx.AsyncClient, who: Member) -> None:
    """A scoring model: 80 points for a website lead, 10 for any other (hot at 70)."""
    resp = await client.put("/api/v1/scoring/model", headers=who.headers, json={
        "rules": [{"name": "Website", "points": 80,
                   "condition": {"field": "source", "op": "eq", "value": "website"}},
                  {"name": "Referral", "points": 10,
                   "condition": {"field": "source", "op": "eq", "value": "referral"}}],
        "thresholds": {"hot": 70, "warm": 30}})
    assert resp.status_code == 200, resp.text


# What the server makes up: not compared with the document's values.
MADE = {"id", "score", "createdAt", "total", "totalPages", "activities", "assignedTo",
        "data", "successful", "failed", "errors", "updated", "message",
        "totalActivities", "byType", "completedTasks", "pendingTasks", "stages",
        "totalValue", "totalCount", "probability", "predictedRevenue", "weightedRevenue",
        "opportunities"}


async def send(client: httpx.AsyncClient, title: str, who: Member,
               names: dict[str, str], files: Any = None) -> httpx.Response:
    ex = example(title)
    path = BASE + fill(ex.path, names)
    if files is not None:
        return await client.request(ex.method, path, headers=who.headers, files=files)
    body = filled(ex.body, names) if isinstance(ex.body, dict) else None
    return await client.request(ex.method, path, headers=who.headers, json=body)


def like(found: Any, shown: Any, path: str = "") -> None:
    """``found`` has the shape the document shows: every key shown, values of the same
    JSON type, and equal where the server does not make them up."""
    if isinstance(shown, dict):
        assert isinstance(found, dict) or (found is None and not shown), (path, found)
        for key, value in shown.items():
            assert key in found, (path, key, sorted(found))
            if not path and key not in MADE and not isinstance(value, (dict, list)):
                assert found[key] == value, (path, key, found[key], value)
            if key in MADE and isinstance(value, dict):  # its keys are data (byType)
                assert isinstance(found[key], dict) or found[key] is None, (path, key)
                continue
            like(found[key], value, f"{path}.{key}")
    elif isinstance(shown, list):
        assert isinstance(found, list), (path, found)
        for item in found[:3]:
            if shown:
                like(item, shown[0], path + "[]")
    elif isinstance(shown, bool):
        assert isinstance(found, bool), (path, found)
    elif isinstance(shown, int | float):
        assert isinstance(found, int | float) and not isinstance(found, bool), (path, found)
    elif isinstance(shown, str):
        assert isinstance(found, str), (path, found)


def check(resp: httpx.Response, title: str) -> Any:
    ex = example(title)
    assert resp.status_code == ex.status, (title, resp.text)
    if ex.content_type is not None:
        assert resp.headers["content-type"].startswith(ex.content_type), resp.headers
        return resp.content
    body = resp.json() if resp.content else None
    if ex.response is not None:
        like(body, ex.response)
    return body


async def world_with_lead(client: httpx.AsyncClient) -> tuple[World, dict[str, Any],
                                                                dict[str, str]]:
    w = await make_world(client)
    lead = await make_lead(client, w.owner, assignedToId=agent_id(w.agent), source="WEBSITE")
    names = {"{id}": lead["id"], "lead_xxx": lead["id"], "{agentId}": agent_id(w.agent),
             "agent_123": agent_id(w.agent), "agent_1": agent_id(w.agent),
             "agent_2": agent_id(w.agent2)}
    return w, lead, names
