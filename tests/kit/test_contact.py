"""Phone and email normalisation."""

from __future__ import annotations

import pytest

from leadbase.kit.contact import normalize_email, parse_phone
from leadbase.kit.errors import ValidationFailed


@pytest.mark.parametrize(("raw", "region", "e164", "country"), [
    ("415-555-2672", "US", "+14155552672", "US"),
    ("(415) 555-2673", "US", "+14155552673", "US"),
    ("+34 612 34 56 78", "US", "+34612345678", "ES"),
    ("011 4321-5678", "AR", "+541143215678", "AR"),
    ("+212-600-123456", "US", "+212600123456", "MA"),
])
def test_phone_to_e164(raw: str, region: str, e164: str, country: str) -> None:
    phone = parse_phone(raw, region=region)
    assert phone.e164 == e164
    assert phone.country == country


def test_time_zone_prefers_the_workspace_zone() -> None:
    assert parse_phone("+34612345678", region="ES").timezone == "Europe/Madrid"
    assert parse_phone("+14155552672", region="US").timezone == "America/Los_Angeles"


@pytest.mark.parametrize("raw", ["12345", "abc", "+999 1234", "415-555-267"])
def test_bad_phone(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_phone(raw, region="US", field="phone")
    assert info.value.errors and info.value.errors[0]["field"] == "phone"


def test_email() -> None:
    assert normalize_email("Ana.Lopez@Example.COM") == "ana.lopez@example.com"
    for bad in ("ana", "ana@", "@example.com", "a b@example.com"):
        with pytest.raises(ValidationFailed):
            normalize_email(bad)


def test_domain_checks_are_remembered_and_change_nothing() -> None:
    import importlib

    from leadbase.kit.contact import normalize_email

    module = importlib.import_module("email_validator.validate_email")
    cached = module.validate_email_domain_name
    assert hasattr(cached, "cache_info")
    before = cached.cache_info().hits
    assert normalize_email("Ana@Example.COM") == "ana@example.com"
    assert normalize_email("ben@example.com") == "ben@example.com"
    assert cached.cache_info().hits > before
    assert normalize_email("josé@ñandú.com.ar") == "josé@ñandú.com.ar"
    for bad in ("a@-bad.com", "a@bad..com", "a@" + "x" * 300 + ".com"):
        with pytest.raises(ValidationFailed):
            normalize_email(bad)
    with pytest.raises(ValidationFailed):
        normalize_email("again@-bad.com")  # failures are not remembered as successes
