"""Tasks: ordered action items about a lead."""
