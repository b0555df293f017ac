"""Provider secrets at rest: Fernet tokens under the settings' key
(``Settings.encryption_key()``). The plain values exist only in memory, on their way to
the provider or to a webhook check; they are never answered back."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from leadbase.config import Settings

_fernets: dict[str, Fernet] = {}


def _fernet(settings: Settings) -> Fernet:
    key = settings.encryption_key()
    found = _fernets.get(key)
    if found is None:
        found = _fernets[key] = Fernet(key.encode())
    return found


def encrypt(settings: Settings, value: Any) -> str:
    """``value`` (JSON-ready) as a Fernet token."""
    return _fernet(settings).encrypt(orjson.dumps(value)).decode()


def decrypt(settings: Settings, token: str | None, default: Any = None) -> Any:
    """The value of a token made by :func:`encrypt`; ``default`` for none. A token the
    key cannot open (the key changed) raises ``ValueError``."""
    if token is None:
        return default
    try:
        return orjson.loads(_fernet(settings).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("a provider secret cannot be decrypted with this key") from exc


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)
