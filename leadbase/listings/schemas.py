"""Request and response bodies for listings and lead-listing links."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, Field, PlainSerializer, field_validator

from leadbase.kit.schemas import JSONObject, Page, ReadModel, WriteModel
from leadbase.listings.attributes import LISTING_KIND

ListingStatus = Literal["available", "reserved", "sold", "archived"]
Interest = Literal["low", "medium", "high"]
MAX_PRICE = Decimal("99999999999999.99")  # numeric(16, 2)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("must be an ISO 4217 currency code (e.g. USD, EUR, MAD)")
    return code


Currency = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_currency)]
Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, decimal_places=2,
                                 description="A decimal string, e.g. \"18500.00\"")]
# Money leaves as a decimal string.
PriceOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str,
                                              when_used="json")]


class _ListingFields(WriteModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    reference: str | None = Field(default=None, max_length=100)
    price: Price | None = None
    currency: Currency | None = None
    description: str | None = Field(default=None, max_length=10_000)
    attributes: JSONObject | None = Field(
        default=None, description="Typed per kind: vehicle (make, model, year, trim, "
        "mileage, vin, condition new/used/certified, location); property (type, operation "
        "sale/rent, bedrooms, bathrooms, area, address, city); other kinds: up to 50 "
        "scalar values")

    @field_validator("reference", "description")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class ListingCreate(_ListingFields):
    kind: LISTING_KIND
    title: str = Field(min_length=1, max_length=300)
    status: ListingStatus = "available"


class ListingUpdate(_ListingFields):
    """Only what is sent changes. ``attributes`` are merged key by key into the current
    ones (a key sent as null is removed) and the result checked against the kind."""

    kind: LISTING_KIND | None = None
    status: ListingStatus | None = None


class ListingRead(ReadModel):
    id: uuid.UUID
    number: int
    kind: str
    title: str
    reference: str | None
    status: str
    price: PriceOut | None
    currency: str | None
    description: str | None
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int


class ListingPage(Page[ListingRead]):
    pass


class LeadListingCreate(WriteModel):
    listing_id: uuid.UUID
    interest: Interest | None = None
    note: str | None = Field(default=None, max_length=1000)


class LeadListingUpdate(WriteModel):
    interest: Interest | None = None
    note: str | None = Field(default=None, max_length=1000)


class LeadSummary(ReadModel):
    id: uuid.UUID
    number: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    status: str
    owner_id: uuid.UUID | None


class LeadListingRead(ReadModel):
    """A lead's interest in a listing, with the listing (on a lead's list) or the lead (on
    a listing's list)."""

    id: uuid.UUID
    lead_id: uuid.UUID
    listing_id: uuid.UUID
    interest: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    listing: ListingRead | None = None
    lead: LeadSummary | None = None


class LeadListingPage(Page[LeadListingRead]):
    pass
