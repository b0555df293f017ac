"""SQL of the opportunity views: the pipeline view's and the forecast's sums, the pages of
opportunities behind them, the stale list and the closed history of a stage.

Sums come from the tables the triggers of migration 0024 keep (``opportunity_stage_sums``,
``opportunity_month_sums``: shard rows, summed here) for callers that see the whole
workspace; an agent's sums are counted from its own opportunities (the counters know
owners, not which leads an agent may read). Both give the same columns per group: ``n``,
``value``, ``weighted100`` (the sum of value x effective probability, x 100: exact
NUMERIC; the probability of an opportunity without its own is its stage's as it is now).

Every statement is ``(sql, params)`` for the raw driver (``raw.fetch_each``: the reads of
a view go in one round trip); the benchmark runs the same statements as its baseline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from leadbase.db import raw
from leadbase.opportunities.repository import OppScope, nest

ZERO = uuid.UUID(int=0)

# An opportunity as ``OpportunityRead`` reads it (``repository.nest`` shapes the row).
ROW = (
    "o.id, o.number, o.name, o.customer_id, o.lead_id, o.pipeline_id, o.stage_id, "
    "o.stage_entered_at, o.status, o.value, o.currency, o.probability AS own_probability, "
    "o.expected_close_date, o.owner_id, o.source, o.notes, o.closed_at, o.close_date, "
    "o.actual_value, o.lost_reason, o.competitor, o.close_notes, o.reopened_at, "
    "o.reopen_reason, o.last_activity_at, o.metadata, o.created_at, o.updated_at, "
    "o.deleted_at, o.version, s.code AS stage, s.name AS stage_name, "
    "s.category AS stage_category, s.probability AS stage_probability, "
    "coalesce(o.probability, s.probability) AS probability, "
    "round(o.value * coalesce(o.probability, s.probability) / 100, 2) AS weighted_value, "
    "cu.name AS cu__name, cu.kind AS cu__kind, le.first_name AS le__first_name, "
    "le.last_name AS le__last_name, le.email AS le__email, le.company AS le__company, "
    "le.owner_id AS le__owner_id")
JOINS = ("JOIN pipeline_stages s ON s.tenant_id = o.tenant_id AND s.id = o.stage_id "
         "LEFT JOIN customers cu ON cu.tenant_id = o.tenant_id AND cu.id = o.customer_id "
         "LEFT JOIN leads le ON le.tenant_id = o.tenant_id AND le.id = o.lead_id")
TOUCHED = "greatest(o.last_activity_at, o.stage_entered_at)"
_OPEN = "o.status = 'open' AND o.deleted_at IS NULL"


def shape(row: dict[str, Any]) -> dict[str, Any]:
    return nest(row)


def _owner(owner_id: uuid.UUID | None, column: str) -> tuple[str, tuple[Any, ...]]:
    return (f" AND {column} = %s", (owner_id,)) if owner_id is not None else ("", ())


def _stages(stage_ids: list[uuid.UUID] | None, column: str) -> tuple[str, tuple[Any, ...]]:
    return (f" AND {column} = ANY(%s)", (stage_ids,)) if stage_ids is not None else ("", ())


def _others_of_my_leads(scope: OppScope) -> tuple[str, tuple[Any, ...]]:
    """An agent's opportunities that the counters do not file under it: those of its leads
    owned by someone else (or no one), as a FROM item ``o`` (``ix_opportunities_tenant_lead``
    from its leads)."""
    me = scope.leads.owner_id
    where, params = scope.leads.sql()
    return ("(SELECT * FROM opportunities x WHERE x.tenant_id = %s AND x.deleted_at IS NULL "
            "AND x.owner_id IS DISTINCT FROM %s AND x.lead_id IN (SELECT leads.id FROM leads "
            f"WHERE {where} AND leads.deleted_at IS NULL)) AS o",
            (scope.tenant_id, me, *params))


def _kept_owner(scope: OppScope, owner_id: uuid.UUID | None,
                column: str) -> tuple[str, tuple[Any, ...]]:
    """The counters' owner condition: an agent's own key (and ``owner_id`` if given)."""
    sql_, params = _owner(owner_id, column)
    if scope.leads.own:
        sql_, params = sql_ + f" AND {column} = %s", (*params, scope.leads.owner_id)
    return sql_, params


def _sums(kept: raw.Statement, counted: raw.Statement | None, keys: str) -> raw.Statement:
    """The counters' groups, plus for an agent the groups counted from the opportunities of
    its leads that others own, summed again."""
    if counted is None:
        return kept
    return (f"SELECT {keys}, sum(n)::bigint AS n, sum(value) AS value, "
            f"sum(weighted100) AS weighted100 FROM ({kept[0]} UNION ALL {counted[0]}) AS u "
            "GROUP BY 1, 2 HAVING sum(n) <> 0", (*kept[1], *counted[1]))


# ------------------------------------------------------------------ pipeline view

@dataclass(frozen=True)
class PipelineStages:
    """The live stages of a pipeline (``pipeline_id`` None: the workspace's default deal
    pipeline), named in SQL so that a view's reads need not wait for them."""

    tenant_id: uuid.UUID
    pipeline_id: uuid.UUID | None

    def ref(self) -> tuple[str, tuple[Any, ...]]:
        if self.pipeline_id is not None:
            return "%s::uuid", (self.pipeline_id,)
        return ("(SELECT id FROM pipelines WHERE tenant_id = %s AND kind = 'deal' "
                "AND is_default AND deleted_at IS NULL)", (self.tenant_id,))


