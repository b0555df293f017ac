"""Checking a field definition or a validation rule before it is stored (no I/O)."""

from __future__ import annotations

import re
import unicodedata
from decimal import InvalidOperation
from typing import Any

import regex

from leadbase.fields import coerce
from leadbase.fields.checks import CHECKSUMS
from leadbase.fields.checks.masks import MaskError, mask_regex
from leadbase.fields.coerce import FieldValueError
from leadbase.fields.engine import TEXTUAL, FieldSpec, coerce_value
from leadbase.kit.errors import ValidationFailed

MAX_REGEX = 500


def invalid(field: str, message: str, code: str = "INVALID_FIELD_DEFINITION") -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", code=code,
                            errors=[{"field": field, "message": message}])


def code_from_name(name: str) -> str:
    """``"Precio unitario"`` → ``"Precio_unitario"``; accents dropped; starts with a letter."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    code = re.sub(r"[^A-Za-z0-9]+", "_", ascii_name).strip("_")
    if not code or not code[0].isalpha():
        code = f"F_{code}" if code else "Field"
    return code[:100]


def check_shape(values: dict[str, Any]) -> None:
    """Type, subtype and the attributes each type needs or refuses."""
    kind, subtype = values["type"], values.get("subtype")
    if kind == "SELECTOR":
        if subtype not in ("SELECTOR_SINGLE", "SELECTOR_MULTIPLE"):
            raise invalid("subtype", "a SELECTOR needs subtype SELECTOR_SINGLE or "
                          "SELECTOR_MULTIPLE", "SUBTYPE_REQUIRED")
        if values.get("code_list_id") is None:
            raise invalid("code_list_id", "a SELECTOR needs a code list", "CODE_LIST_REQUIRED")
    elif kind == "CHECKBOX":
        if subtype not in (None, "CHECKBOX_SINGLE", "CHECKBOX_MULTIPLE"):
            raise invalid("subtype", "a CHECKBOX takes subtype CHECKBOX_SINGLE or "
                          "CHECKBOX_MULTIPLE")
        if subtype == "CHECKBOX_MULTIPLE" and values.get("code_list_id") is None:
            raise invalid("code_list_id", "a CHECKBOX_MULTIPLE needs a code list",
                          "CODE_LIST_REQUIRED")
    elif subtype is not None:
        raise invalid("subtype", f"a {kind} field takes no subtype")
    if kind not in ("SELECTOR", "CHECKBOX") and values.get("code_list_id") is not None:
        raise invalid("code_list_id", f"a {kind} field takes no code list")
    if kind == "LEAD" and values.get("related_list_id") is None:
        raise invalid("related_list_id", "a LEAD field needs the list its leads belong to",
                      "RELATED_LIST_REQUIRED")
    if kind != "LEAD" and values.get("related_list_id") is not None:
        raise invalid("related_list_id", "only LEAD fields relate to another list")
    if kind == "CALCULATED":
        if not values.get("calculation_expression"):
            raise invalid("calculation_expression", "a CALCULATED field needs an expression",
                          "EXPRESSION_REQUIRED")
        if values.get("default_value") is not None:
            raise invalid("default_value", "a CALCULATED field has no default")
    elif values.get("calculation_expression"):
        raise invalid("calculation_expression", "only CALCULATED fields take an expression")
    mask = values.get("input_mask")
    if mask is not None:
        if kind not in TEXTUAL:
            raise invalid("input_mask", f"a {kind} field takes no input mask")
        try:
            mask_regex(mask)
        except MaskError as exc:
            raise invalid("input_mask", str(exc)) from exc


def check_default(spec: FieldSpec, region: str) -> Any:
    """The default value in its canonical form (rules apply to it too)."""
    if spec.default_value is None:
        return None
    try:
        return coerce_value(spec, spec.default_value, region=region, timezone=None)
    except FieldValueError as exc:
        raise invalid("default_value", exc.message) from exc


def check_rule_value(kind: str, value: Any) -> Any:
    """A rule's value in canonical form, or 422 naming ``value``."""
    try:
        if kind == "REGEX":
            if not isinstance(value, str) or not 0 < len(value) <= MAX_REGEX:
                raise ValueError(f"a regular expression of 1 to {MAX_REGEX} characters")
            regex.compile(value)  # the engine matches with ``regex`` (time-bounded)
            return value
        if kind in ("MIN_LENGTH", "MAX_LENGTH"):
            number = coerce.to_int(value)
            if number < 0:
                raise ValueError("a length of 0 or more")
            return number
        if kind in ("MIN_VALUE", "MAX_VALUE"):
            return coerce.decimal_text(coerce.to_decimal(value))
        if kind in ("MIN_DATE", "MAX_DATE"):
            return "today" if value == "today" else coerce.to_date(value).isoformat()
        if kind == "ONE_OF":
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
                raise ValueError("a non-empty list of values")
            return [str(v) for v in value]
        if kind == "CHECKSUM":
            if not isinstance(value, str) or value not in CHECKSUMS:
                raise ValueError(f"one of {', '.join(sorted(CHECKSUMS))}")
            return value
    except (ValueError, re.error, regex.error, InvalidOperation, FieldValueError) as exc:
        message = exc.message if isinstance(exc, FieldValueError) else str(exc)
        raise invalid("value", f"{kind} needs {message}", "INVALID_RULE") from exc
    raise invalid("type", f"unknown rule type {kind}", "INVALID_RULE")

