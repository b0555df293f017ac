"""Listings (what a lead is interested in: a vehicle, a property, a product…) and the
links between leads and listings."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned, UserData

LISTING_KINDS = ("vehicle", "property", "product", "service", "other")
LISTING_STATUSES = ("available", "reserved", "sold", "archived")

LIVE = text("deleted_at IS NULL")
# q= over title, reference, make and model (the leads' lb_search_text: lower, unaccented).
SEARCH_TEXT = ("lb_search_text(title, reference, attributes ->> 'make', "
               "attributes ->> 'model', NULL)")


class Listing(Base, TenantOwned, UserData):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("kind IN ('vehicle', 'property', 'product', 'service', 'other')",
                        name="kind"),
        CheckConstraint("status IN ('available', 'reserved', 'sold', 'archived')",
                        name="status"),
        Index("ix_listings_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC"), postgresql_where=LIVE),
        Index("ix_listings_tenant_kind_status", "tenant_id", "kind", "status",
              postgresql_where=LIVE),
        Index("ix_listings_tenant_reference", "tenant_id", "reference", postgresql_where=LIVE),
        Index("ix_listings_tenant_search", "tenant_id", text("search_text gin_trgm_ops"),
              postgresql_using="gin", postgresql_where=LIVE),
        Index("ix_listings_tenant_price", "tenant_id", "price", "id", postgresql_where=LIVE),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="available")
    price: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)
    # The kind's typed attributes (vehicle: make, model, year, trim, mileage, vin,
    # condition, location; property: type, operation, bedrooms, …), validated per kind.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False,
                                                      server_default="{}")
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT, persisted=True))


class LeadListing(Base, TenantOwned):
    """A lead's interest in a listing."""

    __tablename__ = "lead_listings"
    __table_args__ = (
        Index("uq_lead_listings_tenant_pair", "tenant_id", "lead_id", "listing_id",
              unique=True),
        Index("ix_lead_listings_tenant_listing", "tenant_id", "listing_id",
              text("created_at DESC"), text("id DESC")),
        Index("ix_lead_listings_tenant_lead", "tenant_id", "lead_id",
              text("created_at DESC"), text("id DESC")),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), nullable=False
    )
    listing_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("listings.id", ondelete="CASCADE"), nullable=False
    )
    interest: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
