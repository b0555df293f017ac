"""Helpers for the code-list tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Member

CODE_LISTS = "/api/v1/code-lists"


def item_bodies(*codes: str) -> list[dict[str, Any]]:
    return [{"code": c, "label": c.title()} for c in codes]


async def make_code_list(client: httpx.AsyncClient, member: Member, name: str = "Colors",
                         items: list[dict[str, Any]] | None = None,
                         **extra: Any) -> dict[str, Any]:
    if items is None:
        items = item_bodies("red", "green")
    body = {"name": name, "items": items, **extra}
    resp = await client.post(CODE_LISTS, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out
