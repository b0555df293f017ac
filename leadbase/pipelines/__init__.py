"""Pipelines and stages: where a lead (or, later, a deal) stands, with its history."""
