"""Activities: one model for everything on a lead's timeline."""
