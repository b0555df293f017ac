"""Rate limits with the ``limits`` library: in memory, or Redis when LEADBASE_REDIS_URL is set."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import cast

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from leadbase.kit.errors import TooManyRequests


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_after: int


class RateLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self.storage: Storage = cast(
                Storage, storage_from_string(uri, implementation="redispy"))
        else:
            self.storage = MemoryStorage()
        # Sliding-window counter: O(1) memory per key (a moving window keeps every hit).
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._items: dict[str, RateLimitItem] = {}

    def _item(self, spec: str) -> RateLimitItem:
        item = self._items.get(spec)
        if item is None:
            item = self._items[spec] = parse(spec)
        return item

    async def hit(self, spec: str, *identifiers: str, code: str = "RATE_LIMITED",
                  detail: str = "Too many requests; slow down.") -> Quota:
        """Count one request; raise 429 with ``Retry-After`` when over the limit."""
        item = self._item(spec)
        allowed = await self.limiter.hit(item, *identifiers)
        stats = await self.limiter.get_window_stats(item, *identifiers)
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        quota = Quota(limit=item.amount, remaining=stats.remaining, reset_after=reset_after)
        if not allowed:
            err = TooManyRequests(detail, code=code)
            err.headers = {"Retry-After": str(max(1, reset_after)), **headers(quota)}
            raise err
        return quota

    async def clear(self, spec: str, *identifiers: str) -> None:
        await self.limiter.clear(self._item(spec), *identifiers)


def headers(quota: Quota) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(quota.remaining),
        "RateLimit-Reset": str(quota.reset_after),
    }
