"""Scores in SQL, set-based: each rule compiled with ``rules.to_sql`` into one boolean per
lead, summed as ``CASE WHEN ... THEN points``, clamped, decayed and explained (the
breakdown built in SQL) exactly as :func:`leadbase.scoring.model.compute` does it in
memory. The recalculation writes a range of lead numbers per statement; the preview
aggregates the whole workspace and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Select,
    Subquery,
    Text,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from leadbase import rules
from leadbase.db.base import table_of
from leadbase.leads.repository import T

__all__ = ["SCORE_CHANGED", "T", "live_range", "preview", "recalculate", "scored"]
from leadbase.models import Event
from leadbase.scoring.model import MAX_SCORE, MIN_SCORE, Model

E = table_of(Event)
SCORE_CHANGED = "lead.score_changed"


def _jsonb(value: Any) -> ColumnElement[Any]:
    return literal(value, JSONB)


def _matches(model: Model, now: datetime, tenant_id: uuid.UUID,
             where: list[ColumnElement[bool]]) -> Subquery:
    """One row per lead of ``where``: its current score, temperature and idle start, and
    ``m<i>``, whether it matches rule ``i``. ``OFFSET 0`` keeps the planner from pulling
    the subquery up into the expressions above it, which would evaluate each condition
    once per use. The counts the rules read (activities of a type within N days, open
    tasks) come from one probe per lead and source (``rules.counts_of``: every count at
    once, ``count(*) FILTER``, a ``LATERAL`` join), instead of a subquery per rule over
    the whole workspace: a range costs what its leads hold."""
    counts: dict[rules.Aggregate, ColumnElement[Any]] = {}
    source: Any = T
    for sub, columns in rules.counts_of(model.needs, tenant_id=tenant_id, now=now):
        source = source.outerjoin(sub, true())
        counts |= {agg: func.coalesce(col, 0) for agg, col in columns.items()}
    flags = [func.coalesce(rules.to_sql(r.rule, now=now, tenant_id=tenant_id, counts=counts),
                           false()).label(f"m{i}")
             for i, r in enumerate(model.rules)]
    q = (select(T.c.id, T.c.number, T.c.score.label("old_score"),
                T.c.temperature.label("old_temperature"),
                func.coalesce(T.c.last_activity_at, T.c.created_at).label("since"), *flags)
         .select_from(source).where(*where).offset(0))
    return q.subquery("m")


def _sum(parts: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    return reduce(lambda a, b: a + b, parts) if parts else literal(0, Integer)


def scored(model: Model, *, tenant_id: uuid.UUID, now: datetime,
           where: list[ColumnElement[bool]], explain: bool = True) -> Select[Any]:
    """Per lead of ``where``: id, number, old_score, old_temperature, score, temperature
    and (``explain``) breakdown. Each stage is a fenced subquery (``OFFSET 0``), so what
    a later stage uses several times (the points, the clamped score, the loss) is computed
    once per lead rather than copied into every use."""
    m = _matches(model, now, tenant_id, where)
    keep = (m.c.id, m.c.number, m.c.old_score, m.c.old_temperature)
    hits = [m.c[f"m{i}"] for i in range(len(model.rules))]
    points = _sum([case((hit, r.points), else_=0) for hit, r in zip(hits, model.rules,
                                                                    strict=True)])
    idle = func.greatest(0, cast(func.floor(extract("epoch", literal(now, DateTime(timezone=True))
                                                   - m.c.since) / 86400), Integer))
    first: list[ColumnElement[Any]] = [*keep, points.label("points"), idle.label("idle")]
    if explain:
        first.append(_rule_items(model, hits).label("items"))
    p = select(*first).offset(0).subquery("p")
    base = func.least(func.greatest(p.c.points, MIN_SCORE), MAX_SCORE)
    second: list[ColumnElement[Any]] = [
        *(p.c[c.name] for c in keep), p.c.points, p.c.idle, base.label("base"),
        _loss(model, base, p.c.idle).label("loss")]
    if explain:
        second.append(p.c["items"])
    d = select(*second).offset(0).subquery("d")
    score = d.c.base - d.c.loss
    temperature = case((score >= model.hot, "hot"), (score >= model.warm, "warm"),
                       else_="cold")
    columns: list[ColumnElement[Any]] = [
        *(d.c[c.name] for c in keep), cast(score, Integer).label("score"),
        temperature.label("temperature")]
    if explain:
        columns.append(_breakdown(model, d, score, temperature, now).label("breakdown"))
    return select(*columns)


def _loss(model: Model, base: ColumnElement[Any], idle: ColumnElement[Any]
          ) -> ColumnElement[Any]:
    """As ``model.decay_loss``: no loss with no idle day or nothing to lose."""
    decay = model.decay
    if decay is None:
        return literal(0, Integer)
    if decay.mode == "half_life":
        assert decay.half_life_days
        kept = cast(func.floor(cast(base, Float) * func.power(
            literal(0.5, Float), cast(idle, Float) / literal(float(decay.half_life_days),
                                                             Float)) + 0.5), Integer)
        raw_loss = base - kept
    else:
        assert decay.points_per_day is not None
        raw_loss = func.least(base, cast(func.floor(
            literal(float(decay.points_per_day), Float) * cast(idle, Float) + 0.5), Integer))
    return case((and_(idle > 0, base > 0), raw_loss), else_=0)


# The breakdown is built as JSON text and parsed once per lead (``::jsonb``): the rules'
# items are constants serialised here, the rest numbers and fixed words. Building it
# with jsonb functions instead (an array of 20 items filtered by a JSON path, objects,
# concatenations) re-serialised it several times per lead.
ARGS_PER_CONCAT = 90  # PostgreSQL passes at most 100 arguments to a function


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _text(value: str) -> ColumnElement[Any]:
    return literal(value, Text)


def _concat(parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """The non-NULL ``parts`` joined by commas ('' when none)."""
    chunks = [func.concat_ws(",", *parts[i:i + ARGS_PER_CONCAT])
              for i in range(0, len(parts), ARGS_PER_CONCAT)]
    if len(chunks) == 1:
        return chunks[0]
    return func.concat_ws(",", *[func.nullif(c, "") for c in chunks])


def _rule_items(model: Model, hits: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """The items of the rules a lead matched, in the model's order, as the text of JSON
    objects joined by commas ('' when none)."""
    if not model.rules:
        return _text("")
    return _concat([case((hit, _text(_json(r.item()))), else_=null())
                    for hit, r in zip(hits, model.rules, strict=True)])


def _int_text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(cast(value, Integer), Text)


def _signed_text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((value >= 0, "+" + _int_text(value)), else_=_int_text(value))


def _item(kind: str, points: ColumnElement[Any], why: ColumnElement[Any]
          ) -> ColumnElement[Any]:
    """A cap or decay item as JSON text (``why`` holds no character JSON escapes)."""
    return (_text(f'{{"kind":"{kind}","rule":null,"points":') + _int_text(points)
            + ',"why":"' + why + '"}')


def _breakdown(model: Model, d: Subquery, score: ColumnElement[Any],
               temperature: ColumnElement[Any], now: datetime) -> ColumnElement[Any]:
    points, base, idle, loss = d.c.points, d.c.base, d.c.idle, d.c.loss
    cap_points = base - points
    cap_why = case((points > base, f"capped at {MAX_SCORE}: " + _signed_text(cap_points)),
                   else_=f"no lower than {MIN_SCORE}: " + _signed_text(cap_points))
    items = [func.nullif(d.c["items"], ""),
             case((cap_points != 0, _item("cap", cap_points, cap_why)), else_=null())]
    if model.decay is not None:
        days = case((idle == 1, "1 day"), else_=_int_text(idle) + " days")
        decay_why = "no activity for " + days + ": " + _signed_text(-loss)
        items.append(case((loss != 0, _item("decay", -loss, decay_why)), else_=null()))
    head = (f'{{"model_version":{_json(model.version)},'
            f'"computed_at":{_json(now.isoformat())},"points":')
    document = (_text(head) + _int_text(points) + ',"score":' + _int_text(score)
                + ',"temperature":"' + temperature + '","items":[' + _concat(items) + "]}")
    return cast(document, JSONB)


def live_range(tenant_id: uuid.UUID, low: int, high: int) -> list[ColumnElement[bool]]:
    """The live leads of the workspace numbered ``low < number <= high``
    (``uq_leads_tenant_number`` serves the range)."""
    return [T.c.tenant_id == tenant_id, T.c.deleted_at.is_(None), T.c.number > low,
            T.c.number <= high]


def recalculate(model: Model, *, tenant_id: uuid.UUID, now: datetime,
                where: list[ColumnElement[bool]], reason: str) -> Select[Any]:
    """One statement: score the leads of ``where`` (conditions on ``leads`` alone: they
    bound the UPDATE's own scan too), write those whose result changed
    (the breakdown but its ``computed_at``), and emit ``lead.score_changed`` for each
    lead whose temperature changed. Answers (leads, changed, temperature_changed)."""
    s = scored(model, tenant_id=tenant_id, now=now, where=where).cte("s")
    written = (
        update(T)
        .where(*where, T.c.id == s.c.id, or_(
            T.c.score.is_distinct_from(s.c.score),
            T.c.temperature.is_distinct_from(s.c.temperature),
            T.c.score_breakdown.op("-")(literal("computed_at")).is_distinct_from(
                s.c.breakdown.op("-")(literal("computed_at")))))
        .values(score=s.c.score, temperature=s.c.temperature, score_breakdown=s.c.breakdown)
        .returning(T.c.id, T.c.score, T.c.temperature, s.c.old_score, s.c.old_temperature)
        .cte("u"))
    emitted = (
        insert(E).from_select(
            ["id", "tenant_id", "type", "entity_type", "entity_id", "payload"],
            select(func.lb_uuid7(), literal(tenant_id), literal(SCORE_CHANGED),
                   literal("lead"), written.c.id,
                   changed_payload(written.c.id, written.c.score, written.c.old_score,
                                   written.c.temperature, written.c.old_temperature,
                                   model.version, reason))
            .where(written.c.temperature != written.c.old_temperature))
        .returning(E.c.id).cte("ev"))
    return select(
        select(func.count()).select_from(s).scalar_subquery().label("leads"),
        select(func.count()).select_from(written).scalar_subquery().label("changed"),
        select(func.count()).select_from(emitted).scalar_subquery()
        .label("temperature_changed"))


def changed_payload(lead_id: Any, score: Any, old_score: Any, temperature: Any,
                    old_temperature: Any, version: int, reason: str) -> ColumnElement[Any]:
    """The payload of ``lead.score_changed`` (as ``scoring.engine.changed_payload``)."""
    return func.jsonb_build_object(
        "lead_id", cast(lead_id, Text), "score", score, "previous_score", old_score,
        "temperature", temperature, "previous_temperature", old_temperature,
        "model_version", version, "reason", reason)


def preview(model: Model, *, tenant_id: uuid.UUID, where: list[ColumnElement[bool]],
            now: datetime, sample: int = 20) -> Select[Any]:
    """The distribution a draft model would give the leads of ``where`` (no write)."""
    s = scored(model, tenant_id=tenant_id, now=now, where=where, explain=False).cte("s")
    bucket = func.least(s.c.score // 10, 9)
    hist = select(bucket.label("b"), func.count().label("n")).group_by(bucket).subquery()
    temps = (select(s.c.temperature.label("t"), func.count().label("n"))
             .group_by(s.c.temperature).subquery())
    olds = (select(s.c.old_temperature.label("t"), func.count().label("n"))
            .group_by(s.c.old_temperature).subquery())
    moved = s.c.temperature != s.c.old_temperature
    picks = (select(s.c.id, s.c.number, s.c.old_score, s.c.score, s.c.old_temperature,
                    s.c.temperature).where(moved)
             .order_by(func.abs(s.c.score - s.c.old_score).desc(), s.c.number)
             .limit(sample).subquery())
    return select(
        select(func.count()).select_from(s).scalar_subquery().label("leads"),
        select(func.coalesce(func.jsonb_object_agg(hist.c.b, hist.c.n), _jsonb({})))
        .scalar_subquery().label("histogram"),
        select(func.coalesce(func.jsonb_object_agg(temps.c.t, temps.c.n), _jsonb({})))
        .scalar_subquery().label("temperatures"),
        select(func.coalesce(func.jsonb_object_agg(olds.c.t, olds.c.n), _jsonb({})))
        .scalar_subquery().label("current_temperatures"),
        select(func.count()).select_from(s).where(moved).scalar_subquery()
        .label("temperature_changes"),
        select(func.count()).select_from(s).where(s.c.score != s.c.old_score)
        .scalar_subquery().label("score_changes"),
        select(func.avg(s.c.score)).scalar_subquery().label("average_score"),
        select(func.coalesce(func.jsonb_agg(func.jsonb_build_object(
            "id", picks.c.id, "number", picks.c.number, "score", picks.c.score,
            "current_score", picks.c.old_score, "temperature", picks.c.temperature,
            "current_temperature", picks.c.old_temperature)), _jsonb([])))
        .scalar_subquery().label("sample"))

