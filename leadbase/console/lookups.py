"""What the pages' pickers list: the workspace's users, lists and lead-pipeline stages
(bounded; through the owning services and repositories)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.kit.pagination import PageParams
from leadbase.lists import repository as lists_repository
from leadbase.pipelines import service as pipelines_service
from leadbase.users import service as users_service

LIMIT = 200


async def lookups(session: AsyncSession, ctx: Context) -> dict[str, Any]:
    """``users`` (active, by name), ``lists``, ``stages`` (of the lead pipelines, with
    their pipeline's name) and ``user_names`` (id → name)."""
    params = PageParams(page=1, per_page=LIMIT, cursor=None, count="none")
    users, _ = await users_service.list_users(session, ctx=ctx, params=params, role=None,
                                              is_active=True, q=None)
    # The lists without their lead counts (a grouped count over the leads).
    lists, _ = await lists_repository.list_lists(
        session, tenant_id=ctx.tenant_id, q=None,
        order=[lists_repository.T.c.number], offset=0, limit=LIMIT)
    pipelines, _ = await pipelines_service.list_pipelines(session, ctx=ctx, kind="lead",
                                                          params=params)
    stages = [{"id": s["id"], "code": s["code"], "name": s["name"],
               "pipeline": p["name"], "pipeline_id": p["id"]}
              for p in pipelines for s in p["stages"]]
    names: dict[uuid.UUID, str] = {u["id"]: u["name"] or u["email"] for u in users}
    return {"users": sorted(users, key=lambda u: (u["name"] or "").lower()),
            "lists": lists, "stages": stages, "user_names": names,
            "stage_names": {s["id"]: s["name"] for s in stages}}
