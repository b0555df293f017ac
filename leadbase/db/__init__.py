"""Database access: engines, sessions, tenant scoping, the embedded server."""
