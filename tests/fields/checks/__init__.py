"""Tests for the value checks (checksums and input masks)."""
