"""The resources a worker process shares with its jobs (set when the worker starts)."""

from __future__ import annotations

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
