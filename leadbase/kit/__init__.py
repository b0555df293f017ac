"""Shared building blocks: errors, ids, pagination, sorting, filtering, schema base."""
