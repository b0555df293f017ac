"""The embedded server runs with settings sized for the machine."""

from __future__ import annotations

import os

import psycopg
import pytest

from leadbase.db.embedded import _memory, tuned_settings


def test_settings_scale_with_memory() -> None:
    assert tuned_settings(512 * 2**20)["shared_buffers"] == "128MB"
    assert tuned_settings(8 * 2**30)["shared_buffers"] == "1024MB"
    assert tuned_settings(64 * 2**30)["shared_buffers"] == "2048MB"
    assert tuned_settings(8 * 2**30)["max_wal_size"] == "2GB"


@pytest.mark.skipif(bool(os.environ.get("LEADBASE_TEST_DATABASE_URL")),
                    reason="runs against the embedded server only")
def test_the_embedded_test_server_runs_tuned(libpq: str) -> None:
    wanted = tuned_settings(_memory())
    with psycopg.connect(libpq) as conn:
        for name, value in wanted.items():
            same = conn.execute("SELECT pg_size_bytes(current_setting(%s)) = "
                                "pg_size_bytes(%s)", (name, value)).fetchone()
            assert same == (True,), name
