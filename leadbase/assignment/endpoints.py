"""Assignment (``/api/v1/assignment``): the ordered rules, the workspace's settings and
the background jobs; a lead's assignment (``/api/v1/leads/{id}/assign``,
``/auto-assign``) and a user's reassignment (``/api/v1/users/{id}/reassign-leads``).
Everything here needs manager or higher, but reading the settings."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from leadbase.assignment import flows, jobs, repository, service
from leadbase.assignment.schemas import (
    AssignmentRead,
    AssignRequest,
    AutoAssignRequest,
    JobPage,
    JobRead,
    ReassignRequest,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleReorder,
    RuleUpdate,
    SettingsRead,
    SettingsUpdate,
)
from leadbase.auth.deps import IfMatch, ManagerScope, Scope
from leadbase.kit.checks import found
from leadbase.kit.http import etag, json_response
from leadbase.kit.idempotency import idempotent
from leadbase.kit.pagination import PageParams, page_params

router = APIRouter(prefix="/assignment", tags=["assignment"])
leads_router = APIRouter(prefix="/leads", tags=["assignment"])
users_router = APIRouter(prefix="/users", tags=["assignment"])

_412: dict[int | str, dict[str, Any]] = {412: {"description": "If-Match names an older version"}}
_422: dict[int | str, dict[str, Any]] = {
    422: {"description": "INVALID_RULE: errors name the place inside the rule"}}


def _rule(row: dict[str, Any], status: int = 200) -> Response:
    return json_response(RuleRead.model_validate(row), status,
                         headers={"ETag": etag(row["version"])})


def _result(outcome: flows.Outcome, dry_run: bool, manual: bool = False) -> Response:
    d = outcome.decision
    rule = d.rule if d else None
    body = {
        "lead_id": outcome.lead["id"], "dry_run": dry_run,
        "outcome": "manual" if manual else (d.outcome if d else "no_rule"),
        "changed": outcome.changed, "previous_owner_id": outcome.previous_owner_id,
        "owner_id": outcome.target,
        "rule": {"id": rule.id, "name": rule.name, "position": rule.position,
                 "strategy": rule.strategy} if rule else None,
        "rules_checked": [{"id": r.id, "name": r.name, "matched": ok, "broken": r.broken}
                          for r, ok in (d.checked if d else [])],
        "candidates": [c.__dict__ for c in (d.candidates if d else [])],
        "lead_version": outcome.lead["version"],
    }
    return json_response(AssignmentRead.model_validate(body),
                         headers={"ETag": etag(outcome.lead["version"])})


@router.get("/rules", response_model=RulePage)
async def list_rules(scope: ManagerScope,
                     params: Annotated[PageParams, Depends(page_params)]) -> Response:
    """The rules in order (``position``), each condition also in words."""
    rows, total = await service.list_rules(scope.session, ctx=scope.ctx, params=params)
    return json_response(RulePage(data=[RuleRead.model_validate(r) for r in rows], total=total,
                                  page=params.page, per_page=params.per_page,
                                  next_cursor=None))


@router.post("/rules", status_code=201, response_model=RuleRead, responses=_422)
async def create_rule(request: Request, body: RuleCreate, scope: ManagerScope) -> Response:
    """Add a rule (at ``position``, default last). Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        row = await service.create_rule(scope.session, ctx=scope.ctx, body=body)
        response = _rule(row, 201)
        response.headers["Location"] = f"/api/v1/assignment/rules/{row['id']}"
        return response

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@router.post("/rules/reorder", response_model=RulePage, responses=_422)
async def reorder_rules(body: RuleReorder, scope: ManagerScope) -> Response:
    """Set the order of every rule (first match wins)."""
    rows = await service.reorder(scope.session, ctx=scope.ctx, rule_ids=body.rule_ids)
    return json_response(RulePage(data=[RuleRead.model_validate(r) for r in rows],
                                  total=len(rows), page=1, per_page=max(len(rows), 1),
                                  next_cursor=None))


@router.get("/rules/{rule_id}", response_model=RuleRead)
async def get_rule(rule_id: uuid.UUID, scope: ManagerScope) -> Response:
    return _rule(await service.get_rule(scope.session, ctx=scope.ctx, rule_id=rule_id))


@router.patch("/rules/{rule_id}", response_model=RuleRead, responses={**_412, **_422})
async def update_rule(rule_id: uuid.UUID, body: RuleUpdate, scope: ManagerScope,
                      if_match: IfMatch) -> Response:
    """Change a rule (checked whole again). Optional ``If-Match``."""
    return _rule(await service.update_rule(scope.session, ctx=scope.ctx, rule_id=rule_id,
                                           body=body, expected_version=if_match))


