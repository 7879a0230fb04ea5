"""Shared test helpers as plain modules, imported explicitly (from tests.helpers.x import y)."""
