"""The servers a benchmark measures, each in its own process tree on 127.0.0.1:
``leadbase serve --no-worker --workers N`` (rate limits off, its log in the data
directory) and the raw twin (``bench/raw_twin.py``); the bench workspaces' owners signed
in."""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Secret123"
WORKSPACES = {
    "a": ("bench.workspace.a@example.com", "Bench A (1M)"),
    "b": ("bench.workspace.b@example.com", "Bench B"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server under measurement in its own session (its processes are one tree: the
    supervisor and, with ``workers`` > 1, its API processes), logging to ``log_path``."""

    def __init__(self, cmd: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.cmd, self.env, self.port, self.log_path = cmd, env, port, log_path
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see "
                                   f"{self.log_path}:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.25)
        raise RuntimeError(f"the server did not become ready in 120 s; see {self.log_path}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc is not None:
            self.log.close()
        self.proc = None


def pool_size(args: argparse.Namespace, workers: int) -> int:
    """Connections per process: the client's connections spread over the processes (with
    room for an uneven spread; the pool's overflow adds 10 more)."""
    if args.pool_size is not None:
        return int(args.pool_size)
    return max(10, args.concurrency if workers == 1 else -(-args.concurrency // workers) + 4)


class ApiServer(ServerProcess):
    """``leadbase serve --no-worker --workers N`` (rate limits off, access log off)."""

    def __init__(self, url: str, args: argparse.Namespace, data_dir: Path,
                 workers: int = 1) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers
        self.pool_size = pool_size(args, workers)
        env = {
            **os.environ,
            "LEADBASE_DATABASE_URL": url,
            "LEADBASE_DATA_DIR": str(data_dir / "server"),
            "LEADBASE_RATE_LIMIT": "100000000/minute",
            "LEADBASE_DB_POOL_SIZE": str(self.pool_size),
            "LEADBASE_DB_MAX_OVERFLOW": "10",
            "LEADBASE_LOG_LEVEL": args.server_log_level,
            "LEADBASE_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "LEADBASE_RUN_WORKER": "false",
            "LEADBASE_COUNT_EXACT_LIMIT": str(args.count_cap),
        }
        env.pop("LEADBASE_REDIS_URL", None)  # in-memory rate limits (and they are off)
        port = args.port or free_port()
        cmd = [sys.executable, "-c",
               "import sys; from leadbase.cli import main; sys.argv[0] = 'leadbase'; main()",
               "serve", "--host", "127.0.0.1", "--port", str(port), "--no-worker",
               "--workers", str(workers)]
        super().__init__(cmd, env, port, data_dir / "server.log")

    def restart(self, workers: int, args: argparse.Namespace) -> None:
        """The same server (same port) with ``workers`` API processes."""
        self.stop()
        self.workers, self.pool_size = workers, pool_size(args, workers)
        self.env["LEADBASE_DB_POOL_SIZE"] = str(self.pool_size)
        self.cmd[-1] = str(workers)
        self.start()


class TwinServer(ServerProcess):
    """``bench/raw_twin.py``: the raw Starlette + psycopg twin of the measured routes."""

    def __init__(self, url: str, args: argparse.Namespace, data_dir: Path,
                 workers: int = 1) -> None:
        self.workers = workers
        env = {**os.environ, "LEADBASE_COUNT_EXACT_LIMIT": str(args.count_cap)}
        port = free_port()
        cmd = [sys.executable, str(ROOT / "bench" / "raw_twin.py"), "--database-url", url,
               "--data-dir", str(data_dir / "server"), "--port", str(port),
               "--workers", str(workers), "--pool-size", str(pool_size(args, workers))]
        super().__init__(cmd, env, port, data_dir / "raw_twin.log")


def token_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    result: dict[str, Any] = orjson.loads(raw)
    return result


def sign_in(base: str, key: str, register: bool) -> tuple[str, str]:
    email, workspace = WORKSPACES[key]
    with httpx.Client(base_url=base, timeout=30) as client:
        if register:
            r = client.post("/api/v1/auth/register", json={
                "email": email, "password": PASSWORD, "name": f"Bench owner {key.upper()}",
                "workspace_name": workspace})
        else:
            r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"sign-in of {email} failed: {r.status_code} {r.text}")
        token = r.json()["access_token"]
    return token, str(token_claims(token)["tid"])