@router.delete("/rules/{rule_id}", status_code=204, responses=_412)
async def delete_rule(rule_id: uuid.UUID, scope: ManagerScope, if_match: IfMatch) -> Response:
    await service.delete_rule(scope.session, ctx=scope.ctx, rule_id=rule_id,
                              expected_version=if_match)
    return Response(status_code=204)


@router.get("/settings", response_model=SettingsRead)
async def get_settings(scope: Scope) -> Response:
    return json_response(SettingsRead.model_validate(
        await service.get_settings(scope.session, ctx=scope.ctx)))


@router.put("/settings", response_model=SettingsRead)
async def update_settings(body: SettingsUpdate, scope: ManagerScope) -> Response:
    """``auto_assign_new_leads``: every new lead without an owner goes through the rules,
    however it arrives (API, import, profiles); ``reassign_on_deactivation``."""
    return json_response(SettingsRead.model_validate(await service.update_settings(
        scope.session, ctx=scope.ctx, changes=body.model_dump(exclude_unset=True))))


@router.get("/jobs", response_model=JobPage)
async def list_jobs(scope: ManagerScope,
                    params: Annotated[PageParams, Depends(page_params)]) -> Response:
    rows, total = await repository.list_jobs(scope.session, tenant_id=scope.ctx.tenant_id,
                                             offset=params.offset, limit=params.per_page)
    return json_response(JobPage(data=[JobRead.model_validate(r) for r in rows], total=total,
                                 page=params.page, per_page=params.per_page,
                                 next_cursor=None))


@router.get("/jobs/{job_id}", response_model=JobRead)
async def get_job(job_id: uuid.UUID, scope: ManagerScope) -> Response:
    """A job's progress: ``total``, ``processed``, ``assigned``, ``unassigned``."""
    row = found(await repository.get_job(scope.session, tenant_id=scope.ctx.tenant_id,
                                         job_id=job_id), jobs.job_not_found)
    return json_response(JobRead.model_validate(row))


@leads_router.post("/{lead_id}/assign", response_model=AssignmentRead, responses=_412)
async def assign_lead(request: Request, lead_id: uuid.UUID, body: AssignRequest,
                      scope: ManagerScope, if_match: IfMatch) -> Response:
    """Give the lead to a user by hand (``user_id`` null: nobody), with a reason; kept on
    its timeline. Optional ``If-Match`` (the lead's ETag); accepts ``Idempotency-Key``."""

    async def work() -> Response:
        outcome = await flows.assign(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                     user_id=body.user_id, reason=body.reason,
                                     expected_version=if_match)
        return _result(outcome, False, manual=True)

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)


@leads_router.post("/{lead_id}/auto-assign", response_model=AssignmentRead, responses=_412)
async def auto_assign_lead(
    lead_id: uuid.UUID, scope: ManagerScope, if_match: IfMatch,
    body: AutoAssignRequest | None = None,
    dry_run: Annotated[bool, Query(description="Say what the rules would do; write "
                                               "nothing")] = False,
) -> Response:
    """Run the rules for the lead now. Answers the rule that matched (and each rule
    checked before it), the chosen user, and every candidate with why they are or are
    not eligible (``inactive``, ``out_of_office``, ``outside_working_hours``,
    ``at_capacity``, ...), their weight and open leads."""
    outcome = await flows.auto_assign(scope.session, ctx=scope.ctx, lead_id=lead_id,
                                      dry_run=dry_run, reason=body.reason if body else None,
                                      expected_version=if_match)
    return _result(outcome, dry_run)


@users_router.post("/{user_id}/reassign-leads", status_code=202, response_model=JobRead)
async def reassign_leads(request: Request, user_id: uuid.UUID, scope: ManagerScope,
                         body: ReassignRequest | None = None) -> Response:
    """Reassign every open lead of the user through the rules (the user excluded), as a
    job: follow ``/api/v1/assignment/jobs/{id}``. Accepts ``Idempotency-Key``."""

    async def work() -> Response:
        job = await jobs.queue_reassign(scope.session, ctx=scope.ctx, user_id=user_id,
                                        reason=body.reason if body else None)
        return json_response(JobRead.model_validate(job), 202, headers={
            "Location": f"/api/v1/assignment/jobs/{job['id']}"})

    return await idempotent(request, scope.session, scope.ctx.tenant_id,
                            request.app.state.settings.idempotency_ttl_seconds, work)
