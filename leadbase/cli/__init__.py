"""The ``leadbase`` command: serve, worker, migrate, user, import, export, demo, openapi."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

import typer
from rich.console import Console

from leadbase.cli.common import open_database, settings_from_env
from leadbase.config import Settings

app = typer.Typer(help="Leadbase: self-hosted, multi-tenant lead management.",
                  no_args_is_help=True, add_completion=False)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
console = Console()


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, help="API processes on the port (default: one per CPU)")] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker",
                                            help="Do not run the job worker")] = False,
    worker_concurrency: Annotated[int, typer.Option(
        help="Jobs the worker process runs at once (--workers > 1)")] = 4,
) -> None:
    """Apply pending migrations, then serve the API on --workers processes (with the job
    worker beside them)."""
    import uvicorn

    from leadbase.cli import serving

    settings = settings_from_env()
    _logging(settings.log_level)
    count = workers or serving.default_workers()
    console.print(f"[bold green]Leadbase[/] on http://{host}:{port}  (docs: /docs; "
                  f"{count} API process{'es' if count > 1 else ''}"
                  f"{'' if no_worker else ' + the job worker'})")
    if count > 1:
        serving.serve_many(settings, host=host, port=port, workers=count,
                           run_worker=not no_worker, worker_concurrency=worker_concurrency,
                           uvicorn_options=proxy_options(settings))
        return
    from leadbase.app import create_app

    # The app's start-up resolves the database (starting the embedded server when none
    # is configured) and applies pending migrations before uvicorn starts listening.
    uvicorn.run(create_app(settings, run_worker=not no_worker), host=host, port=port,
                log_level=settings.log_level.lower(), **proxy_options(settings))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy-header options: the forwarded client address is believed only from
    the peers named in ``LEADBASE_TRUSTED_PROXIES`` (uvicorn's own default would trust
    127.0.0.1, so anyone on the host could pick their address)."""
    trusted = settings.trusted_proxy_list()
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


@app.command()
def worker(concurrency: Annotated[int, typer.Option(help="Jobs run at once")] = 4) -> None:
    """Run a background worker (scale out with more of these beside `serve --no-worker`)."""
    from leadbase.db import migrate
    from leadbase.worker.app import run_worker

    settings = settings_from_env()
    _logging(settings.log_level)

    async def main() -> None:
        async with open_database(settings) as db:
            await run_worker(db.libpq, settings, db, concurrency=concurrency)

    migrate.upgrade(settings_libpq(settings))
    asyncio.run(main())


def settings_libpq(settings: object) -> str:
    from leadbase.config import Settings
    from leadbase.db.urls import libpq_url

    assert isinstance(settings, Settings)
    return libpq_url(settings)


@app.command("migrate")
def migrate_cmd() -> None:
    """Apply pending database migrations."""
    from leadbase.db import migrate

    settings = settings_from_env()
    migrate.upgrade(settings_libpq(settings))
    console.print(f"[green]Database at revision {migrate.head_revision()}[/]")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from leadbase.app import create_app

    typer.echo(json.dumps(create_app(settings_from_env(), run_worker=False).openapi(), indent=2))


@app.command()
def demo(
    leads: Annotated[int, typer.Option(help="How many leads to create")] = 300,
) -> None:
    """Create the demo workspace (once): users, tags and a few hundred leads."""
    from leadbase.cli.demo import create_demo

    settings = settings_from_env()
    from leadbase.db import migrate

    migrate.upgrade(settings_libpq(settings))
    asyncio.run(create_demo(settings, leads=leads, console=console))


from leadbase.cli import exports as _exports  # noqa: E402,F401  (registers `export`)
from leadbase.cli import imports as _imports  # noqa: E402,F401  (registers `import`)
from leadbase.cli import users as _users  # noqa: E402,F401  (registers `user` commands)


def main() -> None:
    app()
