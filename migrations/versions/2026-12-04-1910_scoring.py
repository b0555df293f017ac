"""Scoring, explained: the versions of each workspace's scoring model, scoring jobs
(recalculation, daily decay, prediction, training) with their progress, the queue of
leads the worker rescores after events, predictive models and the leads' predicted
conversion.

``lead_predictions`` is keyed by the lead alone (with ``tenant_id`` beside it, under
row-level security): a purge's cascade finds a lead's row by its id. ``score_queue`` holds
one row per lead waiting for a rescore (no number: it is plumbing of the worker).

Revision ID: 0018
Revises: 0020
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from leadbase.db import rls

revision: str = '0018'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column('number', sa.BigInteger(), server_default=sa.FetchedValue(), nullable=False),
        sa.Column('tenant_id', sa.UUID(), sa.ForeignKey('tenants.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('id', sa.UUID(), primary_key=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    ]


def _job_state() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column('created_by', sa.UUID(), nullable=True),
        sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        'scoring_models',
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('rules', postgresql.JSONB(), server_default='[]', nullable=False),
        sa.Column('decay', postgresql.JSONB(), nullable=True),
        sa.Column('hot', sa.SmallInteger(), nullable=False),
        sa.Column('warm', sa.SmallInteger(), nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=True),
        *_common(),
    )
    op.create_index('uq_scoring_models_tenant_version', 'scoring_models',
                    ['tenant_id', sa.literal_column('version DESC')], unique=True)
    rls.protect('scoring_models')

    op.create_table(
        'scoring_jobs',
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor', postgresql.JSONB(), server_default='{}', nullable=False),
        sa.Column('model_version', sa.Integer(), nullable=True),
        sa.Column('predictor_version', sa.Integer(), nullable=True),
        sa.Column('total', sa.BigInteger(), nullable=True),
        sa.Column('processed', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('changed', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('temperature_changed', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('result', postgresql.JSONB(), server_default='{}', nullable=False),
        *_job_state(),
        *_common(),
    )
    op.create_index('ix_scoring_jobs_tenant_created', 'scoring_jobs',
                    ['tenant_id', sa.literal_column('created_at DESC'),
                     sa.literal_column('id DESC')])
    rls.protect('scoring_jobs')

    op.create_table(
        'score_queue',
        sa.Column('tenant_id', sa.UUID(), sa.ForeignKey('tenants.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('lead_id', sa.UUID(), primary_key=True),
        sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
    )
    rls.protect('score_queue', numbered=False)

    op.create_table(
        'scoring_predictors',
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), server_default='trained', nullable=False),
        sa.Column('features', postgresql.JSONB(), nullable=False),
        sa.Column('intercept', sa.Float(), nullable=False),
        sa.Column('auc', sa.Float(), nullable=True),
        sa.Column('metrics', postgresql.JSONB(), server_default='{}', nullable=False),
        sa.Column('factors', postgresql.JSONB(), server_default='[]', nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=True),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('accepted_by', sa.UUID(), nullable=True),
        *_common(),
    )
    op.create_index('uq_scoring_predictors_tenant_version', 'scoring_predictors',
                    ['tenant_id', sa.literal_column('version DESC')], unique=True)
    rls.protect('scoring_predictors')

    op.create_table(
        'lead_predictions',
        sa.Column('lead_id', sa.UUID(), sa.ForeignKey('leads.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('tenant_id', sa.UUID(), sa.ForeignKey('tenants.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('predictor_version', sa.Integer(), nullable=False),
        sa.Column('probability', sa.Float(), nullable=False),
        sa.Column('factors', postgresql.JSONB(), server_default='[]', nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
    )
    op.create_index('ix_lead_predictions_tenant_probability', 'lead_predictions',
                    ['tenant_id', sa.literal_column('probability DESC')])
    rls.protect('lead_predictions', numbered=False)


def downgrade() -> None:
    for table in ('lead_predictions', 'scoring_predictors', 'score_queue', 'scoring_jobs',
                  'scoring_models'):
        op.drop_table(table)
