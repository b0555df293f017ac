"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from leadbase.models.audit import AuditEntry, Event, IdempotencyKey
from leadbase.models.leads import Lead, LeadList
from leadbase.models.tenancy import ApiKey, RefreshToken, Tenant, User

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Event",
    "IdempotencyKey",
    "Lead",
    "LeadList",
    "RefreshToken",
    "Tenant",
    "User",
]
