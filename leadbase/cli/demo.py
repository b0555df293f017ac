"""The demo workspace: a real-estate team with users, tags, a few hundred leads and a
simulator call agent with a few of them queued.

Everything goes through the same services as the API, so the demo data obeys the
same rules (E.164 phones, duplicates, audit entries, events)."""

from __future__ import annotations

import random

from rich.console import Console
from rich.progress import Progress

from leadbase.auth.context import Context, Principal
from leadbase.calls import demo as calls_demo
from leadbase.cli.common import open_database
from leadbase.config import Settings
from leadbase.leads import service as leads_service
from leadbase.leads.schemas import LeadCreate
from leadbase.tenants import service as tenants_service
from leadbase.users import service as users_service
from leadbase.users.schemas import UserCreate

DEMO_SLUG = "demo-realty"
DEMO_PASSWORD = "Demo1234"
OWNER_EMAIL = "owner@demo.leadbase.dev"

FIRST = ["María", "José", "Lucía", "Juan", "Sofía", "Carlos", "Valentina", "Diego", "Emma",
         "Liam", "Olivia", "Noah", "Ava", "Mateo", "Camila", "Lucas", "Isabella", "Ethan",
         "Mía", "Daniel", "Chloe", "Martín", "Zoe", "Andrés", "Grace", "Tomás", "Hannah",
         "Pablo", "Julia", "Samuel"]
LAST = ["García", "Martínez", "López", "González", "Rodríguez", "Fernández", "Pérez", "Sánchez",
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Moore",
        "Taylor", "Anderson", "Thomas", "Núñez", "Gómez", "Díaz", "Álvarez", "Romero"]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Holdings", "Stark Industries",
             "Wayne Enterprises", "Hooli", "Pied Piper", "Vandelay Imports", None, None, None]
TITLES = ["CEO", "Founder", "Engineer", "Teacher", "Nurse", "Architect", "Lawyer", "Designer",
          None, None]
SOURCES = ["website", "referral", "zillow", "facebook", "open_house", "walk_in", "google_ads"]
TAGS = ["buyer", "seller", "first-time", "investor", "relocating", "pre-approved", "cash",
        "luxury", "condo", "family"]
STATUSES = ["new"] * 5 + ["contacted"] * 3 + ["qualified"] * 2 + ["unqualified", "converted",
                                                                   "lost"]
AREA_CODES = ["415", "510", "650", "408", "212", "646", "305", "512", "206", "312"]
TEAM = [
    ("admin@demo.leadbase.dev", "Alex Admin", "admin"),
    ("manager@demo.leadbase.dev", "Morgan Manager", "manager"),
    ("ana@demo.leadbase.dev", "Ana Agent", "agent"),
    ("ben@demo.leadbase.dev", "Ben Agent", "agent"),
    ("viewer@demo.leadbase.dev", "Val Viewer", "viewer"),
]


def _slugless(name: str) -> str:
    return (name.lower().replace("á", "a").replace("é", "e").replace("í", "i")
            .replace("ó", "o").replace("ú", "u").replace("ñ", "n"))


def _lead(rng: random.Random, owners: list[object]) -> LeadCreate:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = (f"{_slugless(first)}.{_slugless(last)}{rng.randint(1, 9999)}@"
             f"{rng.choice(['example.com', 'example.org', 'example.net'])}")
    phone = f"({rng.choice(AREA_CODES)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    return LeadCreate.model_validate({
        "first_name": first, "last_name": last,
        "email": email if rng.random() < 0.9 else None,
        "phone": phone if rng.random() < 0.85 else None,
        "company": rng.choice(COMPANIES), "job_title": rng.choice(TITLES),
        "source": rng.choice(SOURCES), "status": rng.choice(STATUSES),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
        "owner_id": rng.choice(owners),
        "metadata": {"budget_usd": rng.randrange(150_000, 2_000_000, 5_000)},
        "consent": rng.random() < 0.7,
    })


async def create_demo(settings: Settings, *, leads: int, console: Console) -> None:
    async with open_database(settings) as db:
        async with db.transaction(None, system=True) as session:
            existing = await tenants_service.find_by_slug(session, DEMO_SLUG)
        if existing is not None:
            console.print("[yellow]The demo workspace exists already; nothing to do.[/]")
            return
        async with db.transaction(None, system=True) as session:
            tenant, owner = await tenants_service.create_with_owner(
                session, name="Demo Realty", owner_email=OWNER_EMAIL, owner_name="Olivia Owner",
                owner_password=DEMO_PASSWORD)
        tid = tenant["id"]
        ctx = Context(tenant_id=tid, principal=Principal(role="owner", tenant_id=tid,
                                                         user_id=owner["id"]))
        agents: list[object] = [None]
        async with db.transaction(tid) as session:
            for email, name, role in TEAM:
                user = await users_service.create_user(session, ctx=ctx, body=UserCreate(
                    email=email, name=name, password=DEMO_PASSWORD, role=role))  # type: ignore[arg-type]
                if role in ("agent", "manager"):
                    agents.append(user["id"])
        rng = random.Random(20261123)
        with Progress(console=console) as progress:
            bar = progress.add_task("Demo leads", total=leads)
            done = 0
            while done < leads:
                async with db.transaction(tid) as session:
                    for _ in range(min(50, leads - done)):
                        await leads_service.create_lead(session, ctx=ctx,
                                                        body=_lead(rng, agents),
                                                        on_duplicate="allow")
                        done += 1
                progress.update(bar, completed=done)
        async with db.transaction(tid) as session:
            await calls_demo.seed(session, ctx=ctx, settings=settings)
        console.print(f"[green]Demo workspace '{tenant['slug']}' ready.[/] Sign in as "
                      f"{OWNER_EMAIL} (or admin@, manager@, ana@, ben@, viewer@"
                      f"demo.leadbase.dev) with the password {DEMO_PASSWORD}.")
