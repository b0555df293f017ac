"""Password hashing (argon2id via pwdlib), the password policy, JWTs and opaque secrets."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from leadbase.kit.errors import Unauthorized, ValidationFailed

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "lb_"

_hasher = PasswordHash((Argon2Hasher(),))
# A hash of a random password, so that unknown emails cost the same as wrong passwords.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

PASSWORD_POLICY = (
    "at least 8 characters, with at least one uppercase letter, one lowercase letter "
    "and one digit"
)
_PASSWORD_RULES: tuple[tuple[str, str, str], ...] = (
    (r"^.{8,}$", "PASSWORD_TOO_SHORT", "must be at least 8 characters long"),
    (r"[A-Z]", "PASSWORD_NO_UPPERCASE", "must contain an uppercase letter"),
    (r"[a-z]", "PASSWORD_NO_LOWERCASE", "must contain a lowercase letter"),
    (r"[0-9]", "PASSWORD_NO_DIGIT", "must contain a digit"),
)


def password_problems(password: str) -> list[tuple[str, str]]:
    """(code, message) for every rule ``password`` breaks; empty when it is acceptable."""
    problems = [(code, msg) for rx, code, msg in _PASSWORD_RULES if not re.search(rx, password)]
    if len(password) > 128:
        problems.append(("PASSWORD_TOO_LONG", "must be at most 128 characters long"))
    return problems


def check_password_policy(password: str, field: str = "password") -> None:
    problems = password_problems(password)
    if problems:
        raise ValidationFailed(
            f"The password {problems[0][1]} (policy: {PASSWORD_POLICY}).",
            code=problems[0][0],
            errors=[{"field": field, "message": f"password {msg}", "rule": code}
                    for code, msg in problems],
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # malformed hash
        return False


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(48)


def new_api_key() -> tuple[str, str, str]:
    """Return (full secret, public prefix, sha256 of the secret).

    The secret has 256 bits of entropy, so a fast hash is safe to store; argon2 is for
    human passwords.
    """
    prefix = API_KEY_PREFIX + secrets.token_hex(6)
    secret = f"{prefix}.{secrets.token_urlsafe(32)}"
    return secret, prefix, sha256(secret)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: str
    # The sign-in this token belongs to (its refresh-token family): the token works only
    # while that session is live (see ``leadbase.auth.deps``).
    session_id: uuid.UUID


def encode_access_token(
    *, secret: str, user_id: uuid.UUID, tenant_id: uuid.UUID | None, role: str,
    session_id: uuid.UUID, ttl: int, audience: str, issuer: str,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "tid": str(tenant_id) if tenant_id else None,
        "role": role,
        "sid": str(session_id),
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "aud": audience,
        "iss": issuer,
        "jti": secrets.token_hex(8),
        "typ": "access",
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


# Verified tokens, so that a client sending the same token on every request pays for the
# signature check once: (token, secret, audience, issuer) -> (claims, expiry). An entry
# is used only before its token's expiry; the cache is bounded and cleared when full.
_VERIFIED: dict[tuple[str, str, str, str], tuple[AccessClaims, float]] = {}
_VERIFIED_MAX = 10_000


def decode_access_token(token: str, *, secret: str, audience: str, issuer: str) -> AccessClaims:
    """Verify signature (HS256 only), expiry, audience and issuer; 401 otherwise."""
    key = (token, secret, audience, issuer)
    hit = _VERIFIED.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        del _VERIFIED[key]
    claims, expires = _verify(token, secret=secret, audience=audience, issuer=issuer)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (claims, expires)
    return claims


def _verify(token: str, *, secret: str, audience: str,
            issuer: str) -> tuple[AccessClaims, float]:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "sid"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired.", code="TOKEN_EXPIRED") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is invalid.", code="INVALID_TOKEN") from exc
    if payload.get("typ") != "access":
        raise Unauthorized("The access token is invalid.", code="INVALID_TOKEN")
    try:
        user_id = uuid.UUID(payload["sub"])
        tenant_id = uuid.UUID(payload["tid"]) if payload.get("tid") else None
        session_id = uuid.UUID(payload["sid"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise Unauthorized("The access token is invalid.", code="INVALID_TOKEN") from exc
    return (AccessClaims(user_id=user_id, tenant_id=tenant_id, role=str(payload.get("role")),
                         session_id=session_id), float(payload["exp"]))
