"""Outbound HTTP for the voice providers: one client factory, one retry policy.

Timeouts come from ``LEADBASE_VOICE_TIMEOUT_SECONDS`` and retries from
``LEADBASE_VOICE_RETRIES``. Retried: timeouts and network errors, 5xx and 429 (waiting
``Retry-After`` when it asks for no more than ``retry_after_max`` seconds; longer, we
give up at once and say how long, so the job retries later instead of holding a worker),
otherwise exponential backoff with jitter, bounded by ``backoff_max``. Exhausted →
``ProviderError(retryable=True)``; any other 4xx → ``ProviderError(retryable=False)``
with the provider's own message.

A POST whose answer did not come back in time may have reached the provider: it is not
sent again (a second POST could ring the lead twice) but raised at once with
``maybe_placed=True``; the dialer reconciles. Only timeouts before the request was sent
(connect, pool) are retried for it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from leadbase import __version__
from leadbase.config import Settings
from leadbase.providers.voice.base import ProviderError

USER_AGENT = f"Leadbase/{__version__} (+voice)"
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(retries=settings.voice_retries)

    def backoff(self, attempt: int) -> float:
        """Full jitter over an exponential ceiling: [ceiling/2, ceiling]."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return random.uniform(ceiling / 2, ceiling)


def make_client(
    settings: Settings,
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client every voice provider uses: timeouts from the settings, no redirects."""
    timeout = settings.voice_timeout_seconds
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers={"user-agent": USER_AGENT, "accept": "application/json", **(headers or {})},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        follow_redirects=False,
        transport=transport,
    )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A ``Retry-After`` header's wait: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def provider_message(response: httpx.Response) -> str:
    """The provider's own words about a refusal (its JSON ``message``/``error``), or the text."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "errors", "detail"):
            value = body.get(key)
            if isinstance(value, list) and value:
                return "; ".join(str(v.get("message", v)) if isinstance(v, dict) else str(v)
                                 for v in value)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, dict) and value:
                return str(value.get("message") or value)
    text = response.text.strip()
    return text[:300] if text else response.reason_phrase


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    policy: RetryPolicy,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
    accept: frozenset[int] = frozenset(),
) -> httpx.Response:
    """Send with the retry policy; the 2xx response (or one whose status is in ``accept``)."""
    idempotent = method.upper() in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
    attempt = 0
    while True:
        try:
            response = await client.request(method, url, json=json, headers=headers)
        except httpx.TransportError as exc:
            unsent = isinstance(exc, _UNSENT)
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            message = f"{provider}: {method} {url} {kind}: {type(exc).__name__}"
            if not idempotent and not unsent:
                raise ProviderError(message + " (the call may have been placed)",
                                    retryable=True, maybe_placed=True) from exc
            if attempt >= policy.retries:
                raise ProviderError(f"{message} after {attempt + 1} attempts",
                                    retryable=True) from exc
            await asyncio.sleep(policy.backoff(attempt))
            attempt += 1
            continue
        status = response.status_code
        if 200 <= status < 300 or status in accept:
            return response
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            message = f"{provider}: {status} {response.reason_phrase}: {provider_message(response)}"
            if wait is not None and wait > policy.retry_after_max:
                raise ProviderError(message, retryable=True, status_code=status, retry_after=wait)
            if attempt >= policy.retries:
                raise ProviderError(f"{message} (after {attempt + 1} attempts)", retryable=True,
                                    status_code=status, retry_after=wait)
            await asyncio.sleep(wait if wait is not None else policy.backoff(attempt))
            attempt += 1
            continue
        raise ProviderError(
            f"{provider}: {status} {response.reason_phrase}: {provider_message(response)}",
            retryable=False, status_code=status,
        )


def json_object(response: httpx.Response, provider: str, *, maybe_placed: bool = False
                ) -> dict[str, Any]:
    """The response's JSON object; a retryable ``ProviderError`` for anything else."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        request = response.request
        raise ProviderError(f"{provider}: {request.method} {request.url.path} answered no JSON "
                            "object", retryable=True, maybe_placed=maybe_placed)
    return data


class HttpVoiceProvider:
    """What the HTTP providers (VAPI, Bland) share: their base URL and retry policy from
    the settings, a client authenticated with the agent's ``api_key``, and the settings
    checks a call needs. Each provider says how its key is sent (``auth_header``)."""

    name: str = ""
    secret_settings: frozenset[str] = frozenset({"api_key", "webhook_secret"})
    # The settings a provider requires as non-empty strings (``check_settings``).
    required_strings: tuple[str, ...] = ("api_key", "webhook_secret")

    def __init__(self, settings: Settings, *, base_url: str, policy: RetryPolicy | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy.from_settings(settings)
        self._transport = transport

    def auth_header(self, api_key: str) -> str:
        raise NotImplementedError

    def required_problems(self, settings: Mapping[str, Any]) -> list[str]:
        return [f"{key} is required" for key in self.required_strings
                if not isinstance(settings.get(key), str) or not settings.get(key)]

    def check_settings(self, settings: Mapping[str, Any]) -> list[str]:
        return self.required_problems(settings)

    def refuse_unusable(self, settings: Mapping[str, Any]) -> None:
        """Refuse to place a call with settings the provider cannot use (the webhook
        secret is Leadbase's own, so its absence does not stop a call)."""
        if problems := [p for p in self.check_settings(settings)
                        if not p.startswith("webhook_secret")]:
            raise ProviderError(f"{self.name}: " + "; ".join(problems), retryable=False)

    def _client(self, settings: Mapping[str, Any]) -> httpx.AsyncClient:
        api_key = settings.get("api_key")
        if not api_key:
            raise ProviderError(f"{self.name}: the agent has no api_key", retryable=False)
        return make_client(self._settings, base_url=self.base_url,
                           headers={"authorization": self.auth_header(str(api_key))},
                           transport=self._transport)
