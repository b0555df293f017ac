"""Helpers of the dashboard, board, import and settings page tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.console.conftest import ConsoleClient
from tests.factories import Member


@asynccontextmanager
async def signed_in(console: ConsoleClient, member: Member) -> AsyncIterator[ConsoleClient]:
    """Another console client of the same app, signed in as ``member``."""
    async with httpx.AsyncClient(transport=console.http._transport,
                                 base_url="http://test") as http:
        other = ConsoleClient(http)
        await other.sign_in(member.email)
        yield other
