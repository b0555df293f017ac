"""The voice provider of an agent (``leadbase.providers.voice.registry``), behind one seam
the tests and the bench can point elsewhere: :func:`override` puts a provider in place of
the registry's for a name (a provider client configured for a local server); nothing else
in the dialer imports the registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from leadbase.config import Settings
from leadbase.providers.voice.base import VoiceProvider
from leadbase.providers.voice.registry import get_provider

_overrides: dict[str, VoiceProvider] = {}


def get(name: str, settings: Settings | None = None) -> VoiceProvider:
    """The provider called ``name`` (vapi, bland, simulator); ``UnknownProviderError``."""
    if name in _overrides:
        return _overrides[name]
    return get_provider(name, settings)


@contextmanager
def override(name: str, provider: VoiceProvider) -> Iterator[VoiceProvider]:
    _overrides[name] = provider
    try:
        yield provider
    finally:
        _overrides.pop(name, None)