Stages = list[uuid.UUID] | PipelineStages


def _stage_source(stages: Stages) -> tuple[str, tuple[Any, ...]]:
    """The stages as rows (id, position)."""
    if isinstance(stages, list):
        return ("SELECT u.id, u.k AS position FROM unnest(%s::uuid[]) WITH ORDINALITY "
                "AS u(id, k)", (stages,))
    ref, params = stages.ref()
    return ("SELECT id, position FROM pipeline_stages WHERE tenant_id = %s "
            f"AND pipeline_id = {ref} AND deleted_at IS NULL", (stages.tenant_id, *params))


def pipeline_statement(stages: PipelineStages) -> raw.Statement:
    """The pipeline (its id, name and kind), if live."""
    ref, params = stages.ref()
    return ("SELECT id, name, kind FROM pipelines WHERE tenant_id = %s "
            f"AND deleted_at IS NULL AND id = {ref}", (stages.tenant_id, *params))


def stages_statement(stages: PipelineStages) -> raw.Statement:
    """Its live stages in order."""
    ref, params = stages.ref()
    return ("SELECT id, pipeline_id, code, name, position, probability, category "
            f"FROM pipeline_stages WHERE tenant_id = %s AND pipeline_id = {ref} "
            "AND deleted_at IS NULL ORDER BY position", (stages.tenant_id, *params))


def stage_sums_statement(scope: OppScope, stages: Stages,
                         owner_id: uuid.UUID | None) -> raw.Statement:
    """Per (stage, currency) of the stages: ``n``, ``value``, ``weighted100``. From the
    counters (``opportunity_stage_sums``); an agent's: its own key's counters and a count
    of the opportunities of its leads that others own."""
    if scope.leads.own and scope.leads.owner_id is None:
        return ("SELECT NULL::uuid AS stage_id, NULL AS currency, 0 AS n, 0 AS value, "
                "0 AS weighted100 WHERE false", ())
    src, stage_params = _stage_source(stages)
    own, oparams = _kept_owner(scope, owner_id, "c.owner_key")
    kept = ("SELECT c.stage_id, c.currency, sum(c.n)::bigint AS n, sum(c.value) AS value, "
            "sum(c.weighted_set) + sum(c.value_default) * min(s.probability) AS weighted100 "
            "FROM opportunity_stage_sums c JOIN pipeline_stages s "
            "ON s.tenant_id = c.tenant_id AND s.id = c.stage_id "
            f"WHERE c.tenant_id = %s AND c.stage_id IN (SELECT id FROM ({src}) AS z){own} "
            "GROUP BY 1, 2 HAVING sum(c.n) <> 0",
            (scope.tenant_id, *stage_params, *oparams))
    counted = None
    if scope.leads.own:
        source, params = _others_of_my_leads(scope)
        own, oparams = _owner(owner_id, "o.owner_id")
        counted = ("SELECT o.stage_id, o.currency, count(*) AS n, sum(o.value) AS value, "
                   "sum(o.value * coalesce(o.probability, s.probability)) AS weighted100 "
                   f"FROM {source} JOIN pipeline_stages s ON s.tenant_id = o.tenant_id "
                   f"AND s.id = o.stage_id WHERE o.stage_id IN (SELECT id FROM ({src}) AS z)"
                   f"{own} GROUP BY 1, 2", (*params, *stage_params, *oparams))
    return _sums(kept, counted, "stage_id, currency")


def _joined(inner: str, order: str) -> str:
    """The rows of ``inner`` (a page of ``opportunities o``, limited first) with their
    stage, customer and lead joined: the joins touch the page's rows only."""
    return f"SELECT {ROW} FROM ({inner}) AS o {JOINS} ORDER BY {order}"


