"""All SQL of the dialer, on the raw driver (``leadbase.db.raw``), always tenant-scoped
(row-level security checks the workspace again)."""

from __future__ import annotations

from typing import Any

from leadbase.leads.repository import Readable


def lead_scope(scope: Readable, alias: str = "l") -> tuple[str, dict[str, Any]]:
    """The readable set as a condition on the leads aliased ``alias`` (named
    parameters ``t`` and ``own``): an agent reaches the tasks and calls of its own leads."""
    if not scope.own:
        return f"{alias}.tenant_id = %(t)s", {"t": scope.tenant_id}
    if scope.owner_id is None:
        return "false", {"t": scope.tenant_id}
    return (f"{alias}.tenant_id = %(t)s AND {alias}.owner_id = %(own)s",
            {"t": scope.tenant_id, "own": scope.owner_id})
