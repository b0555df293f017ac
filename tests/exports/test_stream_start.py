"""Streams that start must finish (issue 17, point 2): what a streamed body needs is
read before its first byte, so a failure answers an error instead of a 200 cut short."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.exports import service
from leadbase.kit.http import read_ahead
from leadbase.leads.filters import LeadFilter
from tests.factories import make_lead, make_workspace

# A condition PostgreSQL accepts when planning and fails on when it reads the first row.
FAILS_WHEN_READ = "leads.number / (leads.number - leads.number) = 1"


def _failing_plan(plan: service.ExportPlan) -> service.ExportPlan:
    leads = replace(plan.leads, extra=(*plan.leads.extra, text(FAILS_WHEN_READ)))
    return replace(plan, leads=leads)


def _failing(prepare: Any) -> Any:
    async def prepare_failing(*args: Any, **kwargs: Any) -> service.ExportPlan:
        return _failing_plan(await prepare(*args, **kwargs))

    return prepare_failing


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_a_failing_export_answers_an_error_not_a_cut_200(
        client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, fmt: str,
        caplog: pytest.LogCaptureFixture) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner)
    monkeypatch.setattr(service, "prepare", _failing(service.prepare))
    resp = await client.get(f"/api/v1/leads/export?format={fmt}", headers=owner.headers)
    assert resp.status_code == 500, resp.text[:200]
    assert "division by zero" in caplog.text  # the planted failure, not another
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "INTERNAL_ERROR"
    monkeypatch.undo()
    again = await client.get("/api/v1/leads/export?format=csv", headers=owner.headers)
    assert again.status_code == 200 and again.text.count("\n") == 2


async def test_the_first_rows_are_read_before_the_stream_is_handed_out(
        client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await make_lead(client, owner, first_name="Uno")
    ctx = Context(tenant_id=owner.tenant_id,
                  principal=Principal(role="owner", tenant_id=owner.tenant_id,
                                      user_id=owner.user_id))
    async with db.transaction(owner.tenant_id) as session:
        plan = await service.prepare(session, ctx=ctx, f=LeadFilter())
    body = await read_ahead(service.stream_csv(db, plan), 2)
    assert b"Uno" in b"".join([chunk async for chunk in body])
    with pytest.raises(psycopg.errors.DivisionByZero):  # COPY runs on the raw connection
        await read_ahead(service.stream_csv(db, _failing_plan(plan)), 2)


async def test_read_ahead_keeps_every_item_in_order() -> None:
    async def items(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    for n in (0, 1, 2, 5):
        assert [i async for i in await read_ahead(items(n), 2)] == list(range(n))
