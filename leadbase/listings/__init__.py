"""Listings: inventory items leads are interested in."""