def _stage_page_sql(where: str, own: str, after: bool) -> str:
    order = "o.created_at DESC, o.id DESC"
    return _joined(f"SELECT o.* FROM opportunities o WHERE {where} "
                   f"AND o.stage_id = %s AND o.deleted_at IS NULL{own}"
                   + (" AND (o.created_at, o.id) < (%s, %s)" if after else "")
                   + f" ORDER BY {order} LIMIT %s", order)


def first_pages_statement(scope: OppScope, stages: Stages,
                          owner_id: uuid.UUID | None, limit: int) -> raw.Statement:
    """The newest ``limit`` opportunities of each stage (a LATERAL per stage on
    ``ix_opportunities_tenant_stage``), in stage order."""
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    inner = _stage_page_sql(where, own, after=False).replace("o.stage_id = %s",
                                                             "o.stage_id = st.id")
    src, stage_params = _stage_source(stages)
    return (f"SELECT r.* FROM ({src}) AS st CROSS JOIN LATERAL ({inner}) AS r "
            "ORDER BY st.position", (*stage_params, *params, *oparams, limit))


def stage_page_statement(scope: OppScope, stage_id: uuid.UUID, owner_id: uuid.UUID | None,
                         after: tuple[datetime, uuid.UUID] | None,
                         limit: int) -> raw.Statement:
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    keys: tuple[Any, ...] = after if after is not None else ()
    return (_stage_page_sql(where, own, after is not None),
            (*params, stage_id, *oparams, *keys, limit))


# ------------------------------------------------------------------ forecast

_MONTH = "date_trunc('month', o.expected_close_date::timestamp)::date"


def month_sums_statement(scope: OppScope, end: date, owner_id: uuid.UUID | None,
                         stage_ids: list[uuid.UUID] | None) -> raw.Statement:
    """Open opportunities per (month of the expected close, currency) for the months before
    ``end`` (all of them: the overdue ones too) and without a date (``close_month``
    NULL): ``close_month``, ``currency``, ``n``, ``value``, ``weighted100``. From the
    counters (``opportunity_month_sums``), summed per stage before the stage's probability
    weighs them; an agent's as in :func:`stage_sums_statement`."""
    if scope.leads.own and scope.leads.owner_id is None:
        return ("SELECT NULL::date AS close_month, NULL AS currency, 0 AS n, 0 AS value, "
                "0 AS weighted100 WHERE false", ())
    own, oparams = _kept_owner(scope, owner_id, "m.owner_key")
    stg, sparams = _stages(stage_ids, "m.stage_id")
    kept = ("SELECT nullif(g.close_month, 'infinity') AS close_month, g.currency, "
            "sum(g.n)::bigint AS n, sum(g.value) AS value, "
            "sum(g.weighted_set + g.value_default * s.probability) AS weighted100 "
            "FROM (SELECT m.close_month, m.currency, m.stage_id, sum(m.n) AS n, "
            "sum(m.value) AS value, sum(m.value_default) AS value_default, "
            "sum(m.weighted_set) AS weighted_set FROM opportunity_month_sums m "
            "WHERE m.tenant_id = %s AND (m.close_month < %s OR m.close_month = 'infinity')"
            f"{own}{stg} GROUP BY 1, 2, 3) g JOIN pipeline_stages s "
            "ON s.tenant_id = %s AND s.id = g.stage_id GROUP BY 1, 2 HAVING sum(g.n) <> 0",
            (scope.tenant_id, end, *oparams, *sparams, scope.tenant_id))
    counted = None
    if scope.leads.own:
        source, params = _others_of_my_leads(scope)
        own, oparams = _owner(owner_id, "o.owner_id")
        stg, sparams = _stages(stage_ids, "o.stage_id")
        counted = (f"SELECT {_MONTH} AS close_month, o.currency, count(*) AS n, "
                   "sum(o.value) AS value, "
                   "sum(o.value * coalesce(o.probability, s.probability)) AS weighted100 "
                   f"FROM {source} JOIN pipeline_stages s ON s.tenant_id = o.tenant_id "
                   f"AND s.id = o.stage_id WHERE {_OPEN} "
                   "AND (o.expected_close_date < %s OR o.expected_close_date IS NULL)"
                   f"{own}{stg} GROUP BY 1, 2", (*params, end, *oparams, *sparams))
    return _sums(kept, counted, "close_month, currency")


