"""The voice providers by name: ``get_provider("vapi" | "bland" | "simulator")``."""

from __future__ import annotations

from collections.abc import Callable

from leadbase.config import Settings, get_settings
from leadbase.providers.voice.base import UnknownProviderError, VoiceProvider


def _simulator(settings: Settings) -> VoiceProvider:
    from leadbase.providers.voice.simulator import SimulatorProvider

    return SimulatorProvider()


def _vapi(settings: Settings) -> VoiceProvider:
    from leadbase.providers.voice.vapi import VapiProvider

    return VapiProvider(settings)


def _bland(settings: Settings) -> VoiceProvider:
    from leadbase.providers.voice.bland import BlandProvider

    return BlandProvider(settings)


_FACTORIES: dict[str, Callable[[Settings], VoiceProvider]] = {
    "bland": _bland,
    "simulator": _simulator,
    "vapi": _vapi,
}


def provider_names() -> tuple[str, ...]:
    """The names ``get_provider`` knows, sorted."""
    return tuple(sorted(_FACTORIES))


def get_provider(name: str, settings: Settings | None = None) -> VoiceProvider:
    """The provider called ``name``, configured from the settings (base URLs, timeout,
    retries); ``UnknownProviderError`` for a name no provider has."""
    factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(provider_names())
        raise UnknownProviderError(f"unknown voice provider {name!r} (known: {known})")
    return factory(settings or get_settings())
