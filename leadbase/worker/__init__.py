"""Background work on procrastinate (jobs live in the same PostgreSQL)."""
