"""The rule language (``/api/v1/rules``): the fields a rule can use, and checking a rule
before saving it anywhere (segments, scoring, assignment, auto-advance)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from leadbase.auth.deps import RequestScope, Scope, workspace_scope
from leadbase.rules import service
from leadbase.rules.schemas import RuleCheck, RuleChecked, RuleFields

router = APIRouter(prefix="/rules", tags=["rules"])
# Checking a rule writes nothing: viewers may too.
ReadScope = Annotated[RequestScope, workspace_scope(write=False)]


@router.get("/fields", response_model=RuleFields)
async def rule_fields(scope: Scope) -> RuleFields:
    """Every field a rule of this workspace can name, its kind and operators: the lead's
    own fields, its custom fields (``fields.<code>``, typed by the field engine), activity
    counts (``activities.<type>``, with ``within_days``), ``tasks.open``,
    ``tasks.overdue`` and ``days_in_stage``."""
    return RuleFields(data=await service.fields(scope.session, ctx=scope.ctx))


@router.post("/check", response_model=RuleChecked)
async def check_rule(body: RuleCheck, scope: ReadScope) -> RuleChecked:
    """Check a rule: 422 ``INVALID_RULE`` naming the path of every problem
    (``condition.all[1].value``), or the rule as stored, in words, and how many of the
    leads you can read match it now (counted up to 10,000). Writes nothing."""
    return await service.check(scope.session, ctx=scope.ctx, condition=body.condition)
