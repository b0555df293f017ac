"""Tests for custom fields."""
