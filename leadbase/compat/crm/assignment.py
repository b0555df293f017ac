"""``/leads/{id}/assign``, ``auto-assign``, ``reassign`` and ``/leads/assignment/...``,
over the assignment flows (by hand, by the workspace's rules) and the lead list."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from leadbase.assignment import flows
from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.compat.crm import ids, views
from leadbase.compat.crm.leads import DEFAULT_LIMIT, Limit, Page, agent_id, lead_id, page_of
from leadbase.compat.crm.schemas import AssignBody, LeadOut, LeadPage, ReassignBody
from leadbase.kit.idempotency import idempotent
from leadbase.leads.filters import LeadFilter
from leadbase.users import service as users

router = APIRouter(prefix="/leads", tags=["assignment"])


def _answer(outcome: flows.Outcome) -> Response:
    return views.respond(views.lead(outcome.lead), headers=views.etag_of(outcome.lead))


@router.post("/{id}/assign", response_model=LeadOut)
async def assign_lead(request: Request, id: str, body: AssignBody, scope: ManagerScope,
                      if_match: IfMatch) -> Response:
    """Give the lead to an agent (``agentId`` null: nobody), managers and above; kept on
    its timeline. Answers the lead. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        outcome = await flows.assign(scope.session, ctx=scope.ctx, lead_id=lead_id(request, id),
                                     user_id=agent_id(request, body.agent_id),
                                     reason=body.reason, expected_version=if_match)
        return _answer(outcome)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/{id}/auto-assign", response_model=LeadOut)
async def auto_assign_lead(request: Request, id: str, scope: ManagerScope,
                           if_match: IfMatch) -> Response:
    """Run the workspace's assignment rules for the lead now (``/api/v1/assignment``).
    No rule matching, or nobody eligible: the lead keeps its agent. Answers the lead."""
    outcome = await flows.auto_assign(scope.session, ctx=scope.ctx,
                                      lead_id=lead_id(request, id), dry_run=False,
                                      reason=None, expected_version=if_match)
    return _answer(outcome)


@router.post("/{id}/reassign", response_model=LeadOut)
async def reassign_lead(request: Request, id: str, body: ReassignBody,
                        scope: ManagerScope, if_match: IfMatch) -> Response:
    """Move the lead from ``fromAgentId`` to ``toAgentId``. When the lead is not
    ``fromAgentId``'s (someone moved it meanwhile): 409, nothing changes."""
    outcome = await flows.reassign(scope.session, ctx=scope.ctx,
                                   lead_id=lead_id(request, id),
                                   from_user_id=agent_id(request, body.from_agent_id),
                                   to_user_id=agent_id(request, body.to_agent_id),
                                   reason=body.reason, expected_version=if_match)
    return _answer(outcome)


@router.get("/assignment/unassigned", response_model=LeadPage)
async def unassigned_leads(request: Request, scope: Scope, page: Page = 1,
                           limit: Limit = DEFAULT_LIMIT) -> Response:
    """Live leads with no agent, newest first, paged as ``GET /leads``."""
    return await page_of(request, scope, LeadFilter(owner_id="none"), page, limit)


@router.get("/assignment/by-agent/{agentId}", response_model=LeadPage)
async def leads_by_agent(request: Request, agentId: str, scope: Scope, page: Page = 1,
                         limit: Limit = DEFAULT_LIMIT) -> Response:
    """The agent's leads, newest first, paged as ``GET /leads`` (an agent: only their
    own). An id of nobody in the workspace: 404."""
    owner = ids.resolve(request, "agent", agentId)
    await users.get_user(scope.session, ctx=scope.ctx, user_id=owner)  # 404: nobody's id
    return await page_of(request, scope, LeadFilter(owner_id=str(owner)), page, limit)
