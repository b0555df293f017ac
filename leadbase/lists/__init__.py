"""Lead lists (each with its own field schema)."""
