"""Leadbase: a self-hosted, multi-tenant lead-management server."""

__version__ = "0.1.0"
