"""Fixtures for export tests: a workspace with typed custom fields and a few leads."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio

from tests.factories import Member, make_lead, make_workspace


async def add_field(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    resp = await client.post("/api/v1/fields", headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


def read_csv(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@dataclass
class Shop:
    owner: Member
    leads: list[dict[str, Any]]


@pytest_asyncio.fixture(loop_scope="session")
async def shop(client: httpx.AsyncClient) -> Shop:
    """Fields Edad (INT), Precio (DECIMAL), Alta (DATE), Visto (DATETIME), Activo (BOOL),
    Patente (STRING, labelled "Patente del auto") and three leads."""
    owner = await make_workspace(client, "Export Co")
    await add_field(client, owner, name="Edad", type="INT")
    await add_field(client, owner, name="Precio", type="DECIMAL")
    await add_field(client, owner, name="Alta", type="DATE")
    await add_field(client, owner, name="Visto", type="DATETIME")
    await add_field(client, owner, name="Activo", type="BOOL")
    await add_field(client, owner, name="Patente del auto", code="Patente", type="STRING")
    leads = [
        await make_lead(client, owner, first_name="Zoë", last_name="Núñez",
                        phone="+14155552671", tags=["vip", "buyer"], status="new",
                        fields={"Edad": 42, "Precio": "12.50", "Alta": "2026-01-15",
                                "Visto": "2026-02-01T10:30:00Z", "Activo": True,
                                "Patente": "ABC-123"}),
        await make_lead(client, owner, first_name="=HYPERLINK(\"http://x\")",
                        last_name="@SUM(A1)", company="+cmd|' /C calc'!A0",
                        job_title="-2+3", notes="\tTabbed", source="\rcr", status="contacted",
                        fields={"Edad": 18, "Patente": "=1+1"}),
        await make_lead(client, owner, first_name="Plain", email="plain@example.com",
                        status="lost"),
    ]
    return Shop(owner=owner, leads=leads)
