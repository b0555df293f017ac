"""Input masks."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbase.fields.checks import MAX_MASK_LENGTH, MaskError, mask_regex, matches_mask


@pytest.mark.parametrize(("mask", "value"), [
    ("AAA-###", "ABC-123"),
    ("AAA-###", "abc-123"),
    ("AA ### AA", "AB 123 CD"),
    ("(###) ###-####", "(415) 555-2671"),
    ("***-***", "a1B-2c3"),
    ("#.#", "1.5"),
    ("+## [A]", "+54 [x]"),
    ("$^\\|?", "$^\\|?"),
])
def test_matches(mask: str, value: str) -> None:
    assert matches_mask(mask, value)


@pytest.mark.parametrize(("mask", "value"), [
    ("AAA-###", "AB-1234"),
    ("AAA-###", "ABC123"),
    ("AAA-###", "ABC-1234"),
    ("AAA-###", "ABC-12"),
    ("AAA-###", "XABC-123"),
    ("AAA-###", "ABC-123\n"),  # "$" would accept a trailing newline
    ("AAA-###", "ABC_123"),
    ("AAA-###", "1BC-123"),
    ("AAA-###", "ÁBC-123"),
    ("AAA-###", "\u212aBC-123"),  # Kelvin sign: folds to "k" under re.IGNORECASE
    ("AAA-###", "ABC-١٢٣"),  # Arabic-Indic digits match \\d, not #
    ("#.#", "1x5"),  # the dot is literal, not "any character"
    ("***", "a-1"),
    ("***", "ab"),
    ("(###)", "415"),
])
def test_does_not_match(mask: str, value: str) -> None:
    assert not matches_mask(mask, value)


def test_pattern_is_anchored_for_any_use() -> None:
    pattern = mask_regex("##")
    assert pattern.search("a12b") is None
    assert pattern.match("123") is None
    assert pattern.match("12") is not None
    assert pattern.match("12\n") is None  # "$" would match before a final newline
    assert pattern.search("12\n") is None


def test_compiled_once() -> None:
    mask_regex("AAA-###-cached")
    hits = mask_regex.cache_info().hits
    assert mask_regex("AAA-###-cached") is mask_regex("AAA-###-cached")
    assert mask_regex.cache_info().hits == hits + 2
    assert isinstance(mask_regex("#"), re.Pattern)


@pytest.mark.parametrize(("mask", "message"), [
    ("", "must not be empty"),
    ("#" * (MAX_MASK_LENGTH + 1), "at most 100 characters"),
    (None, "must be text"),
])
def test_bad_masks(mask: str, message: str) -> None:
    with pytest.raises(MaskError, match=message) as info:
        matches_mask(mask, "1")
    assert isinstance(info.value, ValueError)


def test_longest_mask_is_allowed() -> None:
    assert matches_mask("#" * MAX_MASK_LENGTH, "7" * MAX_MASK_LENGTH)


MASK_CHARS = st.sampled_from(["#", "A", "*", "-", " ", ".", "(", ")", "/", "+", "[", "?"])


@given(st.lists(MASK_CHARS, min_size=1, max_size=30), st.randoms(use_true_random=False))
def test_generated_values_match(chars: list[str], rnd: random.Random) -> None:
    """A value built from the mask matches; changing one placeholder to a wrong kind does not."""
    mask = "".join(chars)
    fill = {"#": "0123456789", "A": "abcXYZ", "*": "a9Z"}
    value = [rnd.choice(fill[c]) if c in fill else c for c in chars]
    assert matches_mask(mask, "".join(value))
    wrong = {"#": "x", "A": "5", "*": "_"}
    for i, char in enumerate(chars):
        if char in wrong:
            broken = [*value[:i], wrong[char], *value[i + 1:]]
            assert not matches_mask(mask, "".join(broken))
    assert not matches_mask(mask, "".join(value) + "0")
