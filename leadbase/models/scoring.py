"""Scoring: the versions of a workspace's scoring model, its scoring jobs, the queue of
leads to rescore, predictive models and the leads' predictions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from leadbase.db.base import Base, TenantOwned
from leadbase.models.exports import JobState


class ScoringModel(Base, TenantOwned):
    """One version of a workspace's scoring model; every change is a new row (``version``
    counts from 1 per workspace), the highest is in force."""

    __tablename__ = "scoring_models"
    __table_args__ = (
        Index("uq_scoring_models_tenant_number", "tenant_id", "number", unique=True),
        Index("uq_scoring_models_tenant_version", "tenant_id", text("version DESC"),
              unique=True),
    )

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"name", "condition" (rules.Rule.to_json()), "points"}]
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False,
                                                       server_default="[]")
    # null, {"mode": "half_life", "half_life_days"} or {"mode": "per_day", "points_per_day"}
    decay: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    hot: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    warm: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class ScoringJob(Base, TenantOwned, JobState):
    """A background scoring run: recalculating every score (asked, or the daily decay),
    predicting every lead's conversion, or training a predictive model."""

    __tablename__ = "scoring_jobs"
    __table_args__ = (
        Index("uq_scoring_jobs_tenant_number", "tenant_id", "number", unique=True),
        Index("ix_scoring_jobs_tenant_created", "tenant_id", text("created_at DESC"),
              text("id DESC")),
    )

    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # recalculate|decay|predict|train
    actor: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    model_version: Mapped[int | None] = mapped_column(Integer)
    predictor_version: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int | None] = mapped_column(BigInteger)
    processed: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    changed: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    temperature_changed: Mapped[int] = mapped_column(BigInteger, nullable=False,
                                                     server_default="0")
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


class ScoreQueue(Base):
    """Leads whose score an event may have changed, waiting for the worker's rescore (one
    row per lead: many events of one lead between two runs are one rescore)."""

    __tablename__ = "score_queue"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                server_default=func.now())


class Predictor(Base, TenantOwned):
    """A trained logistic regression of conversion (versioned per workspace). ``features``
    holds each feature's definition with its weight; the accepted one with the highest
    version predicts."""

    __tablename__ = "scoring_predictors"
    __table_args__ = (
        Index("uq_scoring_predictors_tenant_number", "tenant_id", "number", unique=True),
        Index("uq_scoring_predictors_tenant_version", "tenant_id", text("version DESC"),
              unique=True),
    )

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False,
                                        server_default="trained")  # trained|accepted
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    intercept: Mapped[float] = mapped_column(Float, nullable=False)
    auc: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False,
                                                         server_default="[]")
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class LeadPrediction(Base):
    """A lead's predicted conversion (0-1) and the factors that weighed most."""

    __tablename__ = "lead_predictions"
    __table_args__ = (
        Index("ix_lead_predictions_tenant_probability", "tenant_id",
              text("probability DESC")),
    )

    # The primary key is the lead alone: the cascade of a lead's purge finds its row.
    lead_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)
    predictor_version: Mapped[int] = mapped_column(Integer, nullable=False)
    probability: Mapped[float] = mapped_column(Float, nullable=False)
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False,
                                                         server_default="[]")
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                  server_default=func.now())


__all__ = ["LeadPrediction", "Predictor", "ScoreQueue", "ScoringJob", "ScoringModel"]
