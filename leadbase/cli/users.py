"""``leadbase user create``: workspace users and platform superadmins."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from leadbase.cli import console, user_app
from leadbase.cli.common import open_database, settings_from_env
from leadbase.kit.errors import AppError


@user_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="Sign-in email")],
    name: Annotated[str, typer.Option(help="Full name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="At least 8 characters with upper, lower, digit")],
    workspace: Annotated[str | None, typer.Option(help="Workspace slug (new workspace "
                                                  "name with --new-workspace)")] = None,
    role: Annotated[str, typer.Option(help="owner, admin, manager, agent or viewer")] = "agent",
    superadmin: Annotated[bool, typer.Option("--superadmin",
                                             help="A platform superadmin (no workspace)")] = False,
    new_workspace: Annotated[bool, typer.Option("--new-workspace",
                                                help="Create the workspace with this user "
                                                     "as its owner")] = False,
) -> None:
    """Create a user: in an existing workspace, a new workspace's owner, or a superadmin."""
    from leadbase.cli.userops import create_user

    settings = settings_from_env()

    async def run() -> str:
        async with open_database(settings) as db:
            return await create_user(db, email=email, name=name, password=password,
                                     workspace=workspace, role=role, superadmin=superadmin,
                                     new_workspace=new_workspace,
                                     default_region=settings.default_region)

    try:
        message = asyncio.run(run())
    except AppError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        for err in exc.errors or []:
            console.print(f"  {err.get('field')}: {err.get('message')}")
        raise typer.Exit(1) from exc
    console.print(f"[green]{message}[/]")
