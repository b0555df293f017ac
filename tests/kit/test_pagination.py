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