def _month_page_sql(where: str, own: str, stg: str, after: bool) -> str:
    order = "o.expected_close_date, o.id"
    return _joined(f"SELECT o.* FROM opportunities o WHERE {where} AND {_OPEN} "
                   "AND o.expected_close_date >= %s AND o.expected_close_date < %s"
                   + own + stg
                   + (" AND (o.expected_close_date, o.id) > (%s, %s)" if after else "")
                   + f" ORDER BY {order} LIMIT %s", order)


def month_first_pages_statement(scope: OppScope, bounds: list[tuple[date, date]],
                                owner_id: uuid.UUID | None,
                                stage_ids: list[uuid.UUID] | None,
                                limit: int) -> raw.Statement:
    """The first ``limit`` open opportunities expected to close in each ``[lo, hi)`` of
    ``bounds`` (soonest first; a LATERAL per period on ``ix_opportunities_tenant_close_id``),
    with ``period_start`` the period's ``lo``."""
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    stg, sparams = _stages(stage_ids, "o.stage_id")
    inner = (_month_page_sql(where, own, stg, after=False)
             .replace("o.expected_close_date >= %s AND o.expected_close_date < %s",
                      "o.expected_close_date >= mo.lo AND o.expected_close_date < mo.hi"))
    return ("SELECT mo.lo AS period_start, r.* FROM unnest(%s::date[], %s::date[]) "
            f"WITH ORDINALITY AS mo(lo, hi, k) CROSS JOIN LATERAL ({inner}) AS r "
            "ORDER BY mo.k", ([b[0] for b in bounds], [b[1] for b in bounds], *params,
                              *oparams, *sparams, limit))


def month_page_statement(scope: OppScope, lo: date, hi: date, owner_id: uuid.UUID | None,
                         stage_ids: list[uuid.UUID] | None,
                         after: tuple[date, uuid.UUID] | None, limit: int) -> raw.Statement:
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    stg, sparams = _stages(stage_ids, "o.stage_id")
    keys: tuple[Any, ...] = after if after is not None else ()
    return (_month_page_sql(where, own, stg, after is not None),
            (*params, lo, hi, *oparams, *sparams, *keys, limit))


# ------------------------------------------------------------------ stale

def stale_page_statement(scope: OppScope, before: datetime, owner_id: uuid.UUID | None,
                         after: tuple[datetime, uuid.UUID] | None,
                         limit: int) -> raw.Statement:
    """Open opportunities last touched before ``before``, least recently touched first
    (``ix_opportunities_tenant_touched``)."""
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    keys: tuple[Any, ...] = after if after is not None else ()
    order = f"{TOUCHED}, o.id"
    inner = (f"SELECT o.* FROM opportunities o WHERE {where} AND {_OPEN} "
             f"AND {TOUCHED} < %s{own}"
             + (f" AND ({TOUCHED}, o.id) > (%s, %s)" if after is not None else "")
             + f" ORDER BY {order} LIMIT %s")
    return (_joined(inner, order).replace(" FROM (", f", {TOUCHED} AS touched_at FROM (", 1),
            (*params, before, *oparams, *keys, limit))


def stale_count_statement(scope: OppScope, before: datetime,
                          owner_id: uuid.UUID | None) -> raw.Statement:
    where, params = scope.sql("o")
    own, oparams = _owner(owner_id, "o.owner_id")
    return (f"SELECT count(*) AS n FROM opportunities o WHERE {where} AND {_OPEN} "
            f"AND {TOUCHED} < %s{own}", (*params, before, *oparams))


# ------------------------------------------------------------------ history

async def closed_through(session: Any, *, tenant_id: uuid.UUID, pipeline_id: uuid.UUID,
                         stage_id: uuid.UUID) -> tuple[int, int]:
    """(won, lost): the workspace's live closed opportunities of the pipeline that entered
    ``stage_id`` at some time (a stage change into it; their creation writes the first)."""
    row = await raw.fetch_one(
        session, "SELECT count(*) FILTER (WHERE o.status = 'won') AS won, "
        "count(*) FILTER (WHERE o.status = 'lost') AS lost FROM opportunities o "
        "WHERE o.tenant_id = %s AND o.pipeline_id = %s AND o.deleted_at IS NULL "
        "AND o.status IN ('won', 'lost') AND EXISTS (SELECT 1 FROM opportunity_stage_changes c "
        "WHERE c.tenant_id = %s AND c.to_stage_id = %s AND c.opportunity_id = o.id)",
        (tenant_id, pipeline_id, tenant_id, stage_id))
    assert row is not None
    return int(row["won"]), int(row["lost"])
