"""Scoring, explained: rule-based scores with their breakdown, decay, recalculation,
preview, and predicted conversion."""
