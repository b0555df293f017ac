"""The typed attributes of a listing, one model per kind, and the VIN check.

VIN: 17 characters of ``0-9A-Z`` without ``I``, ``O`` and ``Q`` (vininfo parses it). The
check digit (position 9) is verified for North American VINs only: those whose WMI
(first character ``1``-``5``) is assigned to North America, where the check digit is
mandatory (49 CFR 565). Elsewhere position 9 is the maker's own (European and most Asian
makers do not compute it), so a VIN from another region is checked for its form only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from vininfo import Vin
from vininfo.exceptions import ValidationError as VinValidationError

LISTING_KIND = Literal["vehicle", "property", "product", "service", "other"]

# North America's WMI regions: the first character of the VIN.
CHECK_DIGIT_REGIONS = frozenset("12345")


def check_vin(value: str) -> str:
    """The VIN in capitals, or ``ValueError`` saying what is wrong with it."""
    vin = value.strip().upper()
    if len(vin) != 17:
        raise ValueError("a VIN has 17 characters")
    try:
        parsed = Vin(vin)
    except VinValidationError as exc:
        raise ValueError("a VIN has only the characters 0-9 and A-Z without I, O and Q") \
            from exc
    if vin[0] in CHECK_DIGIT_REGIONS and not parsed.verify_checksum(check_year=False):
        raise ValueError("the VIN's check digit (9th character) does not match")
    return vin


VIN = Annotated[str, Field(min_length=17, max_length=17), AfterValidator(check_vin)]


def _max_year() -> int:
    return datetime.now(UTC).year + 2


def _year(value: int) -> int:
    if value > _max_year():
        raise ValueError(f"must be at most {_max_year()}")
    return value


class _Attributes(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VehicleAttributes(_Attributes):
    make: str | None = Field(default=None, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    year: Annotated[int, Field(ge=1886), AfterValidator(_year)] | None = None
    trim: str | None = Field(default=None, max_length=100)
    mileage: int | None = Field(default=None, ge=0, le=10_000_000)
    vin: VIN | None = None
    condition: Literal["new", "used", "certified"] | None = None
    location: str | None = Field(default=None, max_length=200)


class PropertyAttributes(_Attributes):
    type: Literal["house", "apartment", "condo", "townhouse", "land", "commercial",
                  "office", "industrial", "other"] | None = None
    operation: Literal["sale", "rent"] | None = None
    bedrooms: int | None = Field(default=None, ge=0, le=1000)
    bathrooms: Decimal | None = Field(default=None, ge=0, le=1000, decimal_places=1)
    area: Decimal | None = Field(default=None, gt=0, le=Decimal("1e9"), decimal_places=2,
                                 description="Square metres")
    address: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)


# Free attributes (product, service, other): a flat object of scalars, bounded.
MAX_FREE_KEYS = 50
MAX_FREE_KEY = 64
MAX_FREE_TEXT = 1000
MAX_FREE_BYTES = 8 * 1024


def _free(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_FREE_KEYS:
        raise ValueError(f"at most {MAX_FREE_KEYS} attributes")
    for key, item in value.items():
        if not 1 <= len(key) <= MAX_FREE_KEY:
            raise ValueError(f"attribute names have 1 to {MAX_FREE_KEY} characters")
        if isinstance(item, str) and len(item) > MAX_FREE_TEXT:
            raise ValueError(f"'{key}' is longer than {MAX_FREE_TEXT} characters")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(f"'{key}' must be a string, number, boolean or null")
    if len(orjson.dumps(value)) > MAX_FREE_BYTES:
        raise ValueError(f"larger than {MAX_FREE_BYTES // 1024} KiB as JSON")
    return value


class FreeAttributes(BaseModel):
    values: Annotated[dict[str, Any], AfterValidator(_free)]


MODELS: dict[str, type[_Attributes]] = {"vehicle": VehicleAttributes,
                                        "property": PropertyAttributes}


def validate(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The attributes of a listing of ``kind``, checked and as stored (JSON values, the
    unset ones left out). Raises pydantic's ``ValidationError`` (its locations start
    at the attribute's name)."""
    model = MODELS.get(kind)
    if model is None:
        checked = FreeAttributes.model_validate({"values": attributes}).values
        return {k: v for k, v in checked.items() if v is not None}
    return model.model_validate(attributes).model_dump(mode="json", exclude_none=True)


def errors_of(exc: ValidationError, prefix: str = "attributes") -> list[dict[str, Any]]:
    """``[{field, message}]`` for a 422, each field under ``prefix``."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "values"]
        out.append({"field": ".".join([prefix, *loc]),
                    "message": str(err.get("msg", "invalid")).removeprefix("Value error, "),
                    "type": err.get("type")})
    return out
