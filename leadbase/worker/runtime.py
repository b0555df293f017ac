"""The resources a worker process shares with its jobs (set when the worker starts)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from leadbase.config import Settings
from leadbase.db.session import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database


_runtime: Runtime | None = None


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("The worker runtime is not initialised.")
    return _runtime


def log_outcome(log: logging.Logger, what: str, job_id: str, status: str) -> str:
    """Log how a job ended and return its status. ``missing``: the row was deleted since
    the job was queued (job and row are committed together), so a warning."""
    log.log(logging.WARNING if status == "missing" else logging.INFO, "%s %s: %s", what,
            job_id, status)
    return status
