"""Helpers of the dialer tests: agents and queued leads through HTTP, and running the
dialer's queued worker jobs of one workspace in-process (the real job functions, in the
order they were queued)."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import psycopg

from leadbase.calls import ingest, placing, scheduler
from leadbase.config import Settings
from leadbase.db.session import Database
from tests.factories import Member, make_lead

AGENTS = "/api/v1/call-agents"
TASKS = "/api/v1/dial-tasks"
CALLS = "/api/v1/calls"
ALWAYS = {day: [{"start": "00:00", "end": "24:00"}]
          for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
# A moment when 08:00-21:00 holds in New York and the agent's hours are all day.
NOON_NY = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)  # 12:00 in New York, a Tuesday


async def make_agent(client: httpx.AsyncClient, member: Member, **fields: Any
                     ) -> dict[str, Any]:
    body = {"name": f"Agent {uuid.uuid4().hex[:6]}", "provider": "simulator",
            "timezone": "America/New_York", "business_hours": ALWAYS,
            "settings": {"time_scale": 0, "outcome": "completed"},
            "max_concurrent_calls": 5, **fields}
    resp = await client.post(AGENTS, headers=member.headers, json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def phone_lead(client: httpx.AsyncClient, member: Member, phone: str | None = None,
                     **fields: Any) -> dict[str, Any]:
    """A lead with a phone: by default one whose callee is in daytime now (so a flow run on
    the real clock is inside the law)."""
    return await make_lead(client, member, phone=phone or daytime_phone(timedelta(hours=2)),
                           **fields)


async def enqueue(client: httpx.AsyncClient, member: Member, agent: dict[str, Any],
                  lead: dict[str, Any], **fields: Any) -> dict[str, Any]:
    resp = await client.post(TASKS, headers=member.headers, json={
        "agent_id": agent["id"], "lead_id": lead["id"], **fields})
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data


async def tick(db: Database, tenant_id: uuid.UUID,
               now: datetime | None = None) -> scheduler.TickResult:
    async with db.transaction(tenant_id) as session:
        return await scheduler.tick_workspace(session, tenant_id=tenant_id,
                                              now=now or datetime.now(UTC))


async def queued_jobs(libpq: str, tenant_id: uuid.UUID) -> list[tuple[int, str, dict[str, Any]]]:
    async with await psycopg.AsyncConnection.connect(libpq) as conn:
        cur = await conn.execute(
            "SELECT id, task_name, args FROM procrastinate_jobs WHERE queue_name = 'calls' "
            "AND status = 'todo' AND args->>'tenant_id' = %s ORDER BY id", (str(tenant_id),))
        return [(r[0], r[1], r[2]) for r in await cur.fetchall()]


async def run_jobs(libpq: str, db: Database, settings: Settings, tenant_id: uuid.UUID,
                   *, rounds: int = 20) -> list[str]:
    """Run the workspace's queued dialer jobs (and those they queue) until none is left;
    what each answered."""
    done: list[str] = []
    for _ in range(rounds):
        jobs = await queued_jobs(libpq, tenant_id)
        if not jobs:
            return done
        for job_id, name, args in jobs:
            async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
                await conn.execute("DELETE FROM procrastinate_jobs WHERE id = %s", (job_id,))
            task = name.split(":", 1)[1]
            if task == scheduler.PLACE_JOB:
                done.append(await placing.place(db, settings, tenant_id=tenant_id,
                                                call_id=uuid.UUID(args["call_id"])))
            elif task == ingest.PROCESS_JOB:
                done.append(await ingest.process(db, tenant_id=tenant_id,
                                                 call_id=uuid.UUID(args["call_id"])))
            elif task == placing.DELIVER_JOB:
                got = await ingest.ingest(db, settings, provider=args["provider"],
                                          headers=orjson.loads(args["headers"]),
                                          body=base64.b64decode(args["body"]))
                done.append(f"delivered {got.new}")
            else:
                raise AssertionError(f"unexpected job {name}")
    raise AssertionError("the jobs did not settle")


async def take_deliveries(libpq: str, tenant_id: uuid.UUID) -> list[tuple[dict[str, str],
                                                                         bytes]]:
    """The simulator's queued callbacks of the workspace, taken off the queue (to be
    posted by the test itself)."""
    out = []
    for job_id, name, args in await queued_jobs(libpq, tenant_id):
        if name.endswith(placing.DELIVER_JOB):
            async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
                await conn.execute("DELETE FROM procrastinate_jobs WHERE id = %s", (job_id,))
            out.append((orjson.loads(args["headers"]), base64.b64decode(args["body"])))
    return out


async def place_queued(libpq: str, db: Database, settings: Settings,
                       tenant_id: uuid.UUID) -> list[str]:
    """Run only the placing jobs of the workspace."""
    done = []
    for job_id, name, args in await queued_jobs(libpq, tenant_id):
        if name.endswith(scheduler.PLACE_JOB):
            async with await psycopg.AsyncConnection.connect(libpq, autocommit=True) as conn:
                await conn.execute("DELETE FROM procrastinate_jobs WHERE id = %s", (job_id,))
            done.append(await placing.place(db, settings, tenant_id=tenant_id,
                                            call_id=uuid.UUID(args["call_id"])))
    return done


DAY_PHONES = {"+14155552671": "America/Los_Angeles", "+12125551234": "America/New_York",
              "+551133334444": "America/Sao_Paulo", "+442071838750": "Europe/London",
              "+919876543210": "Asia/Kolkata", "+81312345678": "Asia/Tokyo",
              "+61291234567": "Australia/Sydney"}


def daytime_phone(within: timedelta = timedelta(hours=1)) -> str:
    """A number whose callee is between 09:00 and 19:00 now and for ``within``: for tests
    that run on the real clock."""
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    for phone, zone in DAY_PHONES.items():
        if all(9 <= (now + d).astimezone(ZoneInfo(zone)).hour < 19
               for d in (timedelta(0), within)):
            return phone
    raise AssertionError("no daytime number")


def night_phone() -> str:
    """A number whose callee is between 22:00 and 06:00 now (a call now is unlawful)."""
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    for phone, zone in DAY_PHONES.items():
        hour = now.astimezone(ZoneInfo(zone)).hour
        if hour >= 22 or hour < 6:
            return phone
    raise AssertionError("no night number")
