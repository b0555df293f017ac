"""The embedded server runs with settings sized for the machine."""

from __future__ import annotations

from leadbase.db.embedded import tuned_settings


def test_settings_scale_with_memory() -> None:
    assert tuned_settings(512 * 2**20)["shared_buffers"] == "128MB"
    assert tuned_settings(8 * 2**30)["shared_buffers"] == "1024MB"
    assert tuned_settings(64 * 2**30)["shared_buffers"] == "2048MB"
    assert tuned_settings(8 * 2**30)["max_wal_size"] == "4GB"

    assert tuned_settings(512 * 2**20)["wal_buffers"] == "16MB"
    assert tuned_settings(64 * 2**30)["wal_buffers"] == "64MB"
