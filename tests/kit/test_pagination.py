"""Cursors round-trip any sort value and refuse tampering."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.kit.errors import ValidationFailed
from leadbase.kit.pagination import decode_cursor, encode_cursor

values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=50),
    st.datetimes(timezones=st.just(UTC)), st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)


@given(st.lists(values, max_size=4))
def test_cursor_round_trip(items: list[object]) -> None:
    assert decode_cursor(encode_cursor("-created_at,-id", items), "-created_at,-id") == items


def test_cursor_is_bound_to_its_sort() -> None:
    cursor = encode_cursor("-created_at,-id", [datetime.now(UTC), uuid.uuid4()])
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, "name,id")


@pytest.mark.parametrize("bad", ["", "x", "!!!", "e30", encode_cursor("k", [Decimal(1)])[:-3]])
def test_garbage_cursor(bad: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        decode_cursor(bad, "k")
    assert info.value.code == "INVALID_CURSOR"


# -- signed cursors (issue 17, point 4) ------------------------------------------------

def _hand_made(payload: dict[str, object]) -> str:
    import base64

    import orjson

    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def test_a_hand_made_or_altered_cursor_is_refused() -> None:
    forged = _hand_made({"k": "-created_at,-id", "v": [1, 2]})
    good = encode_cursor("-created_at,-id", [datetime.now(UTC), uuid.uuid4()])
    payload, _, signature = good.partition(".")
    other = _hand_made({"k": "-created_at,-id", "v": [{"d": "2020-01-01T00:00:00+00:00"},
                                                      {"u": str(uuid.uuid4())}]})
    for bad in (forged, f"{forged}.{signature}", f"{other}.{signature}", payload,
                f"{payload}.{signature[:-1]}", f"{payload}.{signature}x"):
        with pytest.raises(ValidationFailed) as info:
            decode_cursor(bad, "-created_at,-id")
        assert info.value.code == "INVALID_CURSOR"


def test_cursor_values_are_type_checked() -> None:
    cursor = encode_cursor("k", ["7"])
    assert decode_cursor(cursor, "k") == ["7"]
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, "k", (int,))
    with pytest.raises(ValidationFailed):
        decode_cursor(encode_cursor("k", []), "k", (int,))
    assert decode_cursor(encode_cursor("k", [3]), "k", (int,)) == [3]


def test_the_signing_key_comes_from_the_secret() -> None:
    from leadbase.kit import pagination

    try:
        pagination.configure_cursors("one secret")
        cursor = encode_cursor("k", [1])
        pagination.configure_cursors("one secret")  # another process, the same secret
        assert decode_cursor(cursor, "k") == [1]
        pagination.configure_cursors("another secret")
        with pytest.raises(ValidationFailed):
            decode_cursor(cursor, "k")
    finally:
        pagination.configure_cursors("test-secret-" + "x" * 40)  # the suite's settings


async def test_forged_cursors_answer_422_on_every_list(client) -> None:
    from tests.factories import make_lead, make_workspace

    owner = await make_workspace(client)
    for _ in range(3):
        await make_lead(client, owner)
    forged = _hand_made({"k": "-created_at,-id", "v": [1, 2]})
    # Signed (as if the key had leaked) but of the wrong types for the sort's columns.
    wrong_types = encode_cursor("-created_at,-id", [1, 2])
    for path in ("/api/v1/leads", "/api/v1/audit-log"):
        for cursor in (forged, wrong_types):
            resp = await client.get(path, headers=owner.headers, params={"cursor": cursor})
            assert resp.status_code == 422, (path, resp.text)
            assert resp.json()["code"] == "INVALID_CURSOR", resp.text
    # The cursors the API hands out still walk.
    first = (await client.get("/api/v1/leads?per_page=2", headers=owner.headers)).json()
    rest = await client.get("/api/v1/leads", headers=owner.headers,
                            params={"per_page": 2, "cursor": first["next_cursor"]})
    assert rest.status_code == 200 and len(rest.json()["data"]) == 1
