"""Workspaces (tenants)."""
