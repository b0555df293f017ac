"""Leadbase beside its raw twin (``bench/raw_twin.py``): every scenario sent to both
servers by the same client in the same run, back to back, with the server CPU each
spent per request (from /proc: the server's process tree, i.e. its API processes and
their supervisor; not the client, not PostgreSQL) and the ratios; with 1 and N API
processes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench.client import WARMUP_OFFSET, LoopbackClient, Result, Scenario, drive
from bench.report import CpuMeter, out

# Request indexes (create payloads are unique per index): phase p, server s (0 Leadbase,
# 1 twin) use [(2p + s) * SPAN, ...), below the offsets of bench.client's other phases.
SPAN = 150_000
READ_TARGET, CREATE_TARGET, SCALE_TARGET = 0.7, 0.6, 1.6


@dataclass
class Pair:
    scenario: Scenario
    leadbase: Result
    twin: Result


def cpu_ms(r: Result) -> float | None:
    """Server CPU per request, in ms."""
    if r.cpu[1] is None or not r.requests:
        return None
    return r.cpu[1] * r.wall / r.requests * 1000


def rps(r: Result) -> float:
    return r.requests / r.wall if r.wall else 0.0


async def run_pairs(lb_base: str, twin_base: str | None, token: str,
                    scenarios: list[Scenario], args: argparse.Namespace, lb_meter: CpuMeter,
                    twin_meter: CpuMeter | None, phase: int) -> list[Pair]:
    """Each scenario against Leadbase, then (``twin_base`` given) against the twin."""
    headers = {"authorization": f"Bearer {token}"}
    clients = [LoopbackClient(lb_base, headers)]
    meters = [lb_meter]
    if twin_base is not None and twin_meter is not None:
        clients.append(LoopbackClient(twin_base, headers))
        meters.append(twin_meter)
    pairs = []
    try:
        offset = 0
        for sc in scenarios:
            warm = max(args.concurrency * 4, min(100, args.requests // 10))
            results = []
            for s in range(len(clients)):
                base = (2 * phase + s) * SPAN + offset
                await drive(clients[s], sc.name, sc.make, requests=warm,
                            concurrency=args.concurrency, duration=args.duration,
                            meter=meters[s], offset=WARMUP_OFFSET + base)
                results.append(await drive(clients[s], sc.name, sc.make,
                                           requests=args.requests,
                                           concurrency=args.concurrency,
                                           duration=args.duration, meter=meters[s],
                                           offset=base + warm))
            twin = results[1] if len(results) > 1 else Result(sc.name, args.concurrency)
            pairs.append(Pair(sc, results[0], twin))
            offset += args.requests + 2 * warm
    finally:
        for c in clients:
            await c.close()
    return pairs


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_pairs(pairs: list[Pair], workers: int, concurrency: int) -> bool:
    out(f"== Leadbase beside its raw twin: {workers} API process{'es' if workers > 1 else ''} "
        f"each, concurrency {concurrency}, same client, back to back")
    out("   cpu ms/req = server CPU per request (the server's processes, from /proc); "
        f"target: twin/leadbase cpu >= {READ_TARGET:g} for reads, >= {CREATE_TARGET:g} "
        "for create")
    out(f"  {'scenario':<18} {'req/s lb':>8} {'twin':>7} {'lb/twin':>7}  {'p99 lb':>7} "
        f"{'twin':>6}  {'cpu ms/req lb':>13} {'twin':>5} {'twin/lb':>7}  {'pg':>4} "
        f"{'other':>5}  result")
    ok_all = True
    for p in pairs:
        lb, tw = p.leadbase, p.twin
        lb_cpu, tw_cpu = cpu_ms(lb), cpu_ms(tw)
        ratio = tw_cpu / lb_cpu if lb_cpu and tw_cpu else None
        target = CREATE_TARGET if p.scenario.name == "create" else READ_TARGET
        ok = ratio is not None and ratio >= target and not lb.errors and not tw.errors
        ok_all &= ok
        out(f"  {p.scenario.name:<18} {rps(lb):>8.1f} {rps(tw):>7.1f} "
            f"{rps(lb) / rps(tw) if rps(tw) else 0:>7.2f}  {lb.pct(0.99):>7.1f} "
            f"{tw.pct(0.99):>6.1f}  {_f(lb_cpu, '.2f'):>13} {_f(tw_cpu, '.2f'):>5} "
            f"{_f(ratio, '.2f'):>7}  {_f(lb.cpu[2], '.2f'):>4} {_f(lb.cpu[3], '.2f'):>5}  "
            f"{'PASS' if ok else 'MISS'}")
    for p in pairs:
        for who, r in (("leadbase", p.leadbase), ("twin", p.twin)):
            for sample in r.error_samples:
                out(f"  ! {p.scenario.name} ({who}): {sample}")
    return ok_all


def print_scaling(one: list[Pair], many: list[Pair], workers: int) -> bool:
    out(f"== scaling: req/s with {workers} API processes against 1 (target: leadbase >= "
        f"{SCALE_TARGET:g}x)")
    out(f"  {'scenario':<18} {'lb 1':>7} {f'lb {workers}':>7} {'x':>5}  {'twin 1':>7} "
        f"{f'twin {workers}':>7} {'x':>5}  result")
    ok_all = True
    for a, b in zip(one, many, strict=True):
        lb_x = rps(b.leadbase) / rps(a.leadbase) if rps(a.leadbase) else 0.0
        tw_x = rps(b.twin) / rps(a.twin) if rps(a.twin) else 0.0
        ok = lb_x >= SCALE_TARGET
        ok_all &= ok
        out(f"  {a.scenario.name:<18} {rps(a.leadbase):>7.1f} {rps(b.leadbase):>7.1f} "
            f"{lb_x:>5.2f}  {rps(a.twin):>7.1f} {rps(b.twin):>7.1f} {tw_x:>5.2f}  "
            f"{'PASS' if ok else 'MISS'}")
    return ok_all


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = [f"{path}.{k}: only in {'leadbase' if k in a else 'twin'}"
                 for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            found += _differences(a[k], b[k], f"{path}.{k}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {str(a)[:40]!r} != {str(b)[:40]!r}"]


CREATED_VARY = {"id", "number", "email", "created_at", "updated_at", "phone", "first_name",
                "last_name", "full_name", "company", "job_title", "status", "tags",
                "timezone", "country"}


def check_same_json(lb_base: str, twin_base: str, token: str,
                    scenarios: list[Scenario]) -> bool:
    """Both servers answer each scenario's first request with the same JSON (a create:
    the same keys, and the same values but for the lead's own)."""
    headers = {"authorization": f"Bearer {token}"}
    lines, same = [], True
    with httpx.Client(timeout=60, headers=headers) as c:
        for sc in scenarios:
            i = 4 * SPAN + 10 if sc.name == "create" else 0
            answers = []
            for base, k in ((lb_base, i), (twin_base, i + 1 if sc.name == "create" else i)):
                req = sc.make(k)
                r = c.request(req.method, base + req.url, content=req.body,
                              headers={"content-type": "application/json"} if req.body else {})
                answers.append((r.status_code, orjson.loads(r.content)))
            (s1, a), (s2, b) = answers
            diffs = [] if s1 == s2 else [f"status {s1} != {s2}"]
            if sc.name == "create" and isinstance(a, dict) and isinstance(b, dict):
                a = {k: v for k, v in a.items() if k not in CREATED_VARY}
                b = {k: v for k, v in b.items() if k not in CREATED_VARY}
            diffs += _differences(a, b)
            same &= not diffs
            verdict = "same" if not diffs else "DIFFERENT: " + "; ".join(diffs[:3])
            lines.append(f"{sc.name} {verdict}")
    out("same JSON from both servers: " + ", ".join(lines))
    return same
