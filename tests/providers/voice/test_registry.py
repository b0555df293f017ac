"""The provider registry."""

from __future__ import annotations

import pytest

from leadbase.providers.voice.base import UnknownProviderError
from leadbase.providers.voice.registry import get_provider, provider_names
from leadbase.providers.voice.simulator import SimulatorProvider


def test_simulator_by_name() -> None:
    assert isinstance(get_provider("simulator"), SimulatorProvider)
    assert "simulator" in provider_names()


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownProviderError, match=r"unknown voice provider 'twilio'.*simulator"):
        get_provider("twilio")
