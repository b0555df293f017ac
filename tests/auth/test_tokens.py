"""Access tokens (JWT, HS256 only), refresh-token rotation with reuse detection, sign-out."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from leadbase.config import Settings
from leadbase.db.session import Database
from tests.auth.helpers import (
    assert_problem,
    bearer,
    claims_of,
    client_with,
    execute,
    forge,
    scalar,
)
from tests.factories import login, make_workspace

USERS = "/api/v1/users"
# HS512 with the (HS256-sized) server secret: the point is that the server refuses it.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


async def test_issued_token_is_hs256_with_expected_claims(client: httpx.AsyncClient,
                                                          settings: Settings) -> None:
    owner = await make_workspace(client)
    header = jwt.get_unverified_header(owner.access_token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(owner.access_token, settings.secret_key, algorithms=["HS256"],
                        audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    assert claims["sub"] == str(owner.user_id)
    assert claims["role"] == "owner"
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900


async def test_forged_token_with_server_secret_is_accepted(client: httpx.AsyncClient,
                                                           settings: Settings) -> None:
    """Control for the rejections below: the forging helper makes valid tokens."""
    owner = await make_workspace(client)
    token = forge(settings, sub=str(owner.user_id), tid=str(owner.tenant_id),
                  sid=claims_of(owner)["sid"])
    assert (await client.get(USERS, headers=bearer(token))).status_code == 200


def _bad_tokens(settings: Settings, sub: str, tid: str) -> dict[str, tuple[str, str]]:
    now = int(time.time())
    good = forge(settings, sub=sub, tid=tid)
    head, body, sig = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    tampered_body = _b64({**claims, "role": "superadmin"})
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    none_token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    return {
        "expired": (forge(settings, sub=sub, tid=tid, iat=now - 3600, nbf=now - 3600,
                          exp=now - 60), "TOKEN_EXPIRED"),
        "tampered_payload": (f"{head}.{tampered_body}.{sig}", "INVALID_TOKEN"),
        "tampered_signature": (f"{head}.{body}.{flipped}", "INVALID_TOKEN"),
        "alg_none": (none_token, "INVALID_TOKEN"),
        "alg_none_unsigned_lib": (jwt.encode(claims, None, algorithm="none"), "INVALID_TOKEN"),
        "hs512": (forge(settings, sub=sub, tid=tid, algorithm="HS512"), "INVALID_TOKEN"),
        "wrong_audience": (forge(settings, sub=sub, tid=tid, aud="someone-else"),
                           "INVALID_TOKEN"),
        "wrong_issuer": (forge(settings, sub=sub, tid=tid, iss="evil"), "INVALID_TOKEN"),
        "wrong_secret": (forge(settings, sub=sub, tid=tid, secret="another-secret-" + "y" * 40),
                         "INVALID_TOKEN"),
        "no_exp": (forge(settings, sub=sub, tid=tid, exp=None), "INVALID_TOKEN"),
        "not_access_type": (forge(settings, sub=sub, tid=tid, typ="refresh"), "INVALID_TOKEN"),
        "bad_sub": (forge(settings, sub="not-a-uuid", tid=tid), "INVALID_TOKEN"),
        "not_yet_valid": (forge(settings, sub=sub, tid=tid, nbf=now + 600), "INVALID_TOKEN"),
        "garbage": ("abc.def.ghi", "INVALID_TOKEN"),
    }


BAD_KINDS = ["expired", "tampered_payload", "tampered_signature", "alg_none",
             "alg_none_unsigned_lib", "hs512", "wrong_audience", "wrong_issuer",
             "wrong_secret", "no_exp", "not_access_type", "bad_sub", "not_yet_valid",
             "garbage"]


@pytest.mark.parametrize("kind", BAD_KINDS)
async def test_bad_tokens_are_401_problem(client: httpx.AsyncClient, settings: Settings,
                                          kind: str) -> None:
    owner = await make_workspace(client)
    token, code = _bad_tokens(settings, str(owner.user_id), str(owner.tenant_id))[kind]
    for path in (USERS, "/api/v1/auth/me"):
        resp = await client.get(path, headers=bearer(token))
        assert_problem(resp, 401, code)
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_token_of_unknown_user_is_401(client: httpx.AsyncClient,
                                            settings: Settings) -> None:
    owner = await make_workspace(client)
    token = forge(settings, sub=str(uuid.uuid4()), tid=str(owner.tenant_id))
    assert_problem(await client.get(USERS, headers=bearer(token)), 401, "USER_INACTIVE")


async def test_token_for_user_claiming_another_workspace_sees_nothing(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """A (validly signed) token whose tid does not match the user's workspace: RLS hides
    the user row, so the request is refused rather than served in the other workspace."""
    a = await make_workspace(client)
    b = await make_workspace(client)
    token = forge(settings, sub=str(a.user_id), tid=str(b.tenant_id))
    assert_problem(await client.get(USERS, headers=bearer(token)), 401)


async def test_refresh_rotates(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/auth/refresh",
                             json={"refresh_token": owner.refresh_token})
    assert resp.status_code == 200, resp.text
    pair = resp.json()
    assert pair["refresh_token"] != owner.refresh_token
    assert pair["token_type"] == "bearer"
    assert claims_of(owner)["sub"] == jwt.decode(
        pair["access_token"], options={"verify_signature": False})["sub"]
    me = await client.get("/api/v1/auth/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    again = await client.post("/api/v1/auth/refresh",
                              json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200, again.text


async def test_refresh_reuse_revokes_the_whole_family(client: httpx.AsyncClient,
                                                      db: Database) -> None:
    owner = await make_workspace(client)
    other_session = await login(client, owner.email)  # another family: must survive
    first = owner.refresh_token
    second = (await client.post("/api/v1/auth/refresh",
                                json={"refresh_token": first})).json()["refresh_token"]
    third = (await client.post("/api/v1/auth/refresh",
                               json={"refresh_token": second})).json()["refresh_token"]

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert_problem(reused, 401, "REFRESH_TOKEN_REUSED")
    # The newest token of the family is dead too, and stays dead.
    newest = await client.post("/api/v1/auth/refresh", json={"refresh_token": third})
    assert_problem(newest, 401, "INVALID_REFRESH_TOKEN")
    assert await scalar(db, None, "SELECT count(*) FROM refresh_tokens WHERE user_id = :u "
                        "AND revoked_at IS NULL", u=owner.user_id) == 1
    survivor = await client.post("/api/v1/auth/refresh",
                                 json={"refresh_token": other_session["refresh_token"]})
    assert survivor.status_code == 200, survivor.text


async def test_refresh_bad_input(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": "made-up"}),
                   401, "INVALID_REFRESH_TOKEN")
    assert_problem(await client.post("/api/v1/auth/refresh", json={}), 422, "VALIDATION_ERROR")
    assert_problem(await client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": "x", "user_id": "y"}), 422)


async def test_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    resp = await client.post("/api/v1/auth/refresh",
                             json={"refresh_token": owner.access_token})
    assert_problem(resp, 401, "INVALID_REFRESH_TOKEN")


async def test_expired_refresh_token(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    await execute(db, None, "UPDATE refresh_tokens SET expires_at = now() - interval "
                  "'1 minute' WHERE user_id = :u", u=owner.user_id)
    resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert_problem(resp, 401, "REFRESH_TOKEN_EXPIRED")


async def test_refresh_tokens_are_stored_hashed(client: httpx.AsyncClient, db: Database) -> None:
    owner = await make_workspace(client)
    stored = await scalar(db, None, "SELECT token_hash FROM refresh_tokens WHERE user_id = :u",
                          u=owner.user_id)
    assert stored and stored != owner.refresh_token
    assert owner.refresh_token not in stored


async def test_logout_revokes_the_given_session_only(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await login(client, owner.email)
    resp = await client.post("/api/v1/auth/logout", headers=owner.headers,
                             json={"refresh_token": owner.refresh_token})
    assert resp.status_code == 204, resp.text
    assert_problem(await client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": owner.refresh_token}),
                   401, "INVALID_REFRESH_TOKEN")
    ok = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert ok.status_code == 200


async def test_logout_without_body_revokes_every_session(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    other = await login(client, owner.email)
    assert (await client.post("/api/v1/auth/logout", headers=owner.headers)).status_code == 204
    for token in (owner.refresh_token, other["refresh_token"]):
        assert_problem(await client.post("/api/v1/auth/refresh", json={"refresh_token": token}),
                       401, "INVALID_REFRESH_TOKEN")


async def test_logout_cannot_revoke_someone_elses_session(client: httpx.AsyncClient) -> None:
    a = await make_workspace(client)
    b = await make_workspace(client)
    resp = await client.post("/api/v1/auth/logout", headers=a.headers,
                             json={"refresh_token": b.refresh_token})
    assert resp.status_code == 204
    ok = await client.post("/api/v1/auth/refresh", json={"refresh_token": b.refresh_token})
    assert ok.status_code == 200, ok.text


async def test_logout_needs_authentication(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/logout"), 401, "AUTH_REQUIRED")


async def test_rate_limit_headers_on_authenticated_responses(client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    first = await client.get(USERS, headers=owner.headers)
    second = await client.get(USERS, headers=owner.headers)
    for resp in (first, second):
        assert resp.headers["ratelimit-limit"] == "100000"
        assert 0 <= int(resp.headers["ratelimit-reset"]) <= 60
    assert int(second.headers["ratelimit-remaining"]) == int(
        first.headers["ratelimit-remaining"]) - 1
    # Unauthenticated answers carry none.
    assert "ratelimit-limit" not in (await client.get(USERS)).headers


async def test_api_rate_limit_429_with_retry_after(tmp_path: Path, db: Database,
                                                   client: httpx.AsyncClient) -> None:
    owner = await make_workspace(client)
    async with client_with(tmp_path, db, rate_limit="3/hour") as c:
        for remaining in (2, 1, 0):
            resp = await c.get(USERS, headers=owner.headers)
            assert resp.status_code == 200
            assert resp.headers["ratelimit-limit"] == "3"
            assert resp.headers["ratelimit-remaining"] == str(remaining)
        blocked = await c.get(USERS, headers=owner.headers)
        assert_problem(blocked, 429, "RATE_LIMITED")
        assert 1 <= int(blocked.headers["retry-after"]) <= 3600
        assert blocked.headers["ratelimit-remaining"] == "0"


def test_verified_token_cache_still_expires(settings: Settings) -> None:
    """A verified token is remembered (no second signature check), but only until its
    expiry: afterwards it is refused like any expired token."""
    from leadbase.auth.security import decode_access_token
    from leadbase.kit.errors import Unauthorized

    token = forge(settings, exp=int(time.time()) + 1)
    args = {"secret": settings.secret_key or "", "audience": settings.jwt_audience,
            "issuer": settings.jwt_issuer}
    first = decode_access_token(token, **args)
    assert decode_access_token(token, **args) is first  # served from the cache
    with pytest.raises(Unauthorized):  # same token, another secret: not a cache hit
        decode_access_token(token, **{**args, "secret": "another-secret-" + "y" * 40})
    time.sleep(1.2)
    with pytest.raises(Unauthorized) as caught:
        decode_access_token(token, **args)
    assert caught.value.code == "TOKEN_EXPIRED"
