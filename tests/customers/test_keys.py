"""The match keys of customers."""

from __future__ import annotations

import pytest

from leadbase.customers import keys


@pytest.mark.parametrize(("name", "key"), [
    ("Acme", "acme"), ("ACME, Inc.", "acme"), ("  acme   inc ", "acme"),
    ("Société Générale S.A.", "societe generale"), ("McDonald's Corp", "mcdonalds"),
    ("Grupo Bimbo, S.A.", "grupo bimbo"), ("Inc", "inc"),
    ("The Co-operative Bank plc", "the co operative bank"), ("!!!", ""),
    ("Ｆｕｌｌ　Ｗｉｄｔｈ", "full width"),
])
def test_name_key(name: str, key: str) -> None:
    assert keys.name_key(name) == key


def test_domains() -> None:
    assert keys.email_domain("Bo@Acme.IO", None) == "acme.io"
    assert keys.email_domain(None, "https://www.acme.io/about") == "acme.io"
    assert keys.email_domain(None, "acme.io") == "acme.io"
    assert keys.email_domain(None, "localhost") is None
    assert keys.email_domain("bo@acme.io", "other.example") == "acme.io"
    assert keys.matchable_domain("gmail.com") is None
    assert keys.matchable_domain("acme.io") == "acme.io"
    assert keys.matchable_domain(None) is None
