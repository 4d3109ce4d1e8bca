"""Helpers shared by unit and acceptance tests."""
