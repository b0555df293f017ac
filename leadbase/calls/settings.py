"""The workspace's dialer settings (``tenants.settings["dialer"]``): what a done dial
task's disposition does to its lead (a status, a stage of the lead's pipeline)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.calls.schemas import CallSettings
from leadbase.kit.errors import AppError
from leadbase.leads import service as leads_service
from leadbase.leads.schemas import LeadUpdate
from leadbase.pipelines import moves
from leadbase.pipelines.schemas import StageMove
from leadbase.tenants import service as tenants_service

log = logging.getLogger(__name__)
KEY = "dialer"


async def get_settings(session: AsyncSession, *, ctx: Context) -> CallSettings:
    tenant = await tenants_service.get_workspace(session, tenant_id=ctx.tenant_id)
    return CallSettings.model_validate((tenant["settings"] or {}).get(KEY) or {})


async def put_settings(session: AsyncSession, *, ctx: Context,
                       body: CallSettings) -> CallSettings:
    await tenants_service.set_setting(session, tenant_id=ctx.tenant_id, key=KEY,
                                      value=body.model_dump(mode="json", exclude_none=True))
    return body


async def apply_disposition(session: AsyncSession, *, ctx: Context, lead_id: uuid.UUID,
                            disposition: str) -> None:
    """Move the lead as the workspace maps ``disposition`` (nothing when unmapped). A
    mapping that no longer fits the lead (a stage removed since) is logged and skipped:
    the call's record stands."""
    effect = (await get_settings(session, ctx=ctx)).dispositions.get(disposition)  # type: ignore[call-overload]
    if effect is None:
        return
    try:
        if effect.status is not None:
            await leads_service.update_lead(session, ctx=ctx, lead_id=lead_id,
                                            body=LeadUpdate(status=effect.status),
                                            expected_version=None)
        if effect.stage is not None:
            await moves.move_lead(session, ctx=ctx, lead_id=lead_id,
                                  body=StageMove(stage=effect.stage,
                                                 reason=f"call disposition {disposition}"),
                                  expected_version=None)
    except AppError as exc:
        log.warning("disposition %s of lead %s not applied: %s", disposition, lead_id,
                    exc.code)


def effects_of(settings: CallSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude_none=True)
