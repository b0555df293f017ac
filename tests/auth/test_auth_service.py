"""leadbase.auth.service called directly, in the system-scoped transaction it expects."""

from __future__ import annotations

import uuid

import jwt
import pytest

from leadbase.auth import service
from leadbase.auth.security import decode_access_token
from leadbase.auth.tokens import TokenIssuer, TokenPair
from leadbase.config import Settings
from leadbase.db.session import Database
from leadbase.kit.errors import Conflict, Unauthorized, ValidationFailed
from tests.auth.helpers import execute, scalar
from tests.factories import PASSWORD, unique_email


@pytest.fixture
def issuer(settings: Settings) -> TokenIssuer:
    return TokenIssuer(settings)


async def _register(db: Database, issuer: TokenIssuer, email: str | None = None,
                    password: str = PASSWORD) -> tuple[str, TokenPair]:
    email = email or unique_email("svc")
    async with db.transaction(None, system=True) as session:
        pair = await service.register(session, issuer=issuer, email=email, password=password,
                                      name="Svc", workspace_name="Svc Co", request_id="rq-1")
    return email, pair


async def test_register_and_login(db: Database, issuer: TokenIssuer, settings: Settings) -> None:
    email, pair = await _register(db, issuer, email=unique_email("Svc").upper())
    claims = decode_access_token(pair.access_token, secret=issuer.secret,
                                 audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    assert claims.role == "owner" and claims.tenant_id is not None
    assert await scalar(db, claims.tenant_id, "SELECT email FROM users WHERE id = :u",
                        u=claims.user_id) == email.lower()
    # The workspace creation is audited with the request id.
    assert await scalar(db, claims.tenant_id, "SELECT request_id FROM audit_entries WHERE "
                        "action = 'workspace.created'") == "rq-1"
    async with db.transaction(None, system=True) as session:
        again = await service.login(session, issuer=issuer, email=email.lower(),
                                    password=PASSWORD)
    assert again.refresh_token != pair.refresh_token


async def test_register_rejects_weak_password_and_duplicates(db: Database,
                                                             issuer: TokenIssuer) -> None:
    with pytest.raises(ValidationFailed) as weak:
        await _register(db, issuer, password="password1")
    assert weak.value.code == "PASSWORD_NO_UPPERCASE"
    email, _ = await _register(db, issuer)
    with pytest.raises(Conflict) as dup:
        await _register(db, issuer, email=email.upper())
    assert dup.value.code == "EMAIL_TAKEN"
    assert await scalar(db, None, "SELECT count(*) FROM users WHERE lower(email) = :e",
                        e=email.lower()) == 1


async def test_login_failures(db: Database, issuer: TokenIssuer) -> None:
    email, pair = await _register(db, issuer)
    async with db.transaction(None, system=True) as session:
        with pytest.raises(Unauthorized) as wrong:
            await service.login(session, issuer=issuer, email=email, password="Wrong1234")
        with pytest.raises(Unauthorized) as unknown:
            await service.login(session, issuer=issuer, email=unique_email(),
                                password=PASSWORD)
    assert wrong.value.code == unknown.value.code == "INVALID_CREDENTIALS"
    user_id = jwt.decode(pair.access_token, options={"verify_signature": False})["sub"]
    await execute(db, None, "UPDATE users SET is_active = false WHERE id = :u", u=user_id)
    async with db.transaction(None, system=True) as session:
        with pytest.raises(Unauthorized) as inactive:
            await service.login(session, issuer=issuer, email=email, password=PASSWORD)
        with pytest.raises(Unauthorized) as refresh_inactive:
            await service.refresh(session, issuer=issuer, refresh_token=pair.refresh_token)
    assert inactive.value.code == "USER_INACTIVE"
    assert refresh_inactive.value.code == "USER_INACTIVE"


async def test_refresh_reuse_detection(db: Database, issuer: TokenIssuer) -> None:
    _, pair = await _register(db, issuer)
    async with db.transaction(None, system=True) as session:
        second = await service.refresh(session, issuer=issuer, refresh_token=pair.refresh_token)
    assert isinstance(second, TokenPair)
    async with db.transaction(None, system=True) as session:
        reused = await service.refresh(session, issuer=issuer, refresh_token=pair.refresh_token)
    assert isinstance(reused, service.RefreshReused)
    async with db.transaction(None, system=True) as session:
        with pytest.raises(Unauthorized) as dead:
            await service.refresh(session, issuer=issuer, refresh_token=second.refresh_token)
    assert dead.value.code == "INVALID_REFRESH_TOKEN"


async def test_logout_only_touches_own_tokens(db: Database, issuer: TokenIssuer) -> None:
    _, a = await _register(db, issuer)
    _, b = await _register(db, issuer)
    a_user = uuid.UUID(jwt.decode(a.access_token, options={"verify_signature": False})["sub"])
    async with db.transaction(None, system=True) as session:
        # Naming someone else's token falls back to revoking the caller's own sessions.
        await service.logout(session, user_id=a_user, session_id=None,
                             refresh_token=b.refresh_token)
    async with db.transaction(None, system=True) as session:
        assert isinstance(await service.refresh(session, issuer=issuer,
                                                refresh_token=b.refresh_token), TokenPair)
        with pytest.raises(Unauthorized):
            await service.refresh(session, issuer=issuer, refresh_token=a.refresh_token)


async def test_create_superadmin_rules(db: Database) -> None:
    email = unique_email("root")
    async with db.transaction(None, system=True) as session:
        with pytest.raises(ValidationFailed) as weak:
            await service.create_superadmin(session, email=email, password="short",
                                            name="Root")
    assert weak.value.code == "PASSWORD_TOO_SHORT"
    async with db.transaction(None, system=True) as session:
        user = await service.create_superadmin(session, email=email.upper(), password=PASSWORD,
                                               name="Root")
    assert user["role"] == "superadmin" and user["tenant_id"] is None
    assert user["email"] == email
    async with db.transaction(None, system=True) as session:
        with pytest.raises(Conflict):
            await service.create_superadmin(session, email=email, password=PASSWORD,
                                            name="Again")


async def test_superadmin_rows_are_invisible_inside_a_workspace(db: Database,
                                                                issuer: TokenIssuer) -> None:
    """Row-level security: a workspace-scoped session cannot read platform users."""
    email = unique_email("root")
    async with db.transaction(None, system=True) as session:
        root = await service.create_superadmin(session, email=email, password=PASSWORD,
                                               name="Root")
    _, pair = await _register(db, issuer)
    tid = uuid.UUID(jwt.decode(pair.access_token, options={"verify_signature": False})["tid"])
    async with db.transaction(tid) as session:
        from leadbase.users import repository as users_repository

        assert await users_repository.get_by_id_any(session, root["id"]) is None
        assert await users_repository.get_for_login(session, email) is None
