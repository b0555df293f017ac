"""All SQL for opportunities and their stage history (always tenant-scoped; RLS checks
the workspace again).

Visibility (:class:`OppScope`, made from ``leads.repository.readable(ctx)``): the
workspace's opportunities, and for an agent those it owns and those of the live leads
it may read (an ``EXISTS`` on the lead's primary key, through the readable set's own
conditions). A read joins the stage (code, name, category, default probability), and
left-joins the customer and the lead for their summaries.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.db.base import table_of
from leadbase.kit.ids import new_id
from leadbase.leads.repository import Readable, escape_like
from leadbase.leads.repository import T as LEADS
from leadbase.models import Customer, Opportunity, OpportunityStageChange, Pipeline, Stage

O = table_of(Opportunity)  # noqa: E741
H = table_of(OpportunityStageChange)
S = table_of(Stage)
P = table_of(Pipeline)
C = table_of(Customer)
# The lead of a read (its summary), aliased: the visibility's EXISTS reads ``leads`` too.
LS = LEADS.alias("opportunity_lead")

# Effective probability: the opportunity's, else its stage's default.
PROBABILITY = func.coalesce(O.c.probability, S.c.probability)
WEIGHTED = func.round(O.c.value * PROBABILITY / cast(100, Numeric), 2)

OPP_COLUMNS = (
    O.c.id, O.c.number, O.c.name, O.c.customer_id, O.c.lead_id, O.c.pipeline_id,
    O.c.stage_id, O.c.stage_entered_at, O.c.status, O.c.value, O.c.currency,
    O.c.probability.label("own_probability"), O.c.expected_close_date, O.c.owner_id,
    O.c.source, O.c.notes, O.c.closed_at, O.c.close_date, O.c.actual_value,
    O.c.lost_reason, O.c.competitor, O.c.close_notes, O.c.reopened_at, O.c.reopen_reason,
    O.c.last_activity_at, O.c.metadata.label("metadata"), O.c.created_at, O.c.updated_at,
    O.c.deleted_at, O.c.version,
)
READ_COLUMNS = (
    *OPP_COLUMNS,
    S.c.code.label("stage"), S.c.name.label("stage_name"),
    S.c.category.label("stage_category"), S.c.probability.label("stage_probability"),
    PROBABILITY.label("probability"), WEIGHTED.label("weighted_value"),
    C.c.name.label("cu__name"), C.c.kind.label("cu__kind"),
    LS.c.first_name.label("le__first_name"), LS.c.last_name.label("le__last_name"),
    LS.c.email.label("le__email"), LS.c.company.label("le__company"),
    LS.c.owner_id.label("le__owner_id"),
)

SORTABLE: dict[str, tuple[ColumnElement[Any], bool]] = {
    "created_at": (O.c.created_at, False),
    "updated_at": (O.c.updated_at, False),
    "number": (O.c.number, False),
    "name": (O.c.name, False),
    "value": (O.c.value, False),
    "probability": (PROBABILITY, False),
    "weighted_value": (WEIGHTED, False),
    "expected_close_date": (O.c.expected_close_date, True),
    "stage_entered_at": (O.c.stage_entered_at, False),
    "last_activity_at": (O.c.last_activity_at, True),
    "status": (O.c.status, False),
}
ID_COLUMN = O.c.id


@dataclass(frozen=True)
class OppScope:
    """The opportunities a principal reaches: the workspace's; for an agent
    (``leads.own``) those it owns and those of the live leads it may read."""

    leads: Readable

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.leads.tenant_id

    def where(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [O.c.tenant_id == self.tenant_id]
        if self.leads.own:
            if self.leads.owner_id is None:
                conds.append(false())
            else:
                conds.append(or_(O.c.owner_id == self.leads.owner_id,
                                 lead_reachable(self.leads, O.c.lead_id)))
        return conds


    def sql(self, alias: str = "o") -> tuple[str, tuple[Any, ...]]:
        """:meth:`where` for the raw driver, on the opportunities aliased ``alias``."""
        if not self.leads.own:
            return f"{alias}.tenant_id = %s", (self.tenant_id,)
        if self.leads.owner_id is None:
            return f"{alias}.tenant_id = %s AND false", (self.tenant_id,)
        where, params = self.leads.sql()
        return (f"{alias}.tenant_id = %s AND ({alias}.owner_id = %s OR EXISTS (SELECT 1 "
                f"FROM leads WHERE leads.id = {alias}.lead_id AND leads.deleted_at IS NULL "
                f"AND {where}))"), (self.tenant_id, self.leads.owner_id, *params)


def lead_reachable(scope: Readable, lead_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """The lead ``lead_id`` is live and in the readable set ``scope``."""
    return exists().where(LEADS.c.id == lead_id, *scope.where(),
                          LEADS.c.deleted_at.is_(None))


@dataclass(frozen=True)
class OpportunityFilter:
    statuses: tuple[str, ...] = ()
    pipeline_ids: tuple[uuid.UUID, ...] = ()
    stage_ids: tuple[uuid.UUID, ...] | None = None  # None: no stage filter
    owner_ids: tuple[uuid.UUID, ...] = ()
    customer_ids: tuple[uuid.UUID, ...] = ()
    lead_ids: tuple[uuid.UUID, ...] = ()
    q: str | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    close_from: date | None = None
    close_to: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.statuses:
            conds.append(O.c.status.in_(self.statuses))
        if self.pipeline_ids:
            conds.append(O.c.pipeline_id.in_(self.pipeline_ids))
        if self.stage_ids is not None:
            conds.append(O.c.stage_id.in_(self.stage_ids) if self.stage_ids else false())
        if self.owner_ids:
            conds.append(O.c.owner_id.in_(self.owner_ids))
        if self.customer_ids:
            conds.append(O.c.customer_id.in_(self.customer_ids))
        if self.lead_ids:
            conds.append(O.c.lead_id.in_(self.lead_ids))
        if self.q:
            conds.append(O.c.name.ilike("%" + escape_like(self.q) + "%"))
        if self.value_min is not None:
            conds.append(O.c.value >= self.value_min)
        if self.value_max is not None:
            conds.append(O.c.value <= self.value_max)
        if self.close_from is not None:
            conds.append(O.c.expected_close_date >= self.close_from)
        if self.close_to is not None:
            conds.append(O.c.expected_close_date <= self.close_to)
        return conds


def nest(row: Any) -> dict[str, Any]:
    """A read row: the summaries of the customer and the lead nested."""
    out = dict(row)
    customer = {k[4:]: out.pop(k) for k in [k for k in out if k.startswith("cu__")]}
    lead = {k[4:]: out.pop(k) for k in [k for k in out if k.startswith("le__")]}
    out["customer"] = ({"id": out["customer_id"], **customer}
                       if out["customer_id"] is not None and customer["name"] is not None
                       else None)
    out["lead"] = {"id": out["lead_id"], **lead} if out["lead_id"] is not None else None
    out["probability_is_default"] = out.pop("own_probability") is None
    return out


def base_query(scope: OppScope, *, include_deleted: bool = False) -> Select[Any]:
    q = (select(*READ_COLUMNS)
         .select_from(O)
         .join(S, (S.c.tenant_id == O.c.tenant_id) & (S.c.id == O.c.stage_id))
         .outerjoin(C, (C.c.tenant_id == O.c.tenant_id) & (C.c.id == O.c.customer_id))
         .outerjoin(LS, (LS.c.tenant_id == O.c.tenant_id) & (LS.c.id == O.c.lead_id))
         .where(*scope.where(), S.c.tenant_id == scope.tenant_id))
    if not include_deleted:
        q = q.where(O.c.deleted_at.is_(None))
    return q


async def get(session: AsyncSession, *, scope: OppScope, opportunity_id: uuid.UUID,
              include_deleted: bool = False) -> dict[str, Any] | None:
    q = base_query(scope, include_deleted=include_deleted).where(O.c.id == opportunity_id)
    row = (await session.execute(q)).mappings().first()
    return nest(row) if row else None


async def lock(session: AsyncSession, *, scope: OppScope, opportunity_id: uuid.UUID
               ) -> bool:
    """Lock the live opportunity's row if ``scope`` reaches it."""
    q = (select(O.c.id).where(*scope.where(), O.c.id == opportunity_id,
                              O.c.deleted_at.is_(None)).with_for_update(of=O))
    return (await session.execute(q)).first() is not None


