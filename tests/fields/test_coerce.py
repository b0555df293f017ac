"""Each field type's coercion to its canonical stored form, and each rule type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadbase.fields.coerce import FieldValueError
from leadbase.fields.engine import FieldSpec, RuleSpec, apply_rule, coerce_value


def coerce(kind: str, value: Any, **spec: Any) -> Any:
    return coerce_value(FieldSpec(code="f", name="F", type=kind, **spec), value,
                        region="AR", timezone=None)


@pytest.mark.parametrize(("kind", "raw", "stored"), [
    ("STRING", "  hola ", "hola"),
    ("STRING", 42, "42"),
    ("TEXT", "línea\nlínea", "línea\nlínea"),
    ("INT", "42", 42),
    ("INT", 7, 7),
    ("INT", "7.0", 7),
    ("INT", -3, -3),
    ("DECIMAL", "12.50", "12.5"),
    ("DECIMAL", 3, "3"),
    ("DECIMAL", "1e3", "1000"),
    ("DECIMAL", "-0.0", "0"),
    ("DATE", "2026-01-31", "2026-01-31"),
    ("DATETIME", "2026-01-31T10:00:00-03:00", "2026-01-31T13:00:00Z"),
    ("DATETIME", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00Z"),
    ("BOOL", "sí", True),
    ("BOOL", "0", False),
    ("BOOL", False, False),
    ("EMAIL", "Ana@Example.COM", "ana@example.com"),
    ("PHONE", "011 4321-5678", "+541143215678"),
    ("URL", "example.com/x", "https://example.com/x"),
    ("URL", "http://example.org", "http://example.org"),
    ("LEAD", "0190d5a2-6b2e-7c1e-8a1b-2f3c4d5e6f70", "0190d5a2-6b2e-7c1e-8a1b-2f3c4d5e6f70"),
    ("CHECKBOX", "yes", True),
])
def test_canonical_forms(kind: str, raw: Any, stored: Any) -> None:
    assert coerce(kind, raw) == stored


@pytest.mark.parametrize(("kind", "raw"), [
    ("STRING", "x" * 256), ("STRING", True), ("STRING", {"a": 1}), ("INT", "4.5"),
    ("INT", "abc"), ("INT", True), ("INT", 2**60), ("DECIMAL", "1,5.2"), ("DECIMAL", "NaN"),
    ("DECIMAL", "Infinity"), ("DATE", "31/01/2026"), ("DATE", "2026-02-30"),
    ("DATETIME", "2026-01-31T10:00:00"), ("DATETIME", "tomorrow"), ("BOOL", "maybe"),
    ("EMAIL", "ana@"), ("PHONE", "12"), ("URL", "ftp://example.com"), ("URL", "nohost"),
    ("LEAD", "not-an-id"),
])
def test_refused(kind: str, raw: Any) -> None:
    with pytest.raises(FieldValueError):
        coerce(kind, raw)


def test_code_lists() -> None:
    items = frozenset({"a", "b", "c"})
    assert coerce("SELECTOR", "a", subtype="SELECTOR_SINGLE", items=items) == "a"
    assert coerce("SELECTOR", ["b", "a", "b"], subtype="SELECTOR_MULTIPLE",
                  items=items) == ["b", "a"]
    assert coerce("SELECTOR", "a, c", subtype="SELECTOR_MULTIPLE", items=items) == ["a", "c"]
    assert coerce("CHECKBOX", ["c"], subtype="CHECKBOX_MULTIPLE", items=items) == ["c"]
    for value, subtype in (("z", "SELECTOR_SINGLE"), (["a", "b"], "SELECTOR_SINGLE"),
                           (["a", "z"], "SELECTOR_MULTIPLE"), ([1.5], "SELECTOR_MULTIPLE")):
        with pytest.raises(FieldValueError):
            coerce("SELECTOR", value, subtype=subtype, items=items)


def test_masks() -> None:
    assert coerce("STRING", "ABC-123", input_mask="AAA-###") == "ABC-123"
    for bad in ("AB-1234", "ABC123", "abc-12x"):
        with pytest.raises(FieldValueError) as info:
            coerce("STRING", bad, input_mask="AAA-###")
        assert info.value.rule == "input_mask"


@pytest.mark.parametrize(("rule", "ok", "bad"), [
    (RuleSpec("REGEX", "^[A-Z]+$", "mayúsculas"), "ABC", "AbC"),
    (RuleSpec("MIN_LENGTH", 3, None), "abc", "ab"),
    (RuleSpec("MAX_LENGTH", 3, None), "abc", "abcd"),
    (RuleSpec("MIN_VALUE", "10", None), 10, 9),
    (RuleSpec("MAX_VALUE", "10.5", None), "10.5", "10.51"),
    (RuleSpec("MIN_DATE", "2020-01-01", None), "2020-01-01", "2019-12-31"),
    (RuleSpec("MAX_DATE", "today", None), datetime.now(UTC).date().isoformat(),
     (datetime.now(UTC) + timedelta(days=2)).date().isoformat()),
    (RuleSpec("ONE_OF", ["x", "y"], None), "y", "z"),
    (RuleSpec("CHECKSUM", "CUIT_ARG", None), "20-12345678-6", "20-12345678-5"),
])
def test_rules(rule: RuleSpec, ok: Any, bad: Any) -> None:
    apply_rule(rule, ok)
    with pytest.raises(FieldValueError) as info:
        apply_rule(rule, bad)
    if rule.message:
        assert info.value.message == rule.message


def test_checksum_rules_store_the_canonical_value() -> None:
    assert apply_rule(RuleSpec("CHECKSUM", "DNI_ARG", None), "30.123.456") == "30123456"
