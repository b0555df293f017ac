"""Compatibility profiles: published lead APIs served path for path over the services."""

from __future__ import annotations

from fastapi import FastAPI


def mount_profiles(app: FastAPI) -> None:
    """Mount every profile under its prefix (and ``LEADBASE_ROOT_PROFILE`` at ``/``)."""
