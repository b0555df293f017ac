"""Custom fields for leads: definitions, value checks and validation rules."""
