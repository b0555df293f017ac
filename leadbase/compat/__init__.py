"""Compatibility profiles: published lead APIs served path for path over the services."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

ProfileBuilder = Callable[[FastAPI], FastAPI]


def _profiles() -> dict[str, tuple[str, ProfileBuilder]]:
    """Profile name → (mount prefix, builder of its sub-application)."""
    from leadbase.compat.autos.app import PREFIX as AUTOS_PREFIX
    from leadbase.compat.autos.app import build_app as build_autos
    from leadbase.compat.crm.app import PREFIX as CRM_PREFIX
    from leadbase.compat.crm.app import build_app as build_crm
    from leadbase.compat.fields.app import PREFIX as FIELDS_PREFIX
    from leadbase.compat.fields.app import build_app as build_fields

    return {"autos": (AUTOS_PREFIX, build_autos), "fields": (FIELDS_PREFIX, build_fields),
            "crm": (CRM_PREFIX, build_crm)}


def mount_profiles(app: FastAPI) -> None:
    """Mount every profile under its prefix (and ``LEADBASE_ROOT_PROFILE`` at ``/``).

    Each profile is its own FastAPI application (own error handlers and docs) sharing
    ``app.state``. The root mount comes last: it serves only what the application's own
    routes (``/api/v1``, ``/docs``, ``/healthz``...) leave unmatched."""
    profiles = _profiles()
    for prefix, build in profiles.values():
        app.mount(prefix, build(app))
    root = app.state.settings.root_profile
    if root:
        if root.strip().lower() not in profiles:
            raise ValueError(f"LEADBASE_ROOT_PROFILE={root!r} names no profile "
                             f"(known: {', '.join(sorted(profiles))})")
        _, build = profiles[root.strip().lower()]
        app.mount("/", build(app))
