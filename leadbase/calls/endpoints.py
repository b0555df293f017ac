"""Voice agents (``/api/v1/call-agents``), the do-not-call list (``/api/v1/dnc``) and the
workspace's dialer settings (``/api/v1/call-settings``).

Who may: anyone reads; managers and above create, change and delete agents and the
settings; agents and above add numbers to the do-not-call list, managers and above
remove them. Provider secrets are write-only; the webhook secret is answered when an
agent is created and when it is rotated, never again."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.calls import agents
from leadbase.calls import settings as call_settings
from leadbase.calls.schemas import (
    CallAgentCreate,
    CallAgentCreated,
    CallAgentPage,
    CallAgentRead,
    CallAgentUpdate,
    CallSettings,
    DncCreate,
    DncPage,
    DncRead,
    Provider,
    WebhookSecret,
)
from leadbase.config import Settings
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE

router = APIRouter(tags=["calls"])
AGENTS = "/call-agents"
ONE = AGENTS + "/{agent_id:uuid}"
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _settings(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def _agent(request: Request, row: dict[str, Any], status: int = 200,
           secret: str | None = None) -> Response:
    data = agents.read(_settings(request), row)
    model = (CallAgentCreated.model_validate({**data, "webhook_secret": secret})
             if secret else CallAgentRead.model_validate(data))
    return json_response(model, status, headers={"ETag": etag(row["version"])})


@router.post(AGENTS, status_code=201, response_model=CallAgentCreated)
async def create_agent(request: Request, body: CallAgentCreate,
                       scope: ManagerScope) -> Response:
    """A voice agent. Answers its ``webhook_secret`` this once (rotate it with
    ``POST /call-agents/{id}/webhook-secret``). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row, secret = await agents.create_agent(scope.session, ctx=scope.ctx,
                                                settings=_settings(request), body=body)
        return _agent(request, row, 201, secret)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            _settings(request).idempotency_ttl_seconds, work)


@router.get(AGENTS, response_model=CallAgentPage)
async def list_agents(request: Request, scope: Scope, per_page: PerPage = DEFAULT_PER_PAGE,
                      cursor: Cursor = None, active: bool | None = None,
                      provider: Provider | None = None) -> Response:
    """The workspace's agents, newest first (keyset ``cursor``)."""
    rows, next_cursor = await agents.list_agents(scope.session, ctx=scope.ctx,
                                                 per_page=per_page, cursor=cursor,
                                                 active=active, provider=provider)
    settings = _settings(request)
    return json_response(CallAgentPage(
        data=[CallAgentRead.model_validate(agents.read(settings, r)) for r in rows],
        total=None, page=None, per_page=per_page, next_cursor=next_cursor))


@router.get(ONE, response_model=CallAgentRead)
async def get_agent(request: Request, agent_id: uuid.UUID, scope: Scope) -> Response:
    return _agent(request, await agents.get_agent(scope.session, ctx=scope.ctx,
                                                  agent_id=agent_id))


@router.patch(ONE, response_model=CallAgentRead)
async def update_agent(request: Request, agent_id: uuid.UUID, body: CallAgentUpdate,
                       scope: ManagerScope, if_match: IfMatch) -> Response:
    """Change an agent (``secrets``, when sent, replace the stored ones). Optional
    ``If-Match``."""
    row = await agents.update_agent(scope.session, ctx=scope.ctx, settings=_settings(request),
                                    agent_id=agent_id, body=body, expected_version=if_match)
    return _agent(request, row)


@router.delete(ONE, status_code=204)
async def delete_agent(agent_id: uuid.UUID, scope: ManagerScope,
                       if_match: IfMatch) -> Response:
    """Delete an agent and cancel its queued tasks (its calls stay in the history)."""
    await agents.delete_agent(scope.session, ctx=scope.ctx, agent_id=agent_id,
                              expected_version=if_match)
    return Response(status_code=204)


@router.post(ONE + "/webhook-secret", response_model=WebhookSecret)
async def rotate_webhook_secret(request: Request, agent_id: uuid.UUID,
                                scope: ManagerScope) -> Response:
    """A new webhook secret for the agent (the old one stops working)."""
    row, secret = await agents.rotate_webhook_secret(scope.session, ctx=scope.ctx,
                                                     settings=_settings(request),
                                                     agent_id=agent_id)
    return json_response(WebhookSecret(
        webhook_secret=secret, webhook_url=agents.webhook_url(_settings(request),
                                                              row["provider"])))


# ------------------------------------------------------------------ do-not-call list

@router.post("/dnc", status_code=201, response_model=DncRead)
async def add_dnc(body: DncCreate, scope: Scope) -> Response:
    """Put a number on the workspace's do-not-call list (normalised to E.164; 200 when it
    was listed already)."""
    row, new = await agents.add_dnc(scope.session, ctx=scope.ctx, phone=body.phone,
                                    reason=body.reason)
    return json_response(DncRead.model_validate(row), 201 if new else 200)


@router.get("/dnc", response_model=DncPage)
async def list_dnc(scope: Scope, per_page: PerPage = DEFAULT_PER_PAGE, cursor: Cursor = None,
                   phone: Annotated[str | None, Query(max_length=40)] = None) -> Response:
    """The do-not-call list, newest first; ``phone`` looks one number up."""
    rows, next_cursor = await agents.list_dnc(scope.session, ctx=scope.ctx, per_page=per_page,
                                              cursor=cursor, phone=phone)
    return json_response(DncPage(data=[DncRead.model_validate(r) for r in rows], total=None,
                                 page=None, per_page=per_page, next_cursor=next_cursor))


@router.delete("/dnc/{dnc_id:uuid}", status_code=204)
async def delete_dnc(dnc_id: uuid.UUID, scope: ManagerScope) -> Response:
    await agents.delete_dnc(scope.session, ctx=scope.ctx, dnc_id=dnc_id)
    return Response(status_code=204)


# ------------------------------------------------------------------ settings

@router.get("/call-settings", response_model=CallSettings)
async def get_call_settings(scope: Scope) -> Response:
    """What a done dial task's disposition does to its lead."""
    return json_response(await call_settings.get_settings(scope.session, ctx=scope.ctx))


@router.put("/call-settings", response_model=CallSettings)
async def put_call_settings(body: CallSettings, scope: ManagerScope) -> Response:
    """Map dispositions to a lead status and/or stage, e.g.
    ``{"dispositions": {"not_interested": {"status": "lost"}}}``."""
    return json_response(await call_settings.put_settings(scope.session, ctx=scope.ctx,
                                                          body=body))
