"""The API server a benchmark measures: ``leadbase serve --no-worker`` in its own process
on 127.0.0.1 (rate limits off, its log in the data directory), and the bench workspaces'
owners signed in to it."""

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


class ApiServer:
    def __init__(self, url: str, args: argparse.Namespace, data_dir: Path) -> None:
        self.port = args.port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            "LEADBASE_DATABASE_URL": url,
            "LEADBASE_DATA_DIR": str(data_dir / "server"),
            "LEADBASE_RATE_LIMIT": "100000000/minute",
            "LEADBASE_DB_POOL_SIZE": str(args.pool_size),
            "LEADBASE_DB_MAX_OVERFLOW": "10",
            "LEADBASE_LOG_LEVEL": args.server_log_level,
            "LEADBASE_ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
            "LEADBASE_RUN_WORKER": "false",
            "LEADBASE_COUNT_EXACT_LIMIT": str(args.count_cap),
        }
        self.env.pop("LEADBASE_REDIS_URL", None)  # in-memory rate limits: one process
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-c",
               "import sys; from leadbase.cli import main; sys.argv[0] = 'leadbase'; main()",
               "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-worker"]
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log,
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
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None:
            self.log.close()
        self.proc = None


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
