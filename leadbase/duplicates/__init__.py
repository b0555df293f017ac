"""Duplicate leads: candidates of one lead, the workspace's duplicate groups (a scan
job), and merge/unmerge (``leadbase.duplicates.merge``)."""
