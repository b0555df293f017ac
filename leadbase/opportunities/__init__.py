"""Opportunities (deals): create, read, list, change, stage moves, close and reopen."""
