"""``leadbase serve --workers 2``: two API processes on one port and the job worker, the
secrets made once for all of them, and a graceful stop on SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(libpq: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADBASE_")}
    env.update({"LEADBASE_DATABASE_URL": libpq, "LEADBASE_DATA_DIR": str(tmp_path / "data"),
                "LEADBASE_LOG_LEVEL": "INFO", "LEADBASE_ALLOW_PRIVATE_URLS": "1"})
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from leadbase.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200 \
                        and len(_api_processes(proc.pid, port)) == 2:
                    break
            time.sleep(0.3)
        else:
            pytest.fail("serve --workers 2 did not start:\n" + log.read_text())
        yield proc, port, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _api_processes(pid: int, port: int) -> list[psutil.Process]:
    """The supervisor's children listening on ``port``: the API processes."""
    found = []
    for child in psutil.Process(pid).children():
        with contextlib.suppress(psutil.Error):
            if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port
                   for c in child.net_connections("tcp")):
                found.append(child)
    return found


def test_two_processes_answer_and_stop_gracefully(
        served: tuple[subprocess.Popen[bytes], int, Path], tmp_path: Path) -> None:
    proc, port, log = served
    base = f"http://127.0.0.1:{port}"
    api = _api_processes(proc.pid, port)
    assert len(api) == 2
    others = [c for c in psutil.Process(proc.pid).children() if c.pid not in {p.pid for p in api}]
    assert any(c.is_running() for c in others), "no job-worker process"
    secret = (tmp_path / "data" / "secret_key").read_text()

    r = httpx.post(base + "/api/v1/auth/register", json={
        "email": "serve.owner@example.com", "password": "Secret123", "name": "Owner",
        "workspace_name": "Served"})
    assert r.status_code == 201, r.text
    token = r.json()["access_token"]
    # Each process in turn answers alone (the other stopped for a moment): both serve the
    # port, and both accept the token (the secret was made once, before them).
    for alone in api:
        paused = [p for p in api if p.pid != alone.pid]
        for p in paused:
            p.suspend()
        try:
            me = httpx.get(base + "/api/v1/auth/me", timeout=3,
                           headers={"authorization": f"Bearer {token}", "connection": "close"})
            leads = httpx.get(base + "/api/v1/leads", timeout=3,
                              headers={"authorization": f"Bearer {token}",
                                       "connection": "close"})
        finally:
            for p in paused:
                p.resume()
        assert me.status_code == 200, me.text
        assert leads.status_code == 200, leads.text
    assert (tmp_path / "data" / "secret_key").read_text() == secret

    # A request in flight when SIGTERM arrives (its body not yet sent) still gets its answer.
    body = orjson.dumps({"email": "serve.owner@example.com", "password": "Wrong1234"})
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nhost: test\r\n"
                  b"content-type: application/json\r\ncontent-length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        s.sendall(body[10:])
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]

    assert proc.wait(60) == 0
    text = log.read_text()
    assert "job worker stopped" in text, text
    assert text.count("Application shutdown complete") == 2, text
    # Nothing is left behind (multiprocessing's resource tracker leaves when it sees its
    # parent gone, within moments).
    _, alive = psutil.wait_procs([*api, *others], timeout=10)
    assert not alive, alive


def test_kept_secrets_do_not_race(tmp_path: Path) -> None:
    """Processes starting together agree on one generated secret (and one Fernet key)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        secrets = pool.map(_secrets_of, [str(tmp_path)] * 8)
    assert len(set(secrets)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fernet_key", "secret_key"]


def _secrets_of(data_dir: str) -> tuple[str, str]:
    from leadbase.config import Settings

    settings = Settings(data_dir=Path(data_dir), secret_key=None, fernet_key=None)
    return settings.jwt_secret(), settings.encryption_key()
