"""The processes that validate import rows, beside the event loop.

Validating a row (email syntax, phone parsing, the list's field rules) costs tens of
microseconds of pure Python; a million rows would hold an event loop, and the API in
it, for a minute. The work runs in a pool of worker processes (``spawn``: nothing of the
parent's threads or connections is inherited), shared by the jobs of this process and
sized by ``LEADBASE_IMPORT_PROCESSES`` (default: one per CPU). Spreadsheets are read in
a process of their own with a memory limit, since a reader holds the whole sheet.

The processes run at a lower CPU priority (``nice`` +10): an import's critical path is the
database session that writes the rows, and validation runs chunks ahead of it, so on a
small machine the session should not wait for a core behind a validation process.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

NICE = 10

_pool: ProcessPoolExecutor | None = None
_size = 0


def size() -> int:
    return _size or os.cpu_count() or 1


def configure(processes: int) -> None:
    """Set the pool size (0: one per CPU); takes effect when the pool is next created."""
    global _size
    _size = processes


def _watch_parent(parent: int) -> None:
    """A pool process ends with its parent: a parent killed without shutting the pool
    down would otherwise leave it waiting forever (it holds both ends of its queue)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="watch-parent").start()


def _start(parent: int, memory_limit: int | None) -> None:
    _watch_parent(parent)
    with contextlib.suppress(OSError):  # not allowed here: the default priority
        os.nice(NICE)
    if memory_limit:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


def _new(workers: int, memory_limit: int | None = None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(os.getpid(), memory_limit))


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = _new(size())
    return _pool


async def run(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a pool process (``fn`` and the arguments must pickle). A pool
    whose process died (killed, out of memory) is replaced for the next call."""
    executor = _executor()
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
    except BrokenProcessPool:
        global _pool
        if _pool is executor:
            _pool = None
            executor.shutdown(wait=False, cancel_futures=True)
        raise


async def run_isolated(fn: Callable[..., T], *args: Any, memory_limit: int) -> T:
    """``fn(*args)`` in a process of its own, whose address space is capped at
    ``memory_limit`` bytes (a MemoryError there fails the call, not the server)."""
    executor = _new(1, memory_limit)
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
