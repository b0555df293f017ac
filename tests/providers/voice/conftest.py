"""Fixtures: the local provider servers and settings with short timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from leadbase.config import Settings
from leadbase.providers.voice.http import RetryPolicy
from tests.providers.voice.servers import BlandServer, VapiServer

TIMEOUT = 0.5
FAST = RetryPolicy(retries=2, backoff_base=0.01, backoff_max=0.05, retry_after_max=3.0)


@pytest.fixture
def voice_settings(tmp_path: object) -> Settings:
    return Settings(voice_timeout_seconds=TIMEOUT, voice_retries=2)


@pytest.fixture
def vapi_server() -> Iterator[VapiServer]:
    with VapiServer() as server:
        yield server


@pytest.fixture
def bland_server() -> Iterator[BlandServer]:
    with BlandServer() as server:
        yield server