async def exists_in_workspace(session: AsyncSession, *, tenant_id: uuid.UUID,
                              opportunity_id: uuid.UUID) -> bool:
    q = select(O.c.id).where(O.c.tenant_id == tenant_id, O.c.id == opportunity_id,
                             O.c.deleted_at.is_(None))
    return (await session.execute(q)).first() is not None


async def insert_opportunity(session: AsyncSession, *, tenant_id: uuid.UUID,
                             values: dict[str, Any]) -> uuid.UUID:
    opportunity_id = new_id()
    await session.execute(insert(O).values(id=opportunity_id, tenant_id=tenant_id,
                                           **values))
    return opportunity_id


async def update_opportunity(session: AsyncSession, *, tenant_id: uuid.UUID,
                             opportunity_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(
        update(O).where(O.c.tenant_id == tenant_id, O.c.id == opportunity_id)
        .values(**values, updated_at=func.now(), version=O.c.version + 1))


async def touch(session: AsyncSession, *, tenant_id: uuid.UUID, opportunity_id: uuid.UUID,
                at: datetime) -> None:
    """Move ``last_activity_at`` forward to ``at`` (never back; no version bump: an
    activity is not a change of the deal)."""
    await session.execute(
        update(O).where(O.c.tenant_id == tenant_id, O.c.id == opportunity_id,
                        or_(O.c.last_activity_at.is_(None), O.c.last_activity_at < at))
        .values(last_activity_at=at))


async def page(session: AsyncSession, *, scope: OppScope, f: OpportunityFilter,
               order: list[Any], after: ColumnElement[bool] | None, offset: int,
               limit: int) -> list[dict[str, Any]]:
    q = base_query(scope).where(*f.conditions())
    if after is not None:
        q = q.where(after)
    q = q.order_by(*order).offset(offset).limit(limit)
    return [nest(r) for r in (await session.execute(q)).mappings()]


async def count(session: AsyncSession, *, scope: OppScope, f: OpportunityFilter,
                cap: int) -> int:
    inner = (select(O.c.id).where(*scope.where(), O.c.deleted_at.is_(None), *f.conditions())
             .limit(cap + 1).subquery())
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


# -------------------------------------------------------------------- references

async def pipeline(session: AsyncSession, *, tenant_id: uuid.UUID,
                   pipeline_id: uuid.UUID | None) -> dict[str, Any] | None:
    """The live pipeline (``None``: the workspace's default deal pipeline)."""
    q = select(P.c.id, P.c.kind, P.c.name).where(P.c.tenant_id == tenant_id,
                                                 P.c.deleted_at.is_(None))
    if pipeline_id is None:
        q = q.where(P.c.kind == "deal", P.c.is_default)
    else:
        q = q.where(P.c.id == pipeline_id)
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def stages(session: AsyncSession, *, tenant_id: uuid.UUID,
                 pipeline_id: uuid.UUID) -> list[dict[str, Any]]:
    """The live stages of a pipeline, in order."""
    q = (select(S.c.id, S.c.pipeline_id, S.c.code, S.c.name, S.c.position, S.c.probability,
                S.c.category)
         .where(S.c.tenant_id == tenant_id, S.c.pipeline_id == pipeline_id,
                S.c.deleted_at.is_(None)).order_by(S.c.position))
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def customer_readable(session: AsyncSession, *, leads: Readable,
                            customer_id: uuid.UUID) -> bool:
    """The live customer is the workspace's, and for an agent its own or one of a lead
    it may read."""
    conds: list[ColumnElement[bool]] = [C.c.tenant_id == leads.tenant_id,
                                        C.c.id == customer_id, C.c.deleted_at.is_(None)]
    if leads.own:
        if leads.owner_id is None:
            return False
        conds.append(or_(C.c.owner_id == leads.owner_id,
                         exists().where(LEADS.c.customer_id == C.c.id, *leads.where(),
                                        LEADS.c.deleted_at.is_(None))))
    return (await session.execute(select(C.c.id).where(and_(*conds)))).first() is not None


# -------------------------------------------------------------------- stage history

async def insert_change(session: AsyncSession, *, tenant_id: uuid.UUID,
                        values: dict[str, Any]) -> dict[str, Any]:
    q = insert(H).values(id=new_id(), tenant_id=tenant_id, **values).returning(
        H.c.id, H.c.opportunity_id, H.c.pipeline_id, H.c.from_stage_id, H.c.to_stage_id,
        H.c.changed_at, H.c.actor_user_id, H.c.reason, H.c.seconds_in_previous)
    return dict((await session.execute(q)).mappings().one())


def _history_query(tenant_id: uuid.UUID) -> Select[Any]:
    frm = S.alias("from_stage")
    to = S.alias("to_stage")
    return (select(H.c.id, H.c.opportunity_id, H.c.pipeline_id, H.c.from_stage_id,
                   frm.c.code.label("from_stage"), H.c.to_stage_id,
                   to.c.code.label("to_stage"), H.c.changed_at, H.c.actor_user_id,
                   H.c.reason, H.c.seconds_in_previous)
            .select_from(H)
            .outerjoin(frm, (frm.c.tenant_id == H.c.tenant_id)
                       & (frm.c.id == H.c.from_stage_id))
            .outerjoin(to, (to.c.tenant_id == H.c.tenant_id) & (to.c.id == H.c.to_stage_id))
            .where(H.c.tenant_id == tenant_id))


async def history(session: AsyncSession, *, tenant_id: uuid.UUID, opportunity_id: uuid.UUID,
                  after: tuple[datetime, uuid.UUID] | None,
                  limit: int) -> list[dict[str, Any]]:
    """Newest first."""
    q = _history_query(tenant_id).where(H.c.opportunity_id == opportunity_id)
    if after is not None:
        q = q.where(tuple_(H.c.changed_at, H.c.id) < tuple_(*after))
    q = q.order_by(H.c.changed_at.desc(), H.c.id.desc()).limit(limit)
    return [dict(r) for r in (await session.execute(q)).mappings()]


async def last_change_into(session: AsyncSession, *, tenant_id: uuid.UUID,
                           opportunity_id: uuid.UUID,
                           stage_id: uuid.UUID) -> dict[str, Any] | None:
    """The latest change that brought the opportunity into ``stage_id``."""
    q = (select(H.c.from_stage_id, H.c.changed_at)
         .where(H.c.tenant_id == tenant_id, H.c.opportunity_id == opportunity_id,
                H.c.to_stage_id == stage_id)
         .order_by(H.c.changed_at.desc(), H.c.id.desc()).limit(1))
    row = (await session.execute(q)).mappings().first()
    return dict(row) if row else None


async def change_read(session: AsyncSession, *, tenant_id: uuid.UUID,
                      change_id: uuid.UUID) -> dict[str, Any]:
    q = _history_query(tenant_id).where(H.c.id == change_id)
    return dict((await session.execute(q)).mappings().one())


# -------------------------------------------------------------------- stages in use

async def stage_holds_opportunities(session: AsyncSession, *, tenant_id: uuid.UUID,
                                    stage_id: uuid.UUID) -> bool:
    """Whether any opportunity (deleted ones too: they keep their stage) is in it."""
    q = select(exists().where(O.c.tenant_id == tenant_id, O.c.stage_id == stage_id))
    return bool((await session.execute(q)).scalar())


async def pipeline_holds_opportunities(session: AsyncSession, *, tenant_id: uuid.UUID,
                                       pipeline_id: uuid.UUID) -> bool:
    """Whether any opportunity (deleted ones too) is in the pipeline."""
    q = select(exists().where(O.c.tenant_id == tenant_id, O.c.pipeline_id == pipeline_id))
    return bool((await session.execute(q)).scalar())


async def move_all(session: AsyncSession, *, tenant_id: uuid.UUID, from_stage_id: uuid.UUID,
                   to_stage_id: uuid.UUID, pipeline_id: uuid.UUID, now: datetime,
                   actor_user_id: uuid.UUID | None, reason: str) -> int:
    """Move every opportunity of a stage to another of its pipeline, with a history row
    each (set-based: one INSERT ... SELECT and one UPDATE). Deleted ones move too (they
    keep a stage). Their status stays: a deleted stage's deals keep what they were."""
    seconds = func.greatest(0, func.floor(func.extract(
        "epoch", now - O.c.stage_entered_at))).cast(H.c.seconds_in_previous.type)
    moved = (select(func.lb_uuid7(), O.c.tenant_id, O.c.id, O.c.pipeline_id,
                    O.c.stage_id, literal(to_stage_id, H.c.to_stage_id.type),
                    literal(now, H.c.changed_at.type),
                    literal(actor_user_id, H.c.actor_user_id.type),
                    literal(reason, H.c.reason.type), seconds)
             .where(O.c.tenant_id == tenant_id, O.c.stage_id == from_stage_id))
    await session.execute(insert(H).from_select(
        ["id", "tenant_id", "opportunity_id", "pipeline_id", "from_stage_id", "to_stage_id",
         "changed_at", "actor_user_id", "reason", "seconds_in_previous"], moved))
    result = await session.execute(
        update(O).where(O.c.tenant_id == tenant_id, O.c.stage_id == from_stage_id)
        .values(stage_id=to_stage_id, pipeline_id=pipeline_id, stage_entered_at=now,
                updated_at=func.now(), version=O.c.version + 1))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
