"""activities.export: the activities a context reads, as an XLSX workbook."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import httpx
import pytest
from python_calamine import CalamineWorkbook

from leadbase.activities import export
from leadbase.auth.context import Context, Principal
from leadbase.db.session import Database
from leadbase.kit.errors import ValidationFailed
from tests.activities.helpers import log
from tests.factories import add_member, make_lead, make_workspace


def _ctx(member: object, role: str) -> Context:
    tenant, user = member.tenant_id, member.user_id  # type: ignore[attr-defined]
    return Context(tenant_id=tenant, principal=Principal(role=role, tenant_id=tenant,
                                                         user_id=user))


async def test_write_xlsx_filters_and_scopes(client: httpx.AsyncClient, db: Database,
                                             tmp_path: Path) -> None:
    owner = await make_workspace(client)
    agent = await add_member(client, owner, "agent")
    mine = await make_lead(client, agent)
    other = await make_lead(client, owner)
    call = await log(client, agent, mine, "call", attributes={"outcome": "=1+1"})
    await log(client, agent, mine, "note", attributes={"content": "hello"})
    await log(client, owner, other, "call")
    path = tmp_path / "a.xlsx"
    written = await export.write_xlsx(db, ctx=_ctx(agent, "agent"), f={"types": ["call"]},
                                      path=path)
    assert written == 1
    book = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
    rows = book.get_sheet_by_index(0).to_python()
    assert book.sheet_names == ["Activities"]
    header = [h for h, _, _ in export.COLUMNS]
    assert rows[0] == header and len(rows) == 2
    assert rows[1][header.index("id")] == call["id"]
    assert rows[1][header.index("attributes")].startswith("{")  # JSON text, no formula
    assert '"outcome":"=1+1"' in rows[1][header.index("attributes")]
    everything = await export.write_xlsx(db, ctx=_ctx(owner, "owner"), f={},
                                         path=tmp_path / "b.xlsx")
    assert everything == 3
    none = await export.write_xlsx(db, ctx=_ctx(owner, "owner"),
                                   f={"lead_id": uuid.uuid4()}, path=tmp_path / "c.xlsx")
    assert none == 0
    with pytest.raises(ValidationFailed):
        await export.write_xlsx(db, ctx=_ctx(owner, "owner"), f={"types": ["chat"]},
                                path=tmp_path / "d.xlsx")
