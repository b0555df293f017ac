"""Call records: one call, the history (filters, search, keyset or page), and the
metrics, all within the readable set (an agent: the calls of its own leads).

Outcome groups (the metrics and the dialer profile's ``outcome`` filter): *answered* is
``completed``, ``not_interested`` and ``hung_up`` (someone picked up); *no answer* is
``no_answer``, ``busy`` and ``voicemail``; *failed* is ``failed``. The pickup rate is
answered over finished calls, in percent. Hours of day are the callee's local hours (the
zone the call's legal window was checked in)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbase.auth.context import Context
from leadbase.calls.repository import calls as repository
from leadbase.calls.repository.calls import history_where
from leadbase.db import raw
from leadbase.kit.errors import NotFound
from leadbase.kit.pagination import decode_cursor, encode_cursor
from leadbase.leads.repository import readable

ANSWERED = ("completed", "not_interested", "hung_up")
NO_ANSWER = ("no_answer", "busy", "voicemail")
FAILED = ("failed",)
GROUPS = {"answered": ANSWERED, "no_answer": NO_ANSWER, "failed": FAILED}
SORT = "-created_at,-id"
_FROM = ("FROM calls c JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id "
         "JOIN call_agents a ON a.tenant_id = c.tenant_id AND a.id = c.agent_id")
_COUNTS = (
    "count(*) AS total_calls, "
    "count(*) FILTER (WHERE c.outcome = ANY(%(answered)s)) AS answered_calls, "
    "count(*) FILTER (WHERE c.outcome = ANY(%(no_answer)s)) AS no_answer_calls, "
    "count(*) FILTER (WHERE c.outcome = ANY(%(failed)s)) AS failed_calls")


def call_not_found() -> NotFound:
    return NotFound("Call not found.", code="CALL_NOT_FOUND")


async def get_call(session: AsyncSession, *, ctx: Context,
                   call_id: uuid.UUID) -> dict[str, Any]:
    row = await repository.get_call(session, scope=readable(ctx), call_id=call_id)
    if row is None:
        raise call_not_found()
    return row


async def history(session: AsyncSession, *, ctx: Context, f: dict[str, Any], per_page: int,
                  cursor: str | None, page: int | None = None, count_cap: int | None = None
                  ) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """A page of calls, newest first: after ``cursor`` (keyset), or page ``page``
    (offset, with the total up to ``count_cap``)."""
    after = decode_cursor(cursor, SORT) if cursor else None
    offset = (page - 1) * per_page if page and after is None else 0
    rows = await repository.list_calls(session, scope=readable(ctx), f=f, limit=per_page + 1,
                                       after=after, offset=offset)
    total = None
    if count_cap is not None and after is None:
        total = await repository.count_calls(session, scope=readable(ctx), f=f, cap=count_cap)
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = encode_cursor(SORT, [rows[-1]["created_at"], rows[-1]["id"]])
    return rows, next_cursor, total


def _rate(answered: int, finished: int) -> float:
    return round(100.0 * answered / finished, 1) if finished else 0.0


async def metrics(session: AsyncSession, *, ctx: Context, f: dict[str, Any]) -> dict[str, Any]:
    """The figures of the calls ``f`` selects (four reads in one round trip)."""
    where, params = history_where(readable(ctx), f)
    params.update(answered=list(ANSWERED), no_answer=list(NO_ANSWER), failed=list(FAILED))
    cond = " AND ".join(where)
    agents_where = "tenant_id = %(t)s AND deleted_at IS NULL AND active"
    if f.get("agent_ids"):
        agents_where += " AND id = ANY(%(agent_ids)s)"
    totals, hours, by_agent, active = await raw.fetch_each(session, [
        (f"SELECT {_COUNTS}, count(DISTINCT c.lead_id) AS leads {_FROM} WHERE {cond}", params),
        ("SELECT extract(hour FROM c.created_at AT TIME ZONE coalesce(c.callee_timezone, "
         f"'UTC'))::int AS hour, count(*) AS total, count(*) FILTER (WHERE c.outcome = "
         f"ANY(%(answered)s)) AS answered {_FROM} WHERE {cond} GROUP BY 1 ORDER BY 1",
         params),
        (f"SELECT c.agent_id, a.name AS agent_name, {_COUNTS} {_FROM} WHERE {cond} "
         "GROUP BY c.agent_id, a.name ORDER BY count(*) DESC, a.name", params),
        (f"SELECT count(*) AS n FROM call_agents WHERE {agents_where}", params),
    ])
    t = totals[0]
    finished = t["answered_calls"] + t["no_answer_calls"] + t["failed_calls"]
    return {
        "total_calls": t["total_calls"], "answered_calls": t["answered_calls"],
        "no_answer_calls": t["no_answer_calls"], "failed_calls": t["failed_calls"],
        "pickup_rate": _rate(t["answered_calls"], finished),
        "average_attempts_per_lead": round(t["total_calls"] / t["leads"], 2)
        if t["leads"] else 0.0,
        "active_agents": active[0]["n"],
        "by_hour": [{"hour": r["hour"], "total": r["total"], "answered": r["answered"]}
                    for r in hours],
        "by_agent": [{**r, "pickup_rate": _rate(r["answered_calls"], r["answered_calls"]
                                                + r["no_answer_calls"] + r["failed_calls"])}
                     for r in by_agent],
    }
