"""Bodies of the vehicle-leads profile in the document's names (camelCase, UUIDs) and
with its limits (action 200, targetName 200, targetInfo 500, tag 100, note 1000
characters). Unknown keys are ignored; ``targetInfo`` is kept (and answered) exactly as
sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from leadbase.listings.attributes import VIN
from leadbase.listings.schemas import MAX_PRICE, Currency

LeadStatus = Literal["NEW", "COMPLETED", "NOT_NEEDED"]
CarStatus = Literal["AVAILABLE", "RESERVED", "SOLD", "ARCHIVED"]
ORDER_MAX = 1_000_000_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Action = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
TargetName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
TargetInfo = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]
Tag = Annotated[str, Field(max_length=100)]
Note = Annotated[str, Field(max_length=1000)]
Order = Annotated[int, Field(ge=-ORDER_MAX, le=ORDER_MAX, strict=True)]
# UTC with a Z, as the document's "2024-01-15T10:30:00Z".
Moment = Annotated[datetime, PlainSerializer(
    lambda d: d.isoformat().replace("+00:00", "Z"), return_type=str, when_used="json")]
Money = Annotated[Decimal, PlainSerializer(
    lambda d: int(d) if d == d.to_integral_value() else float(d), return_type=float,
    when_used="json")]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel,
                              populate_by_name=True)


class LeadCreate(Body):
    action: Action
    target_name: TargetName
    target_info: TargetInfo
    tag: Tag | None = None
    note: Note | None = None
    status: LeadStatus = "NEW"
    order: Order = 0


class LeadUpdate(Body):
    """Every attribute optional; only those sent change (``tag`` and ``note`` may be
    cleared with null)."""

    action: Action | None = None
    target_name: TargetName | None = None
    target_info: TargetInfo | None = None
    tag: Tag | None = None
    note: Note | None = None
    status: LeadStatus | None = None
    order: Order | None = None


class OrderUpdate(Body):
    order: Order


class LeadOrder(Body):
    id: str = Field(max_length=100)
    order: Order


class Reorder(Body):
    lead_orders: list[LeadOrder] = Field(max_length=1000)


class Done(BaseModel):
    success: bool = True
    message: str


class CarSummary(Body):
    id: uuid.UUID
    make: str | None
    model: str | None
    overview_year: int | None
    location: str | None


class LeadOut(Body):
    id: uuid.UUID
    car_id: uuid.UUID | None
    status: LeadStatus
    action: str
    target_name: str
    target_info: str
    tag: str | None
    note: str | None
    order: int
    created_at: Moment
    updated_at: Moment


class LeadListed(LeadOut):
    car: CarSummary | None


Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, decimal_places=2)]


class _CarFields(Body):
    location: str | None = Field(default=None, max_length=200)
    trim: str | None = Field(default=None, max_length=100)
    mileage: int | None = Field(default=None, ge=0, le=10_000_000)
    vin: VIN | None = None
    condition: Literal["new", "used", "certified"] | None = None
    price: Price | None = None
    currency: Currency | None = None
    status: CarStatus | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    reference: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)


class CarCreate(_CarFields):
    make: str = Field(min_length=1, max_length=100)
    model: str = Field(min_length=1, max_length=100)
    overview_year: int = Field(ge=1886)


class CarUpdate(_CarFields):
    make: str | None = Field(default=None, min_length=1, max_length=100)
    model: str | None = Field(default=None, min_length=1, max_length=100)
    overview_year: int | None = Field(default=None, ge=1886)


class CarOut(Body):
    id: uuid.UUID
    make: str | None
    model: str | None
    overview_year: int | None
    location: str | None
    trim: str | None
    mileage: int | None
    vin: str | None
    condition: str | None
    price: Money | None
    currency: str | None
    status: CarStatus
    title: str
    reference: str | None
    description: str | None
    created_at: Moment
    updated_at: Moment
