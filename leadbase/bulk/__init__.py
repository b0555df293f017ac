"""Bulk operations on leads: update, delete or restore many leads, by ids or by filter."""
