"""What the pages' pickers list: the workspace's users, lists and lead-pipeline stages
(bounded; through the owning services and repositories).

Kept per workspace for ``TTL_SECONDS`` in the process (as ``tenants.service.defaults``
is): they are seven small queries a page would otherwise repeat, and a new user or
stage showing up in a picker a few seconds late is harmless (what is written is checked
by the services, not by the picker)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.kit.pagination import PageParams
from leadbase.lists import repository as lists_repository
from leadbase.pipelines import service as pipelines_service
from leadbase.users import service as users_service

LIMIT = 200
TTL_SECONDS = 10.0
_cache: dict[uuid.UUID, tuple[float, dict[str, Any]]] = {}


async def lookups(session: AsyncSession, ctx: Context) -> dict[str, Any]:
    """``users`` (active, by name), ``lists``, ``stages`` (of the lead pipelines, with
    their pipeline's name, and ``many_pipelines``), ``user_names`` (id → name) and
    ``stage_names`` (id → name)."""
    now = time.monotonic()
    hit = _cache.get(ctx.tenant_id)
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return dict(hit[1])
    value = await _load(session, ctx)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[ctx.tenant_id] = (now, value)
    return dict(value)


def forget(tenant_id: uuid.UUID) -> None:
    _cache.pop(tenant_id, None)


async def _load(session: AsyncSession, ctx: Context) -> dict[str, Any]:
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
            "many_pipelines": len({s["pipeline_id"] for s in stages}) > 1,
            "stage_names": {s["id"]: s["name"] for s in stages}}
