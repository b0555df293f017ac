"""Quiet worker logs: a periodic job that ran and did its routine is not news.

procrastinate logs every run of every job at INFO: deferred (periodic jobs), started,
ended. For the outbox drain that is three lines every five seconds. For periodic tasks
those three records go to DEBUG; failures, retries and aborts keep their level, and
other jobs (an import, an export) keep all their lines. The jobs themselves log at INFO
only when they did something.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import procrastinate
from procrastinate.worker import WORKER_NAME

# procrastinate's ``action`` of the records of a routine run.
ROUTINE = frozenset({"periodic_task_deferred", "start_job", "job_success"})
# A worker logs the start of a job on a child named after it (``run_worker`` keeps the
# default name), the end on ``procrastinate.worker`` itself.
LOGGERS = ("procrastinate.periodic", "procrastinate.worker",
           f"procrastinate.worker.{WORKER_NAME}")


class PeriodicRunsAtDebug(logging.Filter):
    """Lowers the routine INFO records of ``tasks`` to DEBUG."""

    def __init__(self, tasks: Iterable[str]) -> None:
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or getattr(record, "action", None) not in ROUTINE:
            return True
        job = getattr(record, "job", None)
        if not isinstance(job, dict) or job.get("task_name") not in self.tasks:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        # The logger's level let the record through as INFO; as DEBUG it must pass again.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def quiet_periodic_runs(app: procrastinate.App) -> None:
    """Install the filter for ``app``'s periodic tasks (once: replaces an earlier one)."""
    quiet = PeriodicRunsAtDebug(p.task.name for p in
                                app.periodic_registry.periodic_tasks.values())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, PeriodicRunsAtDebug)]:
            logger.removeFilter(old)
        logger.addFilter(quiet)
