"""Leads: the people and companies a workspace wants to sell to."""
