"""Users of a workspace and their roles."""
